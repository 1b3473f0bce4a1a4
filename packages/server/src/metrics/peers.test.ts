import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { HostRegistration, MetricsReport, SetMetricsHistory } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { adminApi, bearer, heartbeat, placedOn, startTestServer, type TestServer } from '../testing/test-server.js';
import { freePort } from '@wharf/store/testing';
import { waitFor } from '../testing/wait.js';
import { CustomMetrics } from './custom.js';
import { Monitoring } from './monitoring.js';
import { MetricsPeers, RELAY_PATH, type ServerRecord } from './peers.js';

function registration(metrics?: MetricsReport): HostRegistration {
  return {
    name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 100 * 1024 ** 3 },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test', ...(metrics ? { metrics } : {}),
  };
}

function report(time: string, cpu: number): MetricsReport {
  const s = { cpu, cpuLimit: 1, memory: 1024, memoryLimit: 256 * 1024 ** 2, rxBytes: 0, txBytes: 0, pids: 1 };
  return {
    host: { time, cpu, cpus: 8, memory: 1, memoryTotal: 2, load1: 0, load5: 0, load15: 0, uplinks: [], containers: 1 },
    sets: [{ tenant: 'default', appkey: 'web', id: '1', time, set: s, containers: { web: s } }],
  };
}

/** One server of two sharing a store: its API on a loopback port, its peers, and what it logged. */
interface Member {
  t: TestServer;
  peers: MetricsPeers;
  custom: CustomMetrics;
  monitoring: Monitoring;
  self: ServerRecord;
  logs: { level: number; msg: string }[];
}

