/**
 * The apps controller against a real (in-memory) SqliteStore. The test plays the
 * placement controller and the agents: it places sets, writes their statuses the
 * way the status route stores an agent's report, and confirms deletions; it calls
 * `pass(now)` with its own clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import type { AppObject, AppSpec, SetObject, SetStatus } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { applyApp, deleteApp, getApp, readAppEvents, scaleApp, viewApp } from '../state/apps.js';
import { readEndpoints } from '../state/endpoints.js';
import { readEvents } from '../state/sets.js';
import type { HostRecord } from '../state/hosts.js';
import { AppsController, setWakes } from './apps.js';
import { chooseLeaving, idRanges, nextFreeIds, type SetLoad } from './app-scale.js';

const T0 = Date.now();
const at = (seconds: number) => T0 + seconds * 1000;

function spec(replicas: number, over: Partial<AppSpec> = {}): AppSpec {
  return {
    appkey: 'web',
    replicas,
    template: {
      resources: { cpu: 0.5, memory: '64Mi' },
      containers: [{ index: 1, image: 'web:1', options: { name: 'web', ports: [{ containerPort: 8080 }] } }],
    },
    ...over,
  };
}

async function setup(opts: { loadOf?: SetLoad } = {}) {
  const store = SqliteStore.open(':memory:');
  const c = new AppsController(store, pino({ level: 'silent' }), { ...(opts.loadOf ? { loadOf: opts.loadOf } : {}) });
  const host: HostRecord = {
    name: 'h1', zone: 'z', rack: 'r', labels: {}, capacity: { cpu: 64, memory: 2 ** 40, disk: 2 ** 40 },
    agentUrl: 'http://127.0.0.1:1', agentVersion: '0', dockerVersion: '0', registeredAt: new Date(T0).toISOString(), lastHeartbeat: new Date(T0).toISOString(), cordoned: false,
  };
  await store.put(Keys.host('h1'), host);
  const sets = async () => (await store.list<SetObject>(Keys.appSets('default', 'web'))).items.map((kv) => kv.value);
  const ids = async (pred: (s: SetObject) => boolean = () => true) => (await sets()).filter(pred).map((s) => s.id).sort((a, b) => Number(a) - Number(b));
  /** Placement and the agent: every set gets a host and an IP, and runs ready (or paused, in the warm pool). */
  const runAll = async () => {
    for (const s of await sets()) {
      if (s.deleting) continue;
      const placed: SetObject = { ...s, host: 'h1', ips: [{ network: 'lan', ip: `10.0.0.${Number(s.id) + 10}` }] };
      if (!s.host) await store.put(Keys.set('default', 'web', s.id), placed);
      // A set of the warm pool reports what its agent does with one: started, then paused.
      const standby = s.standby === true;
      const status: SetStatus = {
        phase: standby ? 'standby' : 'running', observedGeneration: s.generation, host: 'h1', ready: !standby, updatedAt: new Date().toISOString(),
        containers: [{ name: 'web', role: 'business', index: 1, image: 'web:1', state: standby ? 'paused' : 'running', restartCount: 0, ready: !standby }],
      };
      await store.put(Keys.status('default', 'web', s.id), status);
    }
  };
  /** The agents confirm every deleting set gone. */
  const confirmDeletions = async () => {
    for (const s of await sets()) if (s.deleting) for (const key of Object.values(setKeys(s))) await store.delete(key);
  };
  /** The app applied, and its sets created, placed and ready. */
  const running = async (app: AppSpec) => {
    await applyApp(store, 'default', app);
    await c.pass(at(0));
    await runAll();
  };
  const endpointIds = async () => (await readEndpoints(store, 'default', 'web')).endpoints.map((e) => e.set);
  const reasons = async () => (await readAppEvents(store, 'default', 'web')).map((e) => `${e.reason}: ${e.message}`);
  return { store, c, sets, ids, runAll, running, confirmDeletions, endpointIds, reasons };
}

test('pure helpers: next free ids fill gaps, ids read as ranges', () => {
  assert.deepEqual(nextFreeIds(['1', '2', '4', '7', 'canary'], 4), [3, 5, 6, 8]);
  assert.deepEqual(nextFreeIds([], 0), []);
  assert.equal(idRanges(['3', '4', '5', '10', '1', 'x']), '1, 3..5, 10, x');
  assert.equal(idRanges(['2', '3']), '2, 3');
});

