import { describe, test } from 'node:test';
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
  {
    name: 'standby, fresh set: started in order like a running one, then its business containers paused',
    input: { mode: 'standby', desired, observed: [] },
    want: ['ensureImage wharf/busybox:latest', 'ensureImage app:1', 'ensureImage db:1', 'create infra', 'start infra', 'create web', 'start web', 'create db', 'start db', 'pause web', 'pause db'],
  },
  {
    name: 'standby, running containers: the business ones are paused, infra keeps running',
    input: { mode: 'standby', desired, observed: allRunning() },
    want: ['pause web', 'pause db'],
  },
  {
    name: 'standby, business paused: nothing to do',
    input: { mode: 'standby', desired, observed: [obs(infra), obs(web, { state: 'paused' }), obs(db, { state: 'paused' })] },
    want: [],
  },
  {
    name: 'resumed from standby (desired running): paused containers are unpaused in index order',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web, { state: 'paused' }), obs(db, { state: 'paused' })] },
    want: ['unpause web', 'unpause db'],
  },
  {
    name: 'a paused infra container is unpaused, its business containers kept',
    input: { mode: 'running', desired, observed: [obs(infra, { state: 'paused' }), obs(web), obs(db)] },
    want: ['unpause infra'],
  },
  {
    name: 'a paused container whose spec changed: unpaused before its stop',
    input: { mode: 'standby', desired, observed: [obs(infra), obs(web, { state: 'paused', specHash: 'old' }), obs(db, { state: 'paused' })] },
    want: ['ensureImage app:1', 'unpause web', 'stop web', 'remove web', 'create web', 'start web', 'pause web'],
  },
  {
    name: 'a restart requested while paused: unpaused, stopped, started',
    input: { mode: 'running', desired, observed: [obs(infra), obs(web, { state: 'paused' }), obs(db)], restartRequestedAt: T(30) },
    want: ['stop db', 'unpause web', 'stop web', 'stop infra', 'restart infra', 'restart web', 'restart db'],
  },
  {
    name: 'stopping a standby set: paused containers are unpaused before their stop',
    input: { mode: 'stopped', desired, observed: [obs(infra), obs(web, { state: 'paused' }), obs(db, { state: 'paused' })] },
    want: ['unpause db', 'stop db', 'unpause web', 'stop web', 'stop infra'],
  },
  {
    name: 'deleting a standby set: unpause, stop, remove',
    input: { mode: 'deleting', desired: [], observed: [obs(infra), obs(web, { state: 'paused' }), obs(db, { state: 'paused' })] },
    want: ['unpause db', 'stop db', 'unpause web', 'stop web', 'remove db', 'remove web', 'remove infra', 'recycleVolume'],
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

describe('plan: limits (online resize)', () => {
  const limited = (d: PlannedContainer, nanoCpus: number, memory: number): PlannedContainer => ({ ...d, limits: { nanoCpus, memory } });
  const Mi = 1024 ** 2;
  const lWeb = limited(web, 5e8, 256 * Mi);
  const lDb = limited(db, 5e8, 256 * Mi);
  const asWanted = { nanoCpus: 5e8, memory: 256 * Mi };
  const table: { name: string; input: PlanInput; want: string[] }[] = [
    {
      name: 'limits as observed: nothing to do',
      input: { mode: 'running', desired: [infra, lWeb, lDb], observed: [obs(infra), obs(web, asWanted), obs(db, asWanted)] },
      want: [],
    },
    {
      name: 'a running container with other limits is updated in place, nothing else',
      input: { mode: 'running', desired: [infra, limited(web, 1e9, 512 * Mi), lDb], observed: [obs(infra), obs(web, asWanted), obs(db, asWanted)] },
      want: ['update web'],
    },
    {
      name: 'limits changed by hand (no limit at all): put back',
      input: { mode: 'running', desired: [infra, lWeb, lDb], observed: [obs(infra), obs(web), obs(db, asWanted)] },
      want: ['update web'],
    },
    {
      name: 'an exited container is updated before it is started',
      input: { mode: 'running', desired: [infra, limited(web, 1e9, 256 * Mi), lDb], observed: [obs(infra), obs(web, { ...asWanted, state: 'exited' }), obs(db, asWanted)] },
      want: ['update web', 'start web'],
    },
    {
      name: 'a restarted container is updated while it is down',
      input: { mode: 'running', desired: [infra, limited(web, 1e9, 256 * Mi), lDb], observed: [obs(infra, { startedAt: T(9) }), obs(web, asWanted), obs(db, { ...asWanted, startedAt: T(10) })] },
      want: ['stop web', 'update web', 'restart web'],
    },
    {
      name: 'a recreated container gets its limits at create: no update',
      input: { mode: 'running', desired: [infra, limited(web, 1e9, 256 * Mi), lDb], observed: [obs(infra), obs(web, { ...asWanted, specHash: 'old' }), obs(db, asWanted)] },
      want: ['ensureImage app:1', 'stop web', 'remove web', 'create web', 'start web'],
    },
    {
      name: 'a stopped set gets its new limits too',
      input: { mode: 'stopped', desired: [infra, limited(web, 1e9, 256 * Mi), lDb], observed: [obs(infra, { state: 'exited' }), obs(web, { ...asWanted, state: 'exited' }), obs(db, asWanted)] },
      want: ['stop db', 'update web'],
    },
  ];
  for (const c of table) {
    test(c.name, () => {
      assert.deepEqual(plan(c.input).map(show), c.want);
    });
  }

  test('the update carries the new limits and says what changed', () => {
    const [a] = plan({ mode: 'running', desired: [infra, limited(web, 1e9, 256 * Mi)], observed: [obs(infra), obs(web, asWanted)] });
    assert.deepEqual(a, { kind: 'update', name: 'web', id: 'id-web', nanoCpus: 1e9, memory: 256 * Mi, why: 'cpu limit changed' });
  });
});

describe('plan: restart policy, back-off and liveness kills', () => {
  const withPolicy = (d: PlannedContainer, restartPolicy: 'always' | 'on-failure' | 'never'): PlannedContainer => ({ ...d, health: { restartPolicy } });
  const NOW = Date.parse('2026-01-01T00:01:00Z');
  const exited = (code: number, over: Partial<ObservedContainer> = {}): Partial<ObservedContainer> => ({ state: 'exited', exitCode: code, finishedAt: T(20), ...over });
  const table: { name: string; input: PlanInput; want: string[] }[] = [
    { name: 'always: exit code 0 is started again', input: { mode: 'running', desired: [infra, withPolicy(web, 'always'), db], observed: [obs(infra), obs(web, exited(0)), obs(db)], now: NOW }, want: ['start web'] },
    { name: 'always: exit code 1 is started again', input: { mode: 'running', desired: [infra, withPolicy(web, 'always'), db], observed: [obs(infra), obs(web, exited(1)), obs(db)], now: NOW }, want: ['start web'] },
    { name: 'on-failure: exit code 0 stays exited', input: { mode: 'running', desired: [infra, withPolicy(web, 'on-failure'), db], observed: [obs(infra), obs(web, exited(0)), obs(db)], now: NOW }, want: [] },
    { name: 'on-failure: exit code 2 is started again', input: { mode: 'running', desired: [infra, withPolicy(web, 'on-failure'), db], observed: [obs(infra), obs(web, exited(2)), obs(db)], now: NOW }, want: ['start web'] },
    { name: 'on-failure: an OOM kill is a failure', input: { mode: 'running', desired: [infra, withPolicy(web, 'on-failure'), db], observed: [obs(infra), obs(web, exited(0, { oomKilled: true })), obs(db)], now: NOW }, want: ['start web'] },
    { name: 'on-failure: a liveness kill is a failure (whatever the exit code)', input: { mode: 'running', desired: [infra, withPolicy(web, 'on-failure'), db], observed: [obs(infra), obs(web, exited(0)), obs(db)], exits: { web: { failed: true } }, now: NOW }, want: ['start web'] },
    { name: 'never: exit code 1 stays exited', input: { mode: 'running', desired: [infra, withPolicy(web, 'never'), db], observed: [obs(infra), obs(web, exited(1)), obs(db)], now: NOW }, want: [] },
    { name: 'never: one the agent stopped itself is started', input: { mode: 'running', desired: [infra, withPolicy(web, 'never'), db], observed: [obs(infra), obs(web, exited(143)), obs(db)], exits: { web: { byAgent: true } }, now: NOW }, want: ['start web'] },
    { name: 'never: a restart requested before it exited does not start it', input: { mode: 'running', desired: [infra, withPolicy(web, 'never'), db], observed: [obs(infra, { startedAt: T(0) }), obs(web, exited(0, { startedAt: T(1) })), obs(db, { startedAt: T(1) })], restartRequestedAt: T(0), now: NOW }, want: [] },
    { name: 'never: a created (never started) container is started', input: { mode: 'running', desired: [infra, withPolicy(web, 'never'), db], observed: [obs(infra), obs(web, { state: 'created', startedAt: undefined }), obs(db)], now: NOW }, want: ['start web'] },
    { name: 'back-off: not before its time', input: { mode: 'running', desired: [infra, web, db], observed: [obs(infra), obs(web, exited(1)), obs(db)], exits: { web: { notBefore: NOW + 1 } }, now: NOW }, want: [] },
    { name: 'back-off: once passed, started', input: { mode: 'running', desired: [infra, web, db], observed: [obs(infra), obs(web, exited(1)), obs(db)], exits: { web: { notBefore: NOW } }, now: NOW }, want: ['start web'] },
    { name: 'back-off does not hold one the agent stopped', input: { mode: 'running', desired: [infra, web, db], observed: [obs(infra), obs(web, exited(143)), obs(db)], exits: { web: { byAgent: true, notBefore: NOW + 5_000 } }, now: NOW }, want: ['start web'] },
    { name: 'restarting one business container touches no other', input: { mode: 'running', desired: [infra, web, db], observed: [obs(infra), obs(web), obs(db, exited(1))], now: NOW }, want: ['start db'] },
    { name: 'liveness kill: the container is stopped, not started in the same plan', input: { mode: 'running', desired: [infra, web, db], observed: allRunning(), kills: { web: 'liveness probe failed' }, now: NOW }, want: ['stop web'] },
    { name: 'a kill yields to a recreate', input: { mode: 'running', desired: [infra, web, db], observed: [obs(infra), obs(web, { specHash: 'old' }), obs(db)], kills: { web: 'liveness probe failed' }, now: NOW }, want: ['ensureImage app:1', 'stop web', 'remove web', 'create web', 'start web'] },
    { name: 'an infra restart: an exited container still follows its policy', input: { mode: 'running', desired: [infra, web, withPolicy(db, 'never')], observed: [obs(infra, { state: 'exited' }), obs(web), obs(db, exited(1))], now: NOW }, want: ['stop web', 'start infra', 'restart web'] },
    { name: 'a held container still gets new limits', input: { mode: 'running', desired: [infra, { ...withPolicy(web, 'never'), limits: { nanoCpus: 1e9, memory: 1 << 30 } }, db], observed: [obs(infra), obs(web, exited(0)), obs(db)], now: NOW }, want: ['update web'] },
  ];
  for (const c of table) {
    test(c.name, () => {
      assert.deepEqual(plan(c.input).map(show), c.want);
    });
  }

  test('a restart requested after a never container exited starts it again', () => {
    const input: PlanInput = { mode: 'running', desired: [infra, withPolicy(web, 'never'), db], observed: [obs(infra), obs(web, exited(0, { finishedAt: T(20) })), obs(db)], restartRequestedAt: T(30), now: NOW };
    assert.deepEqual(plan(input).map(show), ['stop db', 'stop infra', 'restart infra', 'start web', 'restart db']);
  });

  test('a policy start says so and counts as a restart; the kill is marked unhealthy', () => {
    const [start] = plan({ mode: 'running', desired: [infra, withPolicy(web, 'on-failure')], observed: [obs(infra), obs(web, exited(3))], now: NOW });
    assert.deepEqual(start, { kind: 'start', name: 'web', id: 'id-web', restart: false, why: 'restart policy on-failure', afterExit: true });
    const [byAgent] = plan({ mode: 'running', desired: [infra, web], observed: [obs(infra), obs(web, exited(143))], exits: { web: { byAgent: true } } });
    assert.equal(byAgent?.kind === 'start' && byAgent.afterExit, undefined);
    const [kill] = plan({ mode: 'running', desired: [infra, web], observed: [obs(infra), obs(web)], kills: { web: 'liveness probe failed' } });
    assert.deepEqual(kill, { kind: 'stop', name: 'web', id: 'id-web', why: 'liveness probe failed', unhealthy: true });
  });
});