describe('metrics relay between the servers of one store', () => {
  /** The store and the tokens the servers share, as servers of one etcd do (its own API is not used). */
  let base: TestServer;
  const members: Member[] = [];
  let a: Member;
  let b: Member;

  const start = async (name: string): Promise<Member> => {
    const logs: Member['logs'] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logs.push(JSON.parse(String(chunk)) as Member['logs'][number]); done(); } }));
    const custom = new CustomMetrics();
    const monitoring = await Monitoring.start(base.store);
    const peers = new MetricsPeers(base.store, base.admin, log, { flushMs: 20, retryMs: 300 });
    const t = await startTestServer({ shareWith: base, context: { monitoring, customMetrics: custom, peers } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const self = { name, url: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, startedAt: new Date().toISOString() };
    await peers.start(self);
    const m = { t, peers, custom, monitoring, self, logs };
    members.push(m);
    return m;
  };

  before(async () => {
    base = await startTestServer();
    a = await start('a');
    b = await start('b');
    assert.equal((await heartbeat(a.t, registration())).statusCode, 200);
    const api = adminApi(a.t);
    const created = await api('PUT', '/v1/apps/web', { appkey: 'web', replicas: 0, template: { resources: { cpu: 0.1, memory: '64Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'web' } }] } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await api('PUT', '/v1/sets/web/1', { appkey: 'web', id: 1, resources: { cpu: 0.1, memory: '64Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'web' } }] })).statusCode, 201);
    await placedOn(a.t, 'web/1');
  });

  after(async () => {
    for (const m of members) {
      await m.peers.stop();
      m.monitoring.stop();
      await m.t.stop();
    }
    await base?.stop();
  });
  const points = async (m: Member) => ((await adminApi(m.t)('GET', '/v1/sets/web/1/metrics')).json() as SetMetricsHistory).points.length;

  it('each server registers itself in the store with its URL', async () => {
    const { items } = await a.t.store.list<ServerRecord>(Keys.serversPrefix);
    assert.deepEqual(items.map((kv) => kv.value).sort((x, y) => x.name.localeCompare(y.name)), [a.self, b.self]);
  });

  it('a heartbeat\'s report reaches the other server, and is not sent back', async () => {
    assert.equal((await heartbeat(a.t, registration(report('2026-01-01T00:00:10Z', 0.5)))).statusCode, 200);
    await waitFor('the report on b', async () => (await points(b)) === 1);
    const top = (await adminApi(b.t)('GET', '/v1/metrics/hosts')).json() as { host: string; cpu: number }[];
    assert.deepEqual(top.map((h) => [h.host, h.cpu]), [['h1', 0.5]]);
    // b does not pass on what it received: a still holds its one point after several flushes.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await points(a), 1);
    assert.equal(await points(b), 1);
  });

  it('a custom metric pushed to one server reaches the other', async () => {
    assert.equal((await adminApi(b.t)('POST', '/v1/apps/web/metrics', { name: 'qps', value: 300 })).statusCode, 204);
    await waitFor('qps on a', async () => a.custom.average('default', 'web', 'qps', 60_000) === 300);
  });

  it('the relay route takes only an admin and a well-formed batch, naming what is wrong', async () => {
    const batch = { from: 'x', hosts: [], custom: [] };
    assert.equal((await a.t.app.inject({ method: 'POST', url: RELAY_PATH, payload: batch })).statusCode, 401);
    assert.equal((await a.t.app.inject({ method: 'POST', url: RELAY_PATH, payload: batch, headers: bearer(a.t.join) })).statusCode, 403);
    const bad = await adminApi(a.t)('POST', RELAY_PATH, { ...batch, custom: [{ tenant: 'default', appkey: 'web', name: 'qps', value: -1, at: 0 }] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /body\.custom\[0\]\.value: must be >= 0/);
    assert.equal((await adminApi(a.t)('POST', RELAY_PATH, batch)).statusCode, 204);
  });

  it('a peer that does not answer is logged once and skipped, holding up no other; served again when it is back', async () => {
    // A server killed with SIGKILL leaves its record behind: nothing listens at its URL.
    const dead = { name: 'x', url: `http://127.0.0.1:${await freePort()}`, startedAt: new Date().toISOString() };
    await a.t.store.put(Keys.server('x'), dead);
    await new Promise((r) => setTimeout(r, 350));
    for (let i = 1; i <= 3; i++) {
      a.peers.customSample({ tenant: 'default', appkey: 'web', name: 'down', value: i, at: Date.now() });
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor('every sample on b', async () => b.custom.average('default', 'web', 'down', 60_000) === 2);
    assert.deepEqual(a.logs.filter((l) => l.msg.startsWith('metrics relay to the server failed')).map((l) => (l as { peer?: string }).peer), ['x']);
    // A server starts under that name: a finds it when it reads the list again, and logs that it works again.
    const c = await start('x');
    await new Promise((r) => setTimeout(r, 350));
    await waitFor('a sample on x', async () => {
      a.peers.customSample({ tenant: 'default', appkey: 'web', name: 'back', value: 7, at: Date.now() });
      await new Promise((r) => setTimeout(r, 50));
      return c.custom.average('default', 'web', 'back', 60_000) === 7;
    });
    assert.ok(a.logs.some((l) => l.msg === 'metrics relay to the server works again' && (l as { peer?: string }).peer === 'x'), JSON.stringify(a.logs));
  });

  it('a server unreachable for forgetMs loses its record; a live server whose record is gone puts it back', async () => {
    const logs: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logs.push((JSON.parse(String(chunk)) as { msg: string }).msg); done(); } }));
    const d = new MetricsPeers(base.store, base.admin, log, { flushMs: 10, retryMs: 100, forgetMs: 400 });
    await base.store.put(Keys.server('y'), { name: 'y', url: `http://127.0.0.1:${await freePort()}`, startedAt: new Date().toISOString() });
    await d.start({ name: 'd', url: 'http://127.0.0.1:1', startedAt: new Date().toISOString() });
    try {
      d.customSample({ tenant: 'default', appkey: 'web', name: 'gone', value: 1, at: Date.now() });
      await waitFor('y forgotten', async () => !(await base.store.get(Keys.server('y'))));
      assert.ok(logs.includes('forgetting a server long unreachable: its record is deleted'), JSON.stringify(logs));
      await base.store.delete(Keys.server('d'));
      await waitFor('d\'s record back', async () => (await base.store.get<ServerRecord>(Keys.server('d')))?.value.name === 'd');
    } finally {
      await d.stop();
    }
    assert.equal(await base.store.get(Keys.server('d')), undefined);
  });

  it('a stopped server deletes its record', async () => {
    await a.peers.stop();
    const { items } = await a.t.store.list<ServerRecord>(Keys.serversPrefix);
    assert.deepEqual(items.map((kv) => kv.value.name), ['b', 'x']);
  });
});