test('scale 2 → 10 creates 8 sets with ids 3..10 from the template, in one pass', async () => {
  const { store, c, ids, runAll, reasons, sets } = await setup();
  await applyApp(store, 'default', spec(2));
  await c.pass(at(0));
  assert.deepEqual(await ids(), ['1', '2']);
  await runAll();
  await scaleApp(store, 'default', 'web', 10);
  assert.equal(await c.pass(at(1)), true);
  assert.deepEqual(await ids(), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  const s7 = (await sets()).find((s) => s.id === '7');
  assert.deepEqual(s7?.spec, { ...spec(10).template, appkey: 'web', id: 7 });
  assert.equal(s7?.desired, 'running');
  assert.deepEqual(await reasons(), ['ScaledOut: replicas 0 → 2: created 2 sets (1, 2)', 'ScaledOut: replicas 2 → 10: created 8 sets (3..10)']);
  await c.pass(at(2));
  assert.equal((await ids()).length, 10, 'a second pass changes nothing');
  const view = await viewApp(store, (await getApp(store, 'default', 'web')).value);
  assert.deepEqual([view.replicas, view.current, view.ready, view.message], [10, 10, 2, '2/10 ready']);
  assert.deepEqual(view.phases, { running: 2, pending: 8 });
});

test('scale 10 → 2 drains the newest 8 at once (out of the endpoints), deletes them after drainSeconds', async () => {
  const { store, c, ids, runAll, confirmDeletions, endpointIds, reasons } = await setup();
  await applyApp(store, 'default', spec(10, { scaleIn: { drainSeconds: 5 } }));
  await c.pass(at(0));
  // Lower ids are newer here, so "newest" is not "highest id".
  for (let i = 1; i <= 10; i++) {
    const kv = await store.get<SetObject>(Keys.set('default', 'web', String(i)));
    await store.put(kv!.key, { ...kv!.value, createdAt: new Date(T0 - i * 1000).toISOString() });
  }
  await runAll();
  assert.equal((await endpointIds()).length, 10);

  await scaleApp(store, 'default', 'web', 2);
  await c.pass(at(1));
  assert.deepEqual(await ids((s) => s.draining !== undefined), ['1', '2', '3', '4', '5', '6', '7', '8']);
  assert.deepEqual(await endpointIds(), ['9', '10'], 'draining sets leave the endpoints at once');
  const all = await readEndpoints(store, 'default', 'web', { all: true });
  assert.equal(all.endpoints.filter((e) => e.draining).length, 8);
  assert.equal((await reasons()).at(-1), 'ScaledIn: replicas 10 → 2: draining 8 sets (1..8) for 5s, newest first');
  assert.deepEqual((await readEvents(store, { tenant: 'default', appkey: 'web', id: '3' })).map((e) => e.reason), ['Draining']);
  const view = await viewApp(store, (await getApp(store, 'default', 'web')).value);
  assert.deepEqual([view.current, view.leaving, view.phases.draining], [2, 8, 8]);

  await c.pass(at(5));
  assert.deepEqual(await ids((s) => s.deleting === true), [], 'still draining before drainSeconds');
  await c.pass(at(6.1));
  assert.deepEqual(await ids((s) => s.deleting === true), ['1', '2', '3', '4', '5', '6', '7', '8']);
  assert.equal((await reasons()).at(-1), 'Drained: 8 sets (1..8) drained: deleting');
  await confirmDeletions();
  await c.pass(at(7));
  assert.deepEqual(await ids(), ['9', '10']);
  assert.deepEqual(await endpointIds(), ['9', '10']);
});

test('least-loaded: the sets using the least CPU leave; without figures, newest first and the event says so', async () => {
  const cpu: Record<string, number> = { 1: 0.9, 2: 0.1, 3: 0.5, 4: 0.2 };
  const loaded = await setup({ loadOf: (s) => cpu[s.id] });
  await loaded.running(spec(4, { scaleIn: { policy: 'least-loaded' } }));
  await scaleApp(loaded.store, 'default', 'web', 2);
  await loaded.c.pass(at(1));
  assert.deepEqual(await loaded.ids((s) => s.draining !== undefined), ['2', '4']);
  assert.match((await loaded.reasons()).at(-1) ?? '', /draining 2 sets \(2, 4\) for 5s, least loaded first$/);

  const blind = await setup({ loadOf: () => undefined });
  await blind.running(spec(3, { scaleIn: { policy: 'least-loaded' } }));
  await scaleApp(blind.store, 'default', 'web', 2);
  await blind.c.pass(at(1));
  assert.deepEqual(await blind.ids((s) => s.draining !== undefined), ['3']);
  assert.match((await blind.reasons()).at(-1) ?? '', /least-loaded asked, but no CPU figures for the app's sets: newest first$/);
});

test('sets that do nothing leave first: a set never placed is deleted at once, a not-ready one drains before ready ones', async () => {
  const { store, c, ids, running, reasons } = await setup();
  await running(spec(3));
  await scaleApp(store, 'default', 'web', 5);
  await c.pass(at(1));
  // Set 4 is placed but not ready; set 5 was never placed.
  const kv4 = await store.get<SetObject>(Keys.set('default', 'web', '4'));
  await store.put(kv4!.key, { ...kv4!.value, host: 'h1' });
  await scaleApp(store, 'default', 'web', 3);
  await c.pass(at(2));
  assert.deepEqual(await ids(), ['1', '2', '3', '4']);
  assert.deepEqual(await ids((s) => s.draining !== undefined), ['4']);
  assert.deepEqual((await reasons()).slice(-2), ['ScaledIn: replicas 5 → 3: draining 1 set (4) for 5s, newest first', 'ScaledIn: replicas 5 → 3: deleted 1 unplaced set (5)']);
});

test('gaps in ids are filled; a deleted set is replaced', async () => {
  const { store, c, ids } = await setup();
  for (const id of ['2', '4', '7']) {
    await store.put(Keys.set('default', 'web', id), {
      tenant: 'default', appkey: 'web', id, generation: 1, desired: 'running', createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(),
      spec: { ...spec(0).template, appkey: 'web', id: Number(id) },
    } satisfies SetObject);
  }
  await applyApp(store, 'default', spec(6));
  await c.pass(at(0));
  assert.deepEqual(await ids(), ['1', '2', '3', '4', '5', '7'], 'sets of the appkey made before the app belong to it');
  await store.delete(Keys.set('default', 'web', '3'));
  await c.pass(at(1));
  assert.deepEqual(await ids(), ['1', '2', '3', '4', '5', '7']);
});

test('scaling out while sets drain keeps them instead of creating new ones', async () => {
  const { store, c, ids, running, reasons, sets } = await setup();
  await running(spec(4));
  await scaleApp(store, 'default', 'web', 1);
  await c.pass(at(1));
  assert.deepEqual(await ids((s) => s.draining !== undefined), ['2', '3', '4']);
  await scaleApp(store, 'default', 'web', 3);
  await c.pass(at(2));
  assert.deepEqual(await ids(), ['1', '2', '3', '4']);
  assert.equal((await sets()).filter((s) => s.draining).length, 1);
  assert.match((await reasons()).at(-1) ?? '', /^ScaledOut: replicas 1 → 3: kept 2 draining sets/);
  await c.pass(at(10));
  assert.deepEqual(await ids((s) => s.deleting === true).then((d) => d.length), 1, 'the one still draining is deleted after its time');
});

test('a new template applies to new sets only', async () => {
  const { store, c, sets } = await setup();
  await applyApp(store, 'default', spec(1));
  await c.pass(at(0));
  const next = spec(2);
  next.template.containers[0]!.image = 'web:2';
  const { app } = await applyApp(store, 'default', next);
  assert.equal(app.generation, 2);
  await c.pass(at(1));
  assert.deepEqual((await sets()).map((s) => [s.id, s.spec.containers[0]?.image]), [['1', 'web:1'], ['2', 'web:2']]);
});

test('concurrent scale requests: each one applies in turn, the controller ends at the last', async () => {
  const { store, c, ids } = await setup();
  await applyApp(store, 'default', spec(1));
  const passes: Promise<boolean>[] = [];
  const results = await Promise.all([5, 8, 3, 6].map(async (n) => {
    passes.push(c.pass(at(0)));
    return scaleApp(store, 'default', 'web', n);
  }));
  await Promise.all(passes);
  const final = (await store.get<AppObject>(Keys.app('default', 'web')))!.value;
  assert.equal(final.generation, 5, 'every request was a change of its own');
  assert.ok(results.some((r) => r.spec.replicas === final.spec.replicas));
  for (let i = 1; i <= 3; i++) await c.pass(at(i));
  assert.equal((await ids((s) => !s.draining && !s.deleting)).length, final.spec.replicas);
});

test('a warm pool: standby sets beyond replicas, out of the endpoints; a scale-out resumes them in one write, then the pool is refilled', async () => {
  const { store, c, ids, running, runAll, endpointIds, reasons } = await setup();
  await running(spec(2, { warmPool: 3 }));
  assert.deepEqual(await ids((s) => !s.standby), ['1', '2']);
  assert.deepEqual(await ids((s) => s.standby === true), ['3', '4', '5']);
  assert.deepEqual(await endpointIds(), ['1', '2'], 'standby sets take no traffic');
  let view = await viewApp(store, (await getApp(store, 'default', 'web')).value);
  assert.equal(view.current, 2);
  assert.equal(view.standby, 3);
  assert.equal(view.ready, 2);
  assert.match(view.message, /^2\/2 ready; warm pool 3\/3$/);
  assert.equal(view.sets.find((x) => x.id === '3')?.standby, true);
  assert.equal(view.phases.standby, 3);

  const before = (await store.get<SetObject>(Keys.set('default', 'web', '3')))!;
  await scaleApp(store, 'default', 'web', 4);
  await c.pass(at(1));
  const resumed = (await store.get<SetObject>(Keys.set('default', 'web', '3')))!;
  assert.equal(resumed.value.standby, undefined, 'set 3 left the pool');
  assert.equal(resumed.value.generation, before.value.generation, 'resuming is no spec change');
  assert.deepEqual(await ids((s) => !s.standby), ['1', '2', '3', '4'], 'the two oldest standby sets serve now; none was created for the app');
  assert.deepEqual(await ids((s) => s.standby === true), ['5', '6', '7'], 'the pool is refilled behind');
  const log = await reasons();
  assert.ok(log.includes('ScaledOut: replicas 2 → 4: resumed 2 sets of the warm pool (3, 4)'), log.join('\n'));
  assert.ok(log.includes('WarmPoolFilled: warm pool 3 (2 resumed): created 2 standby sets (6, 7)'), log.join('\n'));
  assert.deepEqual((await readEvents(store, { tenant: 'default', appkey: 'web', id: '3' })).map((e) => e.reason).at(-1), 'Resumed');
  view = await viewApp(store, (await getApp(store, 'default', 'web')).value);
  assert.equal(view.ready, 2, 'the resumed sets are not ready before their agent says so');
  await runAll();
  assert.deepEqual(await endpointIds(), ['1', '2', '3', '4']);

  // More than the pool holds: the pool first, then new sets.
  await scaleApp(store, 'default', 'web', 9);
  await c.pass(at(2));
  assert.match((await reasons()).find((r) => r.startsWith('ScaledOut: replicas 4 → 9')) ?? '', /resumed 3 sets of the warm pool \(5\.\.7\), created 2 sets \(8, 9\)$/);
  assert.deepEqual(await ids((s) => s.standby === true), ['10', '11', '12']);
});

test('the warm pool shrinks and grows with its size, and is replaced when the template changes; scale-in leaves it alone', async () => {
  const { store, c, ids, sets, running, runAll, reasons } = await setup();
  await running(spec(1, { warmPool: 4 }));
  await scaleApp(store, 'default', 'web', 1, new Date(), 2);
  await c.pass(at(1));
  assert.deepEqual(await ids((s) => s.standby === true && !s.deleting), ['2', '3'], 'the newest beyond the size go');
  assert.deepEqual(await ids((s) => s.deleting === true), ['4', '5']);
  assert.match((await reasons()).at(-1) ?? '', /^WarmPoolTrimmed: warm pool 2: deleting 2 sets beyond its size \(4, 5\)$/);

  const next = spec(1, { warmPool: 2 });
  next.template.containers[0]!.image = 'web:2';
  await applyApp(store, 'default', next);
  await c.pass(at(2));
  const live = (await sets()).filter((s) => s.standby && !s.deleting);
  assert.deepEqual(live.map((s) => [s.id, s.spec.containers[0]?.image]).sort(), [['6', 'web:2'], ['7', 'web:2']], 'the stale pool is replaced by the new template');
  assert.deepEqual((await sets()).find((s) => s.id === '1')?.spec.containers[0]?.image, 'web:1', 'a serving set keeps its spec');

  await runAll();
  await scaleApp(store, 'default', 'web', 0);
  await c.pass(at(3));
  assert.deepEqual(await ids((s) => s.draining !== undefined), ['1'], 'scale-in drains serving sets only');
  assert.deepEqual(await ids((s) => s.standby === true && !s.deleting), ['6', '7']);
});

test('deleting an app deletes its sets, then the app', async () => {
  const { store, c, ids, running, confirmDeletions } = await setup();
  await running(spec(3));
  await scaleApp(store, 'default', 'web', 4);
  await c.pass(at(1));
  await deleteApp(store, 'default', 'web');
  assert.deepEqual(await ids(), ['1', '2', '3'], 'the unplaced set 4 is gone at once');
  assert.deepEqual(await ids((s) => s.deleting === true), ['1', '2', '3']);
  await assert.rejects(scaleApp(store, 'default', 'web', 9), /being deleted/);
  await c.pass(at(2));
  assert.ok(await store.get(Keys.app('default', 'web')), 'kept while its sets are removed');
  await confirmDeletions();
  await c.pass(at(3));
  assert.equal(await store.get(Keys.app('default', 'web')), undefined);
  assert.equal(await store.get(Keys.appEvents('default', 'web')), undefined);
  assert.deepEqual(await ids(), []);
});

test('chooseLeaving ranks unplaced, then not ready, then the policy', () => {
  const member = (id: string, createdAt: number, host?: string, ready = true) => ({
    kv: { key: id, createRevision: 1, modRevision: 1, version: 1, value: { id, createdAt: new Date(createdAt).toISOString(), ...(host ? { host } : {}) } as SetObject },
    view: { ready } as never,
  });
  const ms = [member('1', 1, 'h'), member('2', 2, 'h'), member('3', 3, 'h', false), member('4', 4)];
  assert.deepEqual(chooseLeaving(ms, 3, 'newest-first').leaving.map((m) => m.kv.value.id), ['4', '3', '2']);
  assert.deepEqual(chooseLeaving(ms, 3, 'least-loaded', (s) => ({ 1: 0.1, 2: 0.9 })[s.id]).leaving.map((m) => m.kv.value.id), ['4', '3', '1']);
});

test('setWakes: a set that comes or goes, or changes generation, deleting, draining or standby wakes a pass; a placement does not', () => {
  const wakes = setWakes();
  const key = '/sets/t/web/1';
  const now = '2026-01-01T00:00:00Z';
  const base: SetObject = { tenant: 't', appkey: 'web', id: '1', generation: 1, desired: 'running', createdAt: now, updatedAt: now, spec: { appkey: 'web', id: 1, containers: [] } };
  const put = (value: SetObject, modRevision: number) => ({ type: 'put' as const, kv: { key, value, createRevision: 1, modRevision, version: modRevision }, revision: modRevision });
  assert.equal(wakes(put(base, 1)), true, 'new');
  assert.equal(wakes(put({ ...base, host: 'h1', ips: [{ network: 'n', ip: '10.0.0.5' }], updatedAt: 'later' }, 2)), false, 'placed');
  assert.equal(wakes(put({ ...base, host: 'h1', draining: now }, 3)), true, 'draining');
  assert.equal(wakes(put({ ...base, host: 'h1', draining: now }, 4)), false, 'unchanged');
  assert.equal(wakes(put({ ...base, host: 'h1', draining: now, deleting: true }, 5)), true, 'deleting');
  assert.equal(wakes(put({ ...base, host: 'h1', draining: now, deleting: true, generation: 2 }, 6)), true, 'generation');
  assert.equal(wakes({ type: 'delete', kv: { key, value: base, createRevision: 1, modRevision: 7, version: 0 }, revision: 7 }), true, 'gone');
  assert.equal(wakes(put(base, 8)), true, 'made again');
  assert.equal(wakes(put({ ...base, standby: true }, 9)), true, 'standby');
});
