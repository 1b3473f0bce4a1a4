import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerState } from '@wharf/types';
import type { ObservedContainer } from './docker/engine.js';
import { containerStatus, degradedMessage, derivePhase, setReady, withVerdicts, type PhaseInput } from './status.js';
import { compareTimes, dockerTime } from './time.js';

const cs = (...states: ContainerState[]): PhaseInput['containers'] => states.map((state, i) => ({ name: `c${i}`, state }));

const cases: { name: string; input: PhaseInput; want: string }[] = [
  { name: 'all running', input: { mode: 'running', containers: cs('running', 'running'), inProgress: false, failed: false }, want: 'running' },
  { name: 'bringing up', input: { mode: 'running', containers: cs('running', 'missing'), inProgress: true, failed: false }, want: 'starting' },
  { name: 'done but one exited', input: { mode: 'running', containers: cs('running', 'exited'), inProgress: false, failed: false }, want: 'degraded' },
  { name: 'done but one restarting', input: { mode: 'running', containers: cs('running', 'restarting'), inProgress: false, failed: false }, want: 'degraded' },
  { name: 'image missing', input: { mode: 'running', containers: cs('missing', 'missing'), inProgress: false, failed: true }, want: 'failed' },
  { name: 'no containers at all', input: { mode: 'running', containers: [], inProgress: false, failed: false }, want: 'degraded' },
  { name: 'stopping', input: { mode: 'stopped', containers: cs('running', 'exited'), inProgress: true, failed: false }, want: 'stopping' },
  { name: 'stopped (created and missing count as stopped)', input: { mode: 'stopped', containers: cs('exited', 'created', 'missing'), inProgress: false, failed: false }, want: 'stopped' },
  { name: 'deleting', input: { mode: 'deleting', containers: cs('running'), inProgress: true, failed: false }, want: 'deleting' },
  { name: 'standby: infra running, business paused', input: { mode: 'standby', containers: [{ name: 'infra', role: 'infra', state: 'running' }, ...cs('paused', 'paused')], inProgress: false, failed: false }, want: 'standby' },
  { name: 'standby still starting', input: { mode: 'standby', containers: [{ name: 'infra', role: 'infra', state: 'running' }, ...cs('running', 'missing')], inProgress: true, failed: false }, want: 'starting' },
  { name: 'standby with an exited container', input: { mode: 'standby', containers: [{ name: 'infra', role: 'infra', state: 'running' }, ...cs('paused', 'exited')], inProgress: false, failed: false }, want: 'degraded' },
  { name: 'standby whose infra exited', input: { mode: 'standby', containers: [{ name: 'infra', role: 'infra', state: 'exited' }, ...cs('paused')], inProgress: false, failed: false }, want: 'degraded' },
];
for (const c of cases) {
  test(`derivePhase: ${c.name}`, () => assert.equal(derivePhase(c.input), c.want));
}

test('degradedMessage names what is down', () => {
  assert.equal(degradedMessage([{ name: 'web', state: 'exited', exitCode: 3 }, { name: 'db', state: 'running' }, { name: 'x', state: 'missing' }]), 'web is exited (exit code 3); x is missing');
  assert.equal(degradedMessage([{ name: 'db', state: 'running' }]), undefined);
});

test('containerStatus: missing container and observed container', () => {
  const d = { name: 'web', role: 'business' as const, index: 0, image: 'app:1' };
  assert.deepEqual(containerStatus(d, undefined, 'image not found'), { name: 'web', role: 'business', index: 0, image: 'app:1', state: 'missing', restartCount: 0, ready: false, message: 'image not found' });
  const s = containerStatus(d, {
    id: 'abc', dockerName: 't_app_1_web', setRef: 't/app/1', tenant: 't', appkey: 'app', setId: '1', name: 'web', role: 'business', index: 0,
    image: 'app:1', state: 'exited', exitCode: 137, oomKilled: true, restartCount: 4, startedAt: 'S', finishedAt: 'F', nanoCpus: 5e8, memory: 1024,
  });
  assert.deepEqual(s, { name: 'web', role: 'business', index: 0, image: 'app:1', state: 'exited', containerId: 'abc', exitCode: 137, oomKilled: true, restartCount: 4, ready: false, startedAt: 'S', finishedAt: 'F', nanoCpus: 5e8, memory: 1024 });
});

