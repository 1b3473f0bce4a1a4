/**
 * The rollout controller against a real (in-memory) SqliteStore. The test plays
 * the agent: it writes each set's status the way the status route stores an
 * agent's report, and calls `pass(now)` with its own clock. Without an app the
 * sets are plain sets, changed at once; `inApp` makes them an app's, whose
 * serving sets leave the endpoints for its drainSeconds first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { WharfError, type RolloutRequest, type SetObject, type SetStatus } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { readEvents } from '../state/sets.js';
import { applyApp, getApp, updateAppSpec } from '../state/apps.js';
import type { HostRecord } from '../state/hosts.js';
import { readEndpoints, watchEndpoints } from '../state/endpoints.js';
import { changeRollout, createRollout, getRollout, type StoredRollout } from '../state/rollouts.js';
import { RolloutController } from './rollout.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => T0 + seconds * 1000;

function setObject(id: string, image = 'img:1'): SetObject {
  return {
    tenant: 'default', appkey: 'app', id, generation: 1, desired: 'running', host: 'h1',
    ips: [{ network: 'net1', ip: `10.0.0.${Number(id) + 10}` }],
    createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(),
    spec: {
      appkey: 'app', id,
      containers: [
        { index: 1, image, options: { name: 'web', volumes: [{ path: '/data' }] } },
        { index: 2, image: 'log:1', options: { name: 'log' } },
      ],
    },
  };
}

interface Agent {
  /** The set runs its current spec, every container ready. */
  ready(id: string): Promise<void>;
  /** The set's host reports it at its current generation in `phase`. */
  report(id: string, phase: SetStatus['phase'], message?: string): Promise<void>;
}

async function setup(ids: string[], make: (id: string) => SetObject = (id) => setObject(id)) {
  const store = SqliteStore.open(':memory:');
  const c = new RolloutController(store, pino({ level: 'silent' }), 3_600_000);
  const get = async (id: string) => {
    const kv = await store.get<SetObject>(Keys.set('default', 'app', id));
    assert.ok(kv, `set ${id}`);
    return kv.value;
  };
  const report = async (id: string, phase: SetStatus['phase'], message?: string) => {
    const s = await get(id);
    const ready = phase === 'running';
    const status: SetStatus = {
      phase, observedGeneration: s.generation, host: s.host, ready, ...(message ? { message } : {}), updatedAt: new Date().toISOString(),
      containers: [
        { name: 'infra', role: 'infra', index: -1, image: 'wharf/busybox', state: 'running', restartCount: 0, ready: true },
        ...s.spec.containers.map((x) => ({ name: x.options.name, role: 'business' as const, index: x.index, image: x.image, state: ready ? 'running' as const : 'created' as const, restartCount: 0, ready })),
      ],
    };
    await store.put(Keys.status('default', 'app', id), status);
  };
  const agent: Agent = { ready: (id) => report(id, 'running'), report };
  for (const id of ids) {
    await store.put(Keys.set('default', 'app', id), make(id));
    await agent.ready(id);
  }
  const images = async () => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await get(id)).spec.containers[0]?.image] as const)));
  const rollout = async () => (await getRollout(store, 'default', 'app', 'current')).value;
  const start = (req: Partial<RolloutRequest> = {}) => createRollout(store, 'default', 'app', { container: 'web', image: 'img:2', ...req }, new Date(T0));
  /** The sets become an app's (its controller is not running: the test owns the sets). */
  const inApp = async (drainSeconds: number) => {
    const template = { containers: setObject('1').spec.containers };
    await applyApp(store, 'default', { appkey: 'app', replicas: ids.length, template, scaleIn: { drainSeconds } });
    // The endpoints read at the real time count a host without a recent heartbeat as not ready.
    const now = new Date().toISOString();
    const host: HostRecord = {
      name: 'h1', zone: 'z', rack: 'r', labels: {}, capacity: { cpu: 8, memory: 2 ** 33, disk: 2 ** 40 },
      agentUrl: 'http://127.0.0.1:1', agentVersion: 't', dockerVersion: 't', registeredAt: now, lastHeartbeat: now, cordoned: false,
    };
    await store.put(Keys.host('h1'), host);
  };
  /** Serving sets, as the endpoints list them. */
  const serving = async () => (await readEndpoints(store, 'default', 'app')).endpoints.map((e) => e.set);
  const outOfRotation = async () => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await get(id)).outOfRotation !== undefined] as const)));
  return { store, c, get, agent, images, rollout, start, inApp, serving, outOfRotation };
}

