import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import type { SetObject, SetStatus } from '@wharf/types';
import { Keys } from '../state/keys.js';
import type { HostRecord } from '../state/hosts.js';
import { readEvents } from '../state/sets.js';
import { HostLifecycleController } from './host-lifecycle.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');

function host(name: string, over: Partial<HostRecord> = {}): HostRecord {
  return {
    name, zone: 'z', rack: 'r', labels: {}, capacity: { cpu: 8, memory: 8 * 1024 ** 3, disk: 1024 ** 4 },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 't', dockerVersion: 't',
    registeredAt: new Date(NOW - 3600_000).toISOString(), lastHeartbeat: new Date(NOW - 1000).toISOString(), cordoned: false, ...over,
  };
}

function set(id: string, hostName: string, volume = false): SetObject {
  return {
    tenant: 'default', appkey: 'app', id, generation: 1, desired: 'running', host: hostName,
    createdAt: new Date(NOW).toISOString(), updatedAt: new Date(NOW).toISOString(),
    spec: { appkey: 'app', id, containers: [{ index: 0, image: 'x', options: { name: 'c', ...(volume ? { volumes: [{ path: '/data' }] } : {}) } }] },
  };
}

async function setup(hosts: HostRecord[], sets: SetObject[]) {
  const store = SqliteStore.open(':memory:');
  for (const h of hosts) await store.put(Keys.host(h.name), h);
  for (const s of sets) await store.put(Keys.set(s.tenant, s.appkey, s.id), s);
  const c = new HostLifecycleController(store, pino({ level: 'silent' }), { failoverMs: 30_000, intervalMs: 3_600_000 });
  const get = async (id: string) => (await store.get<SetObject>(Keys.set('default', 'app', id)))?.value;
  return { store, c, get };
}

test('a lost host gives up its sets without a volume; sets with one wait and say why', async () => {
  const lost = host('h1', { lastHeartbeat: new Date(NOW - 51_000).toISOString() });
  const { store, c, get } = await setup([lost, host('h2')], [set('1', 'h1'), set('2', 'h1', true), set('3', 'h2')]);
  await c.pass(NOW - 10_000); // silent 41 s: within grace + failover, nothing moves
  assert.equal((await get('1'))?.host, 'h1');
  await c.pass(NOW);
  const moved = await get('1');
  assert.equal(moved?.host, undefined);
  assert.equal(moved?.movedFrom, 'h1');
  assert.equal((await get('2'))?.host, 'h1');
  assert.equal((await get('3'))?.host, 'h2');
  const waits = await readEvents(store, { tenant: 'default', appkey: 'app', id: '2' });
  assert.match(waits[0]?.message ?? '', /local volume, so it waits/);
  await c.pass(NOW + 2000);
  assert.equal((await readEvents(store, { tenant: 'default', appkey: 'app', id: '2' })).length, 1, 'the wait is recorded once');
  c.stop();
});

test('drain moves one set at a time, the next only when the previous runs again', async () => {
  const { store, c, get } = await setup([host('h1', { cordoned: true, draining: true }), host('h2')], [set('1', 'h1'), set('2', 'h1'), set('3', 'h1', true)]);
  await c.pass(NOW);
  const after1 = await Promise.all(['1', '2', '3'].map(get));
  assert.deepEqual(after1.map((s) => s?.host), [undefined, 'h1', 'h1']);
  await c.pass(NOW);
  assert.equal((await get('2'))?.host, 'h1', 'waits while set 1 is not placed and running');

  // Set 1 is placed on h2 and runs there (and its move is complete).
  const s1 = await get('1');
  await store.put(Keys.set('default', 'app', '1'), { ...s1, host: 'h2' });
  const running: SetStatus = { phase: 'running', observedGeneration: 1, host: 'h2', containers: [], updatedAt: new Date(NOW).toISOString() };
  await store.put(Keys.status('default', 'app', '1'), running);
  await c.pass(NOW);
  assert.equal((await get('2'))?.host, undefined, 'the next set moves');
  assert.equal((await get('3'))?.host, 'h1', 'a set with a volume never moves by drain');
  c.stop();
});

test('a drain with no other host that can take the next set waits, says why once, and moves it once a host can', async () => {
  const other = host('h2', { cordoned: true });
  const { store, c, get } = await setup([host('h1', { cordoned: true, draining: true }), other], [set('1', 'h1'), set('2', 'h1')]);
  await c.pass(NOW);
  await c.pass(NOW + 2000);
  assert.deepEqual([(await get('1'))?.host, (await get('2'))?.host], ['h1', 'h1'], 'nothing leaves: the only other host is cordoned');
  const events = await readEvents(store, { tenant: 'default', appkey: 'app', id: '1' });
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'DrainWaiting']], 'said once over two passes');
  assert.match(events[0]?.message ?? '', /^host h1 is draining, but no other host can take set default\/app\/1 now \(0\/2 hosts fit: 2 hosts: host is cordoned\); the drain waits, the set keeps running$/);

  await store.put(Keys.host('h2'), { ...other, cordoned: false });
  await c.pass(NOW + 4000);
  assert.equal((await get('1'))?.host, undefined, 'h2 can take it now: it moves');
  assert.equal((await get('1'))?.movedFrom, 'h1');
  c.stop();
});
