import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ResolvedProbe } from '@wharf/types';
import type { Engine, ExecResult } from '../docker/engine.js';
import { ManualClock, settle } from '../testing/manual-clock.js';
import { Prober, type LivenessFailure } from './prober.js';

const REF = 't/app/1';
const probe = (over: Partial<ResolvedProbe> = {}): ResolvedProbe =>
  ({ kind: 'exec', command: ['check'], initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over }) as ResolvedProbe;

/** An engine whose exec answers from `answer` (per container ID); `hang` holds answers until released. */
function setup(opts: { concurrency?: number; bornOffsetMs?: number } = {}) {
  const clock = new ManualClock();
  const answers = new Map<string, boolean>();
  const execs: { id: string; cmd: string[] }[] = [];
  let hang: Promise<void> | undefined;
  let release = (): void => undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const engine = {
    exec: async (id: string, cmd: string[]): Promise<ExecResult> => {
      execs.push({ id, cmd });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (hang) await hang;
      inFlight--;
      const ok = answers.get(id) ?? true;
      return { exitCode: ok ? 0 : 1, output: ok ? '' : `${id} says no` };
    },
  } as unknown as Engine;
  const changes: string[] = [];
  const failures: LivenessFailure[] = [];
  const prober = new Prober({ engine, log: pino({ level: 'silent' }), clock, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}), onChange: (ref) => changes.push(ref), onLivenessFailure: (_ref, f) => failures.push(f) });
  const at = (offsetMs: number): string => new Date(clock.now() + offsetMs).toISOString();
  return {
    clock, answers, execs, changes, failures, prober, at,
    hold: () => {
      hang = new Promise((r) => (release = r));
    },
    letGo: async () => {
      hang = undefined;
      release();
      await settle();
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

test('prober: initial delay from StartedAt, period, readiness flips after successThreshold and back after failureThreshold', async () => {
  const s = setup();
  const startedAt = s.at(0);
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt, readiness: probe({ initialDelaySeconds: 5, periodSeconds: 2, successThreshold: 2, failureThreshold: 2 }) }]);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: false });
  await s.clock.advance(4_999);
  assert.equal(s.execs.length, 0, 'not before the initial delay');
  await s.clock.advance(1);
  assert.equal(s.execs.length, 1);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: false }, 'one success of two');
  await s.clock.advance(2_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: true });
  assert.deepEqual(s.changes, [REF]);
  s.answers.set('web', false);
  await s.clock.advance(2_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: true }, 'one failure of two');
  await s.clock.advance(2_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: false });
  assert.deepEqual(s.changes, [REF, REF]);
  assert.equal(s.execs.length, 4);
  assert.equal(s.prober.verdict('web', 'another start'), undefined, 'another run of the container has no verdict here');
});

test('prober: liveness failing failureThreshold times in a row is reported once per streak, with its output', async () => {
  const s = setup();
  const startedAt = s.at(0);
  s.answers.set('web', false);
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt, liveness: probe() }]);
  await s.clock.advance(0);
  await s.clock.advance(1_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { healthy: true }, 'two failures of three');
  assert.equal(s.failures.length, 0);
  await s.clock.advance(1_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { healthy: false });
  assert.deepEqual(s.failures, [{ name: 'web', id: 'web', startedAt, message: 'liveness probe failed 3 times: web says no' }]);
  assert.deepEqual(s.changes, [REF]);
  await s.clock.advance(1_000);
  assert.equal(s.failures.length, 1, 'not again at the next failure');
  s.answers.set('web', true);
  await s.clock.advance(1_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { healthy: true });
});

test('prober: a run that takes longer than the period is never overlapped; runs share the concurrency limit', async () => {
  const s = setup({ concurrency: 2 });
  s.hold();
  const startedAt = s.at(0);
  s.prober.sync(REF, 'infra', ['a', 'b', 'c', 'd'].map((id) => ({ name: id, id, startedAt, readiness: probe() })));
  await s.clock.advance(5_000);
  assert.equal(s.execs.length, 2, 'two at once, the others wait; nobody starts a second run');
  assert.equal(s.maxInFlight, 2);
  await s.letGo();
  assert.equal(s.execs.length, 4, 'the waiting ones ran after');
  // Late by 4 s: each runs once at once, then on its period again.
  await s.clock.advance(999);
  assert.equal(s.execs.length, 8);
  await s.clock.advance(1);
  assert.equal(s.execs.length, 12);
  assert.equal(s.maxInFlight, 2);
});

