import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservedContainer } from './docker/engine.js';
import { describe as show, plan, type PlanInput, type PlannedContainer } from './plan.js';

const infra: PlannedContainer = { name: 'infra', role: 'infra', index: -1, image: 'wharf/busybox:latest', specHash: 'h-infra' };
const web: PlannedContainer = { name: 'web', role: 'business', index: 0, image: 'app:1', specHash: 'h-web' };
const db: PlannedContainer = { name: 'db', role: 'business', index: 1, image: 'db:1', specHash: 'h-db' };
const desired = [infra, web, db];

const T = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000000001Z`;

/** A running container matching its desired entry; infra started at 1 s, web at 2 s, db at 3 s. */
function obs(d: PlannedContainer, over: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `id-${d.name}`,
    dockerName: `t_app_1_${d.name}`,
    setRef: 't/app/1',
    tenant: 't',
    appkey: 'app',
    setId: '1',
    name: d.name,
    role: d.role,
    index: d.index,
    image: d.image,
    specHash: d.specHash,
    generation: 1,
    state: 'running',
    oomKilled: false,
    restartCount: 0,
    startedAt: T(d.index + 2),
    networkMode: d.role === 'infra' ? 'default' : 'container:id-infra',
    ...over,
  };
}
const allRunning = (): ObservedContainer[] => desired.map((d) => obs(d));

const cases: { name: string; input: PlanInput; want: string[] }[] = [
  {
    name: 'fresh set: images, then infra, then business in index order',
    input: { mode: 'running', desired, observed: [] },
    want: ['ensureImage wharf/busybox:latest', 'ensureImage app:1', 'ensureImage db:1', 'create infra', 'start infra', 'create web', 'start web', 'create db', 'start db'],
  },
  {
    name: 'everything running with equal hashes: nothing to do',
    input: { mode: 'running', desired, observed: allRunning() },
    want: [],
  },
  {
    name: 'business spec changed: only that container is recreated',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web, { specHash: 'old' }), obs(db)] },
    want: ['ensureImage app:1', 'stop web', 'remove web', 'create web', 'start web'],
  },
  {
    name: 'infra spec changed: everything is recreated, stops in reverse order',
    input: { mode: 'running', desired, observed: [obs(infra, { specHash: 'old' }), obs(web), obs(db)] },
    want: [
      'ensureImage wharf/busybox:latest', 'ensureImage app:1', 'ensureImage db:1',
      'stop db', 'remove db', 'stop web', 'remove web', 'stop infra', 'remove infra',
      'create infra', 'start infra', 'create web', 'start web', 'create db', 'start db',
    ],
  },
  {
    name: 'infra missing while business containers exist: they are recreated too',
    input: { mode: 'running', desired, observed: [obs(web), obs(db)] },
    want: [
      'ensureImage wharf/busybox:latest', 'ensureImage app:1', 'ensureImage db:1',
      'stop db', 'remove db', 'stop web', 'remove web',
      'create infra', 'start infra', 'create web', 'start web', 'create db', 'start db',
    ],
  },
  {
    name: 'an exited business container is started again',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web, { state: 'exited', exitCode: 1 }), obs(db)] },
    want: ['start web'],
  },
  {
    name: 'an exited infra container: business stopped, infra started, business restarted in order',
    input: { mode: 'running', desired, observed: [obs(infra, { state: 'exited' }), obs(web), obs(db)] },
    want: ['stop db', 'stop web', 'start infra', 'restart web', 'restart db'],
  },
  {
    name: 'a business container started before its infra container is in a stale namespace',
    input: { mode: 'running', desired, observed: [obs(infra, { startedAt: T(9) }), obs(web), obs(db, { startedAt: T(10) })] },
    want: ['stop web', 'restart web'],
  },
  {
    name: 'a business container joined to another infra container is recreated',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web, { networkMode: 'container:gone' }), obs(db)] },
    want: ['ensureImage app:1', 'stop web', 'remove web', 'create web', 'start web'],
  },
  {
    name: 'infra with platform IPs on its networks: nothing to do',
    input: {
      mode: 'running',
      desired: [{ ...infra, endpoints: { 'wharf-lan': '10.0.0.5', 'wharf-dmz': '10.1.0.5' } }, web, db],
      observed: [obs(infra, { endpoints: { 'wharf-lan': '10.0.0.5', 'wharf-dmz': '10.1.0.5' } }), obs(web), obs(db)],
    },
    want: [],
  },
  {
    name: 'infra off one of its networks (a connect lost half-way): recreated with everything',
    input: {
      mode: 'running',
      desired: [{ ...infra, endpoints: { 'wharf-lan': '10.0.0.5', 'wharf-dmz': '10.1.0.5' } }, web, db],
      observed: [obs(infra, { endpoints: { 'wharf-lan': '10.0.0.5' } }), obs(web), obs(db)],
    },
    want: [
      'ensureImage wharf/busybox:latest', 'ensureImage app:1', 'ensureImage db:1',
      'stop db', 'remove db', 'stop web', 'remove web', 'stop infra', 'remove infra',
      'create infra', 'start infra', 'create web', 'start web', 'create db', 'start db',
    ],
  },
  {
    name: 'an engine that does not report endpoints: the hash decides alone',
    input: { mode: 'running', desired: [{ ...infra, endpoints: { 'wharf-lan': '10.0.0.5' } }, web, db], observed: allRunning() },
    want: [],
  },
  {
    name: 'a dead container is recreated without a stop',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web), obs(db, { state: 'dead' })] },
    want: ['ensureImage db:1', 'remove db', 'create db', 'start db'],
  },
  {
    name: 'a container no longer in the spec is stopped and removed',
    input: { mode: 'running', desired: [infra, web], observed: allRunning() },
    want: ['stop db', 'remove db'],
  },
  {
    name: 'while Docker restarts the infra container, its business containers are left alone',
    input: { mode: 'running', desired, observed: [obs(infra, { state: 'restarting' }), obs(web, { state: 'exited' }), obs(db)] },
    want: [],
  },
  {
    name: 'restartRequestedAt after every start: stop business in reverse, restart infra, start business in order',
    input: { mode: 'running', desired, observed: allRunning(), restartRequestedAt: T(30) },
    want: ['stop db', 'stop web', 'stop infra', 'restart infra', 'restart web', 'restart db'],
  },
  {
    name: 'restartRequestedAt before every start: nothing to do (level-triggered)',
    input: { mode: 'running', desired, observed: allRunning(), restartRequestedAt: T(0) },
    want: [],
  },
  {
    name: 'restartRequestedAt between starts: the infra container is older too, so the whole set restarts',
    input: { mode: 'running', desired, observed: allRunning(), restartRequestedAt: '2026-01-01T00:00:03.5Z' },
    want: ['stop db', 'stop web', 'stop infra', 'restart infra', 'restart web', 'restart db'],
  },
  {
    name: 'restartRequestedAt compares nanoseconds: started 1 ns later is not restarted',
    input: { mode: 'running', desired, observed: allRunning(), restartRequestedAt: '2026-01-01T00:00:01Z' },
    want: [],
  },
  {
    name: 'desired stopped: business in reverse index order, then infra; nothing removed',
    input: { mode: 'stopped', desired, observed: allRunning() },
    want: ['stop db', 'stop web', 'stop infra'],
  },
  {
    name: 'desired stopped and already stopped: nothing to do; missing ones are not created',
    input: { mode: 'stopped', desired, observed: [obs(infra, { state: 'exited' }), obs(web, { state: 'exited' })] },
    want: [],
  },
  {
    name: 'desired stopped ignores restartRequestedAt',
    input: { mode: 'stopped', desired, observed: [obs(infra, { state: 'exited' })], restartRequestedAt: T(30) },
    want: [],
  },
  {
    name: 'deleting: stop business in reverse, remove all, recycle the volume',
    input: { mode: 'deleting', desired, observed: allRunning() },
    want: ['stop db', 'stop web', 'remove db', 'remove web', 'remove infra', 'recycleVolume'],
  },
  {
    name: 'orphan (set no longer desired) is removed the same way',
    input: { mode: 'deleting', desired: [], observed: [obs(infra), obs(web, { state: 'exited' }), obs(db)] },
    want: ['stop db', 'remove db', 'remove web', 'remove infra', 'recycleVolume'],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, () => {
    assert.deepEqual(plan(c.input).map(show), c.want);
  });
}

test('plan: an infra container off its networks says so', () => {
  const actions = plan({ mode: 'running', desired: [{ ...infra, endpoints: { 'wharf-lan': '10.0.0.5' } }], observed: [obs(infra, { endpoints: { 'wharf-lan': '10.0.0.9' } })] });
  assert.deepEqual(actions.filter((a) => a.kind === 'remove').map((a) => 'why' in a && a.why), ['not on its networks']);
});

test('plan: business start of an existing container carries its ID; a new one does not', () => {
  const actions = plan({ mode: 'running', desired, observed: [obs(infra), obs(web, { state: 'exited' })] });
  const starts = actions.filter((a) => a.kind === 'start');
  assert.deepEqual(starts.map((a) => [a.name, 'id' in a ? a.id : undefined]), [['web', 'id-web'], ['db', undefined]]);
});

test('plan: running the plan result again plans nothing (idempotence after a fresh start)', () => {
  const first = plan({ mode: 'running', desired, observed: [] });
  assert.ok(first.length > 0);
  // What the executor leaves behind: all running, started in order, joined to the new infra.
  assert.deepEqual(plan({ mode: 'running', desired, observed: allRunning() }), []);
});