const observed = (over: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: 'abc', dockerName: 't_app_1_web', setRef: 't/app/1', tenant: 't', appkey: 'app', setId: '1', name: 'web', role: 'business', index: 0,
  image: 'app:1', state: 'running', oomKilled: false, restartCount: 0, startedAt: 'S', ...over,
});
const web = { name: 'web', role: 'business' as const, index: 0, image: 'app:1' };
const termination = { reason: 'Error' as const, exitCode: 1, oomKilled: false, finishedAt: 'F' };

test('containerStatus: ready and healthy follow the probes; restarts add up; termination and back-off shown', () => {
  const pick = (c: ReturnType<typeof containerStatus>) => ({ ready: c.ready, healthy: c.healthy, restartCount: c.restartCount, lastTermination: c.lastTermination, backOffUntil: c.backOffUntil });
  // No probes: ready while running.
  assert.deepEqual(pick(containerStatus(web, observed())), { ready: true, healthy: undefined, restartCount: 0, lastTermination: undefined, backOffUntil: undefined });
  // A readiness probe without a result yet: not ready; a liveness probe without one: healthy.
  assert.deepEqual(pick(containerStatus(web, observed(), undefined, { readiness: true, liveness: true })), { ready: false, healthy: true, restartCount: 0, lastTermination: undefined, backOffUntil: undefined });
  assert.deepEqual(pick(containerStatus(web, observed({ restartCount: 1 }), undefined, { readiness: true, liveness: true, verdict: { ready: true, healthy: false }, restarts: 2, lastTermination: termination })), {
    ready: true, healthy: false, restartCount: 3, lastTermination: termination, backOffUntil: undefined,
  });
  // Exited: not ready, no healthy; the back-off shows.
  assert.deepEqual(pick(containerStatus(web, observed({ state: 'exited', exitCode: 1 }), undefined, { liveness: true, verdict: { healthy: true }, restarts: 1, lastTermination: termination, backOffUntil: 'B' })), {
    ready: false, healthy: undefined, restartCount: 1, lastTermination: termination, backOffUntil: 'B',
  });
  assert.equal(containerStatus(web, undefined, undefined, { restarts: 5 }).restartCount, 5, 'kept per name while the container is missing');
});

test('withVerdicts: patches the containers the prober watches and the set readiness', () => {
  const infra = containerStatus({ name: 'infra', role: 'infra', index: -1, image: 'bb' }, observed({ id: 'i', name: 'infra', role: 'infra', index: -1 }));
  const st = { phase: 'running', containers: [infra, containerStatus(web, observed(), undefined, { readiness: true })], ready: false };
  assert.equal(setReady(st.containers), false);
  const patched = withVerdicts(st, (id, startedAt) => (id === 'abc' && startedAt === 'S' ? { ready: true } : undefined));
  assert.equal(patched.ready, true);
  assert.equal(patched.containers[1]?.ready, true);
  assert.equal(patched.containers[0], infra, 'not watched: as it was');
  assert.equal(withVerdicts(st, () => ({ ready: false, healthy: false })).containers[1]?.healthy, false);
});

test('degradedMessage prefers what a container says about itself', () => {
  assert.equal(
    degradedMessage([{ name: 'web', state: 'exited', exitCode: 0, message: 'web completed (exit code 0; restart policy never)' }, { name: 'db', state: 'exited', exitCode: 1 }]),
    'web completed (exit code 0; restart policy never); db is exited (exit code 1)',
  );
});

test('Docker times: zero time is undefined; nanoseconds order', () => {
  assert.equal(dockerTime('0001-01-01T00:00:00Z'), undefined);
  assert.ok(compareTimes('2026-01-01T00:00:00.000000001Z', '2026-01-01T00:00:00.000000002Z') < 0);
  assert.ok(compareTimes('2026-01-01T00:00:00.1Z', '2026-01-01T00:00:00.09Z') > 0);
  assert.equal(compareTimes('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'), 0);
  assert.ok(compareTimes('2026-01-01T00:00:01Z', '2026-01-01T00:00:00.999999999Z') > 0);
});