/** Every content the endpoints watch answers with, as the serving set ids, until stopped. */
function watchServing(store: SqliteStore) {
  const seen: string[][] = [];
  const abort = new AbortController();
  const loop = (async () => {
    let revision = 0;
    while (!abort.signal.aborted) {
      const e = await watchEndpoints(store, 'default', 'app', revision, { timeoutMs: 5000, signal: abort.signal });
      if (e.revision !== revision) seen.push(e.endpoints.map((x) => x.set));
      revision = e.revision;
    }
  })();
  return {
    seen,
    /** Waits (bounded) until the watch has answered with `ids`. */
    async saw(ids: string[]): Promise<void> {
      for (let i = 0; i < 500 && JSON.stringify(seen.at(-1)) !== JSON.stringify(ids); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(seen.at(-1), ids, `the endpoints watch answered ${JSON.stringify(seen)}`);
    },
    async stop(): Promise<void> {
      abort.abort();
      await loop;
    },
  };
}

const states = (r: StoredRollout) => r.targets.map((t) => `${t.id}:${t.state}`).join(' ');

test('25% of 6 sets: batches of 2, each only after the one before is ready; only the one container changes', async () => {
  const { c, get, agent, images, rollout, start, store } = await setup(['1', '2', '3', '4', '5', '10']);
  const created = await start({ batch: '25%' });
  assert.equal(created.batchSize, 2);
  assert.equal(created.batches, 3);
  assert.deepEqual(created.targets.map((t) => t.id), ['1', '2', '3', '4', '5', '10'], 'ordered by id, numerically');

  await c.pass(at(1));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1', 4: 'img:1', 5: 'img:1', 10: 'img:1' });
  let r = await rollout();
  assert.equal(r.batch, 1);
  assert.equal(states(r), '1:updating 2:updating 3:waiting 4:waiting 5:waiting 10:waiting');
  const s1 = await get('1');
  assert.equal(s1.generation, 2);
  assert.deepEqual(s1.spec.containers[1], setObject('1').spec.containers[1], 'the other container is untouched');
  assert.deepEqual({ host: s1.host, ips: s1.ips, volumes: s1.spec.containers[0]?.options.volumes }, { host: 'h1', ips: [{ network: 'net1', ip: '10.0.0.11' }], volumes: [{ path: '/data' }] });
  const events = await readEvents(store, { tenant: 'default', appkey: 'app', id: '1' });
  assert.deepEqual(events.map((e) => [e.reason, e.message]), [['RolloutUpdating', 'rollout 1: web → img:2 (batch 1/3)']]);

  await c.pass(at(2));
  assert.equal((await images())['3'], 'img:1', 'nothing new while the batch is not ready');
  await agent.ready('1');
  await c.pass(at(3));
  assert.equal((await images())['3'], 'img:1', 'one set of the batch ready is not enough');
  assert.equal(states(await rollout()), '1:updated 2:updating 3:waiting 4:waiting 5:waiting 10:waiting');

  await agent.ready('2');
  await c.pass(at(4));
  r = await rollout();
  assert.equal(r.batch, 2);
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:2', 4: 'img:2', 5: 'img:1', 10: 'img:1' });

  for (const id of ['3', '4']) await agent.ready(id);
  await c.pass(at(5));
  for (const id of ['5', '10']) await agent.ready(id);
  await c.pass(at(6));
  r = await rollout();
  assert.equal(r.state, 'succeeded');
  assert.equal(r.batch, 3);
  assert.equal(r.finishedAt, new Date(at(6)).toISOString());
  assert.equal(r.message, '6 sets run img:2');
  assert.equal(states(r), '1:updated 2:updated 3:updated 4:updated 5:updated 10:updated');
  assert.deepEqual(r.targets.map((t) => t.batch), [1, 1, 2, 2, 3, 3]);
});

test('a set is updated only when the agent reports the new image ready at the new generation', async () => {
  const { c, agent, rollout, start, store, get } = await setup(['1']);
  await start();
  await c.pass(at(1));
  // The host still reports generation 1: not ready for this rollout.
  await c.pass(at(2));
  assert.equal(states(await rollout()), '1:updating');
  // Generation 2 running, but the container not ready yet.
  const s = await get('1');
  const status = (await store.get<SetStatus>(Keys.status('default', 'app', '1')))?.value;
  assert.ok(status);
  await store.put(Keys.status('default', 'app', '1'), { ...status, observedGeneration: s.generation, ready: false });
  await c.pass(at(3));
  assert.equal(states(await rollout()), '1:updating');
  await agent.ready('1');
  await c.pass(at(4));
  assert.equal((await rollout()).state, 'succeeded');
});

test('maxUnavailable: fewer sets per batch, and a batch waits while other sets of the app are not ready', async () => {
  const { c, agent, images, rollout, start } = await setup(['1', '2', '3', '4']);
  await agent.report('4', 'degraded', 'web is exited (exit code 1)');
  await start({ batch: 2, maxUnavailable: 2 });
  await c.pass(at(1));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:1', 3: 'img:1', 4: 'img:1' }, 'set 4 is down already: one more may go');
  await agent.ready('1');
  await c.pass(at(2));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1', 4: 'img:1' });

  await agent.report('3', 'degraded', 'web is exited (exit code 1)');
  await agent.ready('2');
  await c.pass(at(3));
  let r = await rollout();
  assert.equal(r.state, 'running');
  assert.equal(r.message, 'batch 3 waits: 2 sets of the app are not ready (3, 4) and at most 2 may be');
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1', 4: 'img:1' });

  await agent.ready('3');
  await c.pass(at(4));
  r = await rollout();
  assert.equal(r.message, undefined);
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:2', 4: 'img:1' });
});

test('a batch that cannot start within the timeout fails the rollout', async () => {
  const { c, agent, rollout, start } = await setup(['1', '2']);
  await agent.report('2', 'degraded', 'web is exited (exit code 1)');
  await start({ batch: 1, maxUnavailable: 1, timeoutSeconds: 60 });
  await c.pass(at(1));
  assert.equal((await rollout()).state, 'running');
  await c.pass(at(62));
  const r = await rollout();
  assert.equal(r.state, 'failed');
  assert.equal(r.message, 'batch 1 could not start within 60s: 1 set of the app is not ready (2) and at most 1 may be');
});

test('pauseAfterFirst: pauses once the first batch is ready; resume goes on to the end', async () => {
  const { c, agent, images, rollout, start, store } = await setup(['1', '2', '3']);
  await start({ batch: 1, pauseAfterFirst: true });
  await c.pass(at(1));
  await agent.ready('1');
  await c.pass(at(2));
  let r = await rollout();
  assert.equal(r.state, 'paused');
  assert.equal(r.message, 'paused after the first batch; resume to go on');
  await c.pass(at(3));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:1', 3: 'img:1' });
  await assert.rejects(changeRollout(store, 'default', 'app', 'pause'), (e: WharfError) => e.code === 'CONFLICT' && /is paused; only a running rollout can be paused/.test(e.message));

  r = await changeRollout(store, 'default', 'app', 'resume');
  assert.equal(r.state, 'running');
  await c.pass(at(4));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1' });
  await agent.ready('2');
  await c.pass(at(5));
  assert.equal((await rollout()).state, 'running', 'no second pause');
  await agent.ready('3');
  await c.pass(at(6));
  assert.equal((await rollout()).state, 'succeeded');
  await assert.rejects(changeRollout(store, 'default', 'app', 'resume'), (e: WharfError) => e.code === 'CONFLICT' && e.message === 'rollout 1 of app app has succeeded; only a paused rollout can be resumed');
});

test('a pause lets the batch under way finish, then no batch starts', async () => {
  const { c, agent, images, rollout, start, store } = await setup(['1', '2']);
  await start({ batch: 1 });
  await c.pass(at(1));
  await changeRollout(store, 'default', 'app', 'pause');
  await agent.ready('1');
  await c.pass(at(2));
  const r = await rollout();
  assert.equal(r.state, 'paused');
  assert.equal(states(r), '1:updated 2:waiting');
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:1' });
});

test('a failing batch stops the rollout; with autoRollback every changed set gets its previous image back', async () => {
  const { c, agent, images, rollout, start, get, store } = await setup(['1', '2', '3', '4']);
  await start({ batch: 2, autoRollback: true });
  await c.pass(at(1));
  await agent.ready('1');
  await agent.report('2', 'failed', 'image img:2 not found');
  await c.pass(at(2));
  let r = await rollout();
  assert.equal(r.state, 'rolling-back');
  assert.equal(r.message, 'batch 1/2 failed: set 2: image img:2 not found; rolling back');
  assert.equal(states(r), '1:rolling-back 2:rolling-back 3:waiting 4:waiting', 'the rollback starts in the same step');
  const events = await readEvents(store, { tenant: 'default', appkey: 'app', id: '2' });
  assert.deepEqual(events.map((e) => e.reason), ['RolloutUpdating', 'RolloutFailed', 'RolloutRollingBack']);
  assert.equal(events[2]?.message, 'rollout 1: web → img:1 (rolling back, batch 1/1)');

  await c.pass(at(3));
  assert.equal(states(await rollout()), '1:rolling-back 2:rolling-back 3:waiting 4:waiting');
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1', 4: 'img:1' });
  assert.equal((await get('1')).generation, 3);
  assert.equal((await get('3')).generation, 1, 'sets the rollout never reached are not touched');

  await agent.ready('1');
  await agent.ready('2');
  await c.pass(at(4));
  r = await rollout();
  assert.equal(r.state, 'rolled-back');
  assert.equal(r.message, 'batch 1/2 failed: set 2: image img:2 not found; rolled back 2 sets to the previous image');
  assert.equal(states(r), '1:rolled-back 2:rolled-back 3:waiting 4:waiting');
  assert.ok(r.finishedAt);
});

test('without autoRollback a failed batch leaves the rollout failed and starts nothing more', async () => {
  const { c, agent, images, rollout, start } = await setup(['1', '2', '3']);
  await start({ batch: 1 });
  await c.pass(at(1));
  await agent.report('1', 'failed', 'image img:2 not found');
  await c.pass(at(2));
  await c.pass(at(3));
  const r = await rollout();
  assert.equal(r.state, 'failed');
  assert.equal(r.message, 'batch 1/3 failed: set 1: image img:2 not found');
  assert.equal(r.finishedAt, new Date(at(2)).toISOString());
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:1', 3: 'img:1' });
});

test('a batch not ready within timeoutSeconds fails, naming the sets and why', async () => {
  const { c, agent, rollout, start } = await setup(['1', '2', '3']);
  await start({ batch: 2, timeoutSeconds: 60 });
  await c.pass(at(0));
  await agent.report('1', 'degraded', 'web is exited (exit code 1)');
  await c.pass(at(59));
  assert.equal((await rollout()).state, 'running');
  await c.pass(at(61));
  const r = await rollout();
  assert.equal(r.state, 'failed');
  assert.equal(r.message, 'batch 1/2 failed: set 1: not ready after 60s: web is exited (exit code 1); set 2: not ready after 60s: its host has not applied generation 2 yet');
  assert.equal(states(r), '1:failed 2:failed 3:waiting');
});

test('a rollback that does not become ready again is recorded, not retried', async () => {
  const { c, agent, images, rollout, start } = await setup(['1', '2']);
  await start({ batch: 2, autoRollback: true, timeoutSeconds: 30 });
  await c.pass(at(0));
  await agent.report('1', 'failed', 'image img:2 not found');
  await agent.ready('2');
  await c.pass(at(1));
  await c.pass(at(2));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1' });
  await agent.ready('1');
  await c.pass(at(40));
  const r = await rollout();
  assert.equal(r.state, 'rolled-back');
  assert.equal(states(r), '1:rolled-back 2:failed');
  assert.match(r.message ?? '', /rolled back 1 set to the previous image; 1 did not become ready again: 2 \(not ready again on img:1 after 30s: its host has not applied generation 3 yet\)$/);
});

test('manual rollback: while running, and as an undo of a rollout that succeeded', async () => {
  const { c, agent, images, rollout, start, store } = await setup(['1', '2', '3']);
  await start({ batch: 1 });
  await c.pass(at(1));
  await agent.ready('1');
  await c.pass(at(2));
  let r = await changeRollout(store, 'default', 'app', 'rollback');
  assert.equal(r.state, 'rolling-back');
  assert.equal(r.message, 'rollback requested; rolling back');
  await c.pass(at(3));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:2', 3: 'img:1' }, 'in batches of 1, ids in order');
  await agent.ready('1');
  await c.pass(at(4));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' });
  await agent.ready('2');
  await c.pass(at(5));
  r = await rollout();
  assert.equal(r.state, 'rolled-back');
  assert.equal(states(r), '1:rolled-back 2:rolled-back 3:waiting');
  await assert.rejects(changeRollout(store, 'default', 'app', 'rollback'), (e: WharfError) => e.code === 'CONFLICT' && /has already been rolled back/.test(e.message));

  // A second rollout that succeeds, then is undone.
  await createRollout(store, 'default', 'app', { container: 'web', image: 'img:3', batch: '100%' });
  await c.pass(at(6));
  for (const id of ['1', '2', '3']) await agent.ready(id);
  await c.pass(at(7));
  assert.equal((await rollout()).state, 'succeeded');
  r = await changeRollout(store, 'default', 'app', 'rollback');
  assert.equal(r.message, 'undo requested; rolling back');
  assert.equal(r.finishedAt, undefined);
  await c.pass(at(8));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' }, 'batches of 100%');
  for (const id of ['1', '2', '3']) await agent.ready(id);
  await c.pass(at(9));
  assert.equal((await rollout()).state, 'rolled-back');
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' });
});

test('one active rollout per app; the next one gets the next number', async () => {
  const { c, agent, start, store } = await setup(['1']);
  await store.put(Keys.set('default', 'other', '1'), { ...setObject('1'), appkey: 'other', spec: { ...setObject('1').spec, appkey: 'other' } });
  await start();
  await assert.rejects(start({ image: 'img:3' }), (e: WharfError) => e.code === 'ROLLOUT_IN_PROGRESS' && e.message === 'rollout 1 of app app is running (web → img:2); wait for it to end or roll it back first');
  const other = await createRollout(store, 'default', 'other', { container: 'web', image: 'img:2' });
  assert.equal(other.number, 1, 'another app is independent');
  await c.pass(at(1));
  await agent.ready('1');
  await c.pass(at(2));
  const next = await start({ image: 'img:3' });
  assert.equal(next.number, 2);
  assert.deepEqual(next.targets, [{ id: '1', from: 'img:2', state: 'waiting' }]);
  assert.ok((await store.get(Keys.rollout('default', 'app', 2))) !== undefined);
  assert.equal(Keys.rollout('default', 'app', 2), '/rollouts/default/app/000002');
});

test('--set: only that set changes', async () => {
  const { c, agent, images, rollout, start } = await setup(['1', '2', '3']);
  const r = await start({ set: '2' });
  assert.deepEqual(r.targets.map((t) => t.id), ['2']);
  await c.pass(at(1));
  await agent.ready('2');
  await c.pass(at(2));
  assert.equal((await rollout()).state, 'succeeded');
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:2', 3: 'img:1' });
});

test('sets already on the image count as updated at once; all of them: succeeded at creation', async () => {
  const { start } = await setup(['1', '2', '3'], (id) => setObject(id, id === '2' ? 'img:2' : 'img:1'));
  const r = await start({ batch: 1 });
  assert.equal(states(r), '1:waiting 2:updated 3:waiting');
  assert.equal(r.batches, 2);
  const { start: again } = await setup(['1'], (id) => setObject(id, 'img:2'));
  const done = await again();
  assert.equal(done.state, 'succeeded');
  assert.equal(done.message, 'every set already runs img:2');
});

test('someone else changing the image stops the rollout; the rollback leaves their set alone', async () => {
  const { c, agent, images, rollout, start, store, get } = await setup(['1', '2', '3']);
  await start({ batch: 2, autoRollback: true });
  await c.pass(at(1));
  const s2 = await get('2');
  await store.put(Keys.set('default', 'app', '2'), { ...s2, spec: { ...s2.spec, containers: s2.spec.containers.map((x) => (x.options.name === 'web' ? { ...x, image: 'img:9' } : x)) }, generation: s2.generation + 1 });
  await agent.ready('1');
  await c.pass(at(2));
  let r = await rollout();
  assert.equal(r.state, 'rolling-back');
  assert.equal(r.targets[1]?.message, 'web was changed to img:9 by someone else; left as it is');
  await c.pass(at(3));
  await agent.ready('1');
  await c.pass(at(4));
  r = await rollout();
  assert.equal(r.state, 'rolled-back');
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:9', 3: 'img:1' });
});

test('a set deleted during the rollout is skipped', async () => {
  const { c, agent, rollout, start, store } = await setup(['1', '2']);
  await start({ batch: 1 });
  await c.pass(at(1));
  await store.delete(Keys.set('default', 'app', '2'));
  await agent.ready('1');
  await c.pass(at(2));
  const r = await rollout();
  assert.equal(r.state, 'succeeded');
  assert.equal(r.message, '1 set runs img:2; skipped 2 (deleted during the rollout)');
  assert.equal(r.targets[1]?.message, 'skipped: the set was deleted during the rollout');
});

test('started, the controller follows store changes by itself', async () => {
  const { store, agent, rollout, start } = await setup(['1', '2']);
  const c = new RolloutController(store, pino({ level: 'silent' }), 20);
  await c.start();
  try {
    await start({ batch: 1 });
    const until = async (pred: (r: StoredRollout) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const r = await rollout();
        if (pred(r)) return r;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail(`rollout is ${states(await rollout())}`);
    };
    await until((r) => r.targets[0]?.state === 'updating');
    await agent.ready('1');
    await until((r) => r.targets[1]?.state === 'updating');
    await agent.ready('2');
    const r = await until((x) => x.state === 'succeeded');
    assert.equal(r.batch, 2);
  } finally {
    c.stop();
  }
});

test('in an app: a batch leaves the endpoints for drainSeconds, is changed, and is back once ready; the endpoints watch sees it', async () => {
  const { c, agent, images, rollout, start, store, inApp, serving, outOfRotation, get } = await setup(['1', '2', '3']);
  await inApp(10);
  const watch = watchServing(store);
  try {
    await watch.saw(['1', '2', '3']);
    await start({ batch: 2 });
    await c.pass(at(1));
    let r = await rollout();
    assert.equal(states(r), '1:updating 2:updating 3:waiting');
    assert.equal(r.targets[0]?.message, 'out of the endpoints for 10s before web → img:2');
    assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' }, 'nothing is replaced while the batch drains');
    assert.deepEqual(await outOfRotation(), { 1: true, 2: true, 3: false });
    assert.equal((await get('1')).generation, 1);
    await watch.saw(['3']);
    const all = (await readEndpoints(store, 'default', 'app', { all: true })).endpoints;
    assert.deepEqual(all.map((e) => [e.set, e.ready, e.draining]), [['1', true, true], ['2', true, true], ['3', true, false]], 'still ready: a load balancer drains them');
    const events = await readEvents(store, { tenant: 'default', appkey: 'app', id: '1' });
    assert.deepEqual(events.map((e) => [e.reason, e.message]), [['RolloutDraining', 'rollout 1: out of the endpoints for 10s before web → img:2']]);

    await c.pass(at(10));
    assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' }, 'not before drainSeconds are over');

    await c.pass(at(11));
    assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1' });
    assert.deepEqual(await outOfRotation(), { 1: false, 2: false, 3: false }, 'the mark goes with the change');
    assert.deepEqual(await serving(), ['3'], 'not ready until the agent runs the new generation');
    r = await rollout();
    assert.equal(states(r), '1:updating 2:updating 3:waiting');
    assert.equal(r.targets[0]?.message, undefined);

    await agent.ready('1');
    await watch.saw(['1', '3']);
    await agent.ready('2');
    await watch.saw(['1', '2', '3']);
    await c.pass(at(12));
    assert.deepEqual(await outOfRotation(), { 1: false, 2: false, 3: true }, 'batch 2 drains once batch 1 is ready');
    await watch.saw(['1', '2']);
    await c.pass(at(22));
    await agent.ready('3');
    await c.pass(at(23));
    assert.equal((await rollout()).state, 'succeeded');
    await watch.saw(['1', '2', '3']);
    assert.deepEqual(watch.seen, [['1', '2', '3'], ['3'], ['1', '3'], ['1', '2', '3'], ['1', '2'], ['1', '2', '3']]);
  } finally {
    await watch.stop();
  }
});

test('in an app: the template follows an app-wide rollout (new sets get its image), goes back on rollback, and an edit meanwhile wins', async () => {
  const { c, agent, start, store, inApp } = await setup(['1', '2']);
  await inApp(0);
  const templateImage = async () => (await getApp(store, 'default', 'app')).value.spec.template.containers[0]?.image;
  await start({ batch: '100%' });
  await c.pass(at(1));
  assert.equal(await templateImage(), 'img:2', 'sets created during and after the rollout get its image');
  for (const id of ['1', '2']) await agent.ready(id);
  await c.pass(at(2));
  assert.equal((await getRollout(store, 'default', 'app', 'current')).value.state, 'succeeded');
  assert.equal(await templateImage(), 'img:2');

  await changeRollout(store, 'default', 'app', 'rollback');
  await c.pass(at(3));
  assert.equal(await templateImage(), 'img:1', 'undone: new sets get the old image again');
  for (const id of ['1', '2']) await agent.ready(id);
  await c.pass(at(4));

  // Someone sets the template by hand during the next rollout: the rollback leaves it.
  await createRollout(store, 'default', 'app', { container: 'web', image: 'img:3', batch: '100%' });
  await c.pass(at(5));
  assert.equal(await templateImage(), 'img:3');
  await updateAppSpec(store, 'default', 'app', (spec) => ({ ...spec, template: { ...spec.template, containers: spec.template.containers.map((x) => ({ ...x, image: 'img:9' })) } }));
  await changeRollout(store, 'default', 'app', 'rollback');
  await c.pass(at(6));
  assert.equal(await templateImage(), 'img:9');

  // A rollout of one set leaves the template alone.
  for (const id of ['1', '2']) await agent.ready(id);
  await c.pass(at(7));
  await createRollout(store, 'default', 'app', { container: 'web', image: 'img:4', set: '1' });
  await c.pass(at(8));
  assert.equal(await templateImage(), 'img:9');
});

test('in an app: a set that does not serve is changed at once; with drainSeconds 0 nothing drains', async () => {
  const { c, agent, images, start, inApp, outOfRotation } = await setup(['1', '2', '3']);
  await inApp(30);
  await agent.report('2', 'degraded', 'web is exited (exit code 1)');
  await start({ batch: 2, maxUnavailable: 3 });
  await c.pass(at(1));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:2', 3: 'img:1' });
  assert.deepEqual(await outOfRotation(), { 1: true, 2: false, 3: false });

  const plain = await setup(['1']);
  await plain.inApp(0);
  await plain.start();
  await plain.c.pass(at(1));
  assert.deepEqual(await plain.images(), { 1: 'img:2' });
  assert.deepEqual(await plain.outOfRotation(), { 1: false });
});

test('in an app: the batch timeout counts from the end of the drain', async () => {
  const { c, images, rollout, start, inApp } = await setup(['1']);
  await inApp(40);
  await start({ timeoutSeconds: 30 });
  await c.pass(at(0));
  await c.pass(at(35));
  assert.equal((await rollout()).state, 'running', 'draining longer than the timeout is no failure');
  await c.pass(at(40));
  assert.deepEqual(await images(), { 1: 'img:2' });
  await c.pass(at(69));
  assert.equal((await rollout()).state, 'running');
  await c.pass(at(71));
  const r = await rollout();
  assert.equal(r.state, 'failed');
  assert.equal(r.message, 'batch 1/1 failed: set 1: not ready after 30s: its host has not applied generation 2 yet');
});

test('in an app: a rollback during the drain changes nothing and puts the sets back into the endpoints', async () => {
  const { c, images, rollout, start, inApp, serving, outOfRotation, get, store } = await setup(['1', '2']);
  await inApp(10);
  await start({ batch: 1 });
  await c.pass(at(1));
  assert.deepEqual(await serving(), ['2']);
  await changeRollout(store, 'default', 'app', 'rollback');
  await c.pass(at(2));
  const r = await rollout();
  assert.equal(r.state, 'rolled-back');
  assert.equal(states(r), '1:waiting 2:waiting');
  assert.equal(r.targets[0]?.message, 'not changed: the rollout stopped while the set was out of the endpoints');
  assert.deepEqual(await outOfRotation(), { 1: false, 2: false });
  assert.deepEqual(await serving(), ['1', '2']);
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1' });
  assert.equal((await get('1')).generation, 1);
  await c.pass(at(20));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1' }, 'the drain end changes nothing any more');
});

test('in an app: a pause lets the draining batch finish; rollback batches drain the same way', async () => {
  const { c, agent, images, rollout, start, inApp, store, outOfRotation } = await setup(['1', '2', '3']);
  await inApp(10);
  await start({ batch: 2, autoRollback: true });
  await c.pass(at(1));
  await changeRollout(store, 'default', 'app', 'pause');
  await c.pass(at(11));
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:2', 3: 'img:1' }, 'paused: the batch under way is still changed');
  await changeRollout(store, 'default', 'app', 'resume');
  await agent.ready('1');
  await agent.report('2', 'failed', 'image img:2 not found');
  await c.pass(at(12));
  let r = await rollout();
  assert.equal(r.state, 'rolling-back');
  assert.equal(states(r), '1:rolling-back 2:rolling-back 3:waiting');
  assert.deepEqual(await outOfRotation(), { 1: true, 2: false, 3: false }, 'set 1 serves: it drains; set 2 does not: changed back at once');
  assert.deepEqual(await images(), { 1: 'img:2', 2: 'img:1', 3: 'img:1' });
  await c.pass(at(22));
  assert.deepEqual(await images(), { 1: 'img:1', 2: 'img:1', 3: 'img:1' });
  assert.deepEqual(await outOfRotation(), { 1: false, 2: false, 3: false });
  const events = await readEvents(store, { tenant: 'default', appkey: 'app', id: '1' });
  assert.deepEqual(events.map((e) => e.reason), ['RolloutDraining', 'RolloutUpdating', 'RolloutDraining', 'RolloutRollingBack']);
  await agent.ready('1');
  await agent.ready('2');
  await c.pass(at(23));
  r = await rollout();
  assert.equal(r.state, 'rolled-back');
});

test('in an app, started: the end of a drain runs a pass by itself', async () => {
  const { store, agent, rollout, start, inApp, images } = await setup(['1']);
  await inApp(1);
  const c = new RolloutController(store, pino({ level: 'silent' }), 3_600_000);
  await c.start();
  try {
    await start();
    let r = await rollout();
    for (let i = 0; i < 1000 && (await images())['1'] !== 'img:2'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(await images(), { 1: 'img:2' }, 'changed after the 1 s drain, with no resync for an hour');
    await agent.ready('1');
    for (let i = 0; i < 1000 && (r = await rollout()).state !== 'succeeded'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(r.state, 'succeeded');
  } finally {
    c.stop();
  }
});