test('prober: http and tcp run in the infra container; without a running infra container there is no result', async () => {
  const s = setup();
  const startedAt = s.at(0);
  s.prober.sync(REF, 'infra-1', [{ name: 'web', id: 'web', startedAt, readiness: { ...probe(), kind: 'http', port: 80, path: '/' }, liveness: { ...probe(), kind: 'tcp', port: 81 } }]);
  await s.clock.advance(0);
  assert.deepEqual(s.execs.map((e) => [e.id, e.cmd[2]]).sort(), [['infra-1', 'nc'], ['infra-1', 'wget']]);
  assert.deepEqual(s.prober.verdict('web', startedAt), { healthy: true, ready: true });
  s.prober.sync(REF, undefined, [{ name: 'web', id: 'web', startedAt, readiness: { ...probe(), kind: 'http', port: 80, path: '/' } }]);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: false }, 'a changed probe starts afresh');
  await s.clock.advance(3_000);
  assert.deepEqual(s.prober.verdict('web', startedAt), { ready: false });
});

test('prober: a new start, a stop and forget end the watch and its timers', async () => {
  const s = setup();
  const first = s.at(0);
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt: first, readiness: probe() }]);
  await s.clock.advance(0);
  assert.deepEqual(s.prober.verdict('web', first), { ready: true });
  const second = s.at(10);
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt: second, readiness: probe({ initialDelaySeconds: 3 }) }]);
  assert.equal(s.prober.verdict('web', first), undefined);
  assert.deepEqual(s.prober.verdict('web', second), { ready: false }, 'a restarted container is not ready until its probe passes again');
  s.prober.sync(REF, 'infra', []);
  assert.equal(s.clock.pending, 0);
  assert.equal(s.prober.verdict('web', second), undefined);
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt: second, readiness: probe() }]);
  s.prober.forget(REF);
  assert.equal(s.clock.pending, 0);
  const n = s.execs.length;
  await s.clock.advance(10_000);
  assert.equal(s.execs.length, n);
});

test('prober: containers that ran before the agent started are probed at once; one success counts; the first report waits for it', async () => {
  const s = setup();
  const long = new Date(s.clock.now() - 60_000).toISOString();
  const young = new Date(s.clock.now() - 1_000).toISOString();
  s.prober.sync(REF, 'infra', [
    { name: 'web', id: 'web', startedAt: long, readiness: probe({ periodSeconds: 30, successThreshold: 3 }) },
    // Still in its initial delay: probed on schedule, not waited for.
    { name: 'late', id: 'late', startedAt: young, readiness: probe({ initialDelaySeconds: 20 }) },
  ]);
  assert.equal(s.prober.awaiting(REF), true);
  let released = false;
  const first = s.prober.firstResults(REF).then(() => (released = true));
  await s.clock.advance(0);
  await first;
  assert.equal(released, true);
  assert.deepEqual(s.prober.verdict('web', long), { ready: true }, 'no flap to not-ready');
  assert.deepEqual(s.execs.map((e) => e.id), ['web']);
  assert.equal(s.prober.awaiting(REF), false);
  assert.equal(s.changes.length, 1);
});

test('prober: the wait for first results is bounded by the probe timeout', async () => {
  const s = setup();
  s.hold();
  const long = new Date(s.clock.now() - 60_000).toISOString();
  s.prober.sync(REF, 'infra', [{ name: 'web', id: 'web', startedAt: long, liveness: probe({ timeoutSeconds: 2 }) }]);
  let released = false;
  void s.prober.firstResults(REF).then(() => (released = true));
  await s.clock.advance(2_999);
  assert.equal(released, false);
  await s.clock.advance(1);
  assert.equal(released, true);
  await s.letGo();
});
