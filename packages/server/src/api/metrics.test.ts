import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostMetrics, HostMetricsHistory, HostRegistration, MetricsReport, SetMetrics, SetMetricsHistory, SetTop } from '@wharf/types';
import { Keys } from '../state/keys.js';
import type { HostRecord } from '../state/hosts.js';
import { adminApi, bearer, heartbeat, placedOn, startTestServer, type TestServer } from '../testing/test-server.js';

function registration(name: string, metrics?: MetricsReport): HostRegistration {
  return {
    name, zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 100 * 1024 ** 3 },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test', ...(metrics ? { metrics } : {}),
  };
}

function spec(appkey: string, id: number) {
  return { appkey, id, resources: { cpu: 1, memory: '256Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'web' } }] };
}

let clock = Date.parse('2025-01-01T12:00:00Z');
/** Collection times ten seconds apart, as an agent stamps them. */
function nextTime(): string {
  clock += 10_000;
  return new Date(clock).toISOString();
}

function hostMetrics(time: string, cpu = 1): HostMetrics {
  return { time, cpu, cpus: 8, memory: 4 * 1024 ** 3, memoryTotal: 16 * 1024 ** 3, load1: 0.5, load5: 0.4, load15: 0.3, uplinks: [{ name: 'eth0', rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 }], containers: 2 };
}

function setMetrics(tenant: string, appkey: string, id: string, time: string, cpu: number, memory = 64 * 1024 ** 2): SetMetrics {
  const s = { cpu, cpuLimit: 1, memory, memoryLimit: 256 * 1024 ** 2, rxBytes: 10, txBytes: 20, pids: 3 };
  return { tenant, appkey, id, time, set: s, containers: { web: s }, volumeUsed: 1024, volumeQuota: 1024 ** 3 };
}

describe('metrics: ingestion with heartbeats and the metrics routes', () => {
  let t: TestServer;
  let api: ReturnType<typeof adminApi>;

  before(async () => {
    t = await startTestServer();
    api = adminApi(t);
    assert.equal((await heartbeat(t, registration('h1'))).statusCode, 200);
    for (const [tenant, appkey, id] of [['default', 'com.x', 1], ['default', 'com.x', 2], ['team-a', 'com.x', 1]] as const) {
      const r = await t.app.inject({ method: 'PUT', url: `/v1/sets/${appkey}/${id}?tenant=${tenant}`, headers: bearer(t.admin), payload: spec(appkey, id) });
      assert.equal(r.statusCode, 201, r.body);
    }
    await placedOn(t, 'com.x/1');
    await placedOn(t, 'com.x/2');
    for (let i = 0; i < 50 && !((await api('GET', '/v1/sets/com.x/1?tenant=team-a')).json() as { host?: string }).host; i++) await new Promise((r) => setTimeout(r, 20));
    // h2 comes after every set is placed on h1.
    assert.equal((await heartbeat(t, registration('h2'))).statusCode, 200);
    for (const cpu of [0.25, 0.75]) {
      const time = nextTime();
      const report: MetricsReport = {
        host: hostMetrics(time, cpu * 4),
        sets: [setMetrics('default', 'com.x', '1', time, cpu), setMetrics('default', 'com.x', '2', time, cpu / 2, 200 * 1024 ** 2), setMetrics('team-a', 'com.x', '1', time, 0.9)],
      };
      assert.equal((await heartbeat(t, registration('h1', report))).statusCode, 200);
    }
    // h2 claims h1's set and a set that does not exist: both ignored.
    const time = nextTime();
    const r = await heartbeat(t, registration('h2', { host: hostMetrics(time), sets: [setMetrics('default', 'com.x', '1', time, 7), setMetrics('default', 'com.nope', '1', time, 7)] }));
    assert.equal(r.statusCode, 200);
  });

  after(() => t.stop());

  it('keeps metrics out of the host record and out of the host view', async () => {
    const kv = await t.store.get<HostRecord>(Keys.host('h1'));
    assert.ok(kv);
    assert.equal('metrics' in kv.value, false);
    assert.equal('metrics' in (await api('GET', '/v1/hosts/h1')).json(), false);
  });

  it("serves a set's history, with its host and the agent's interval", async () => {
    const r = await api('GET', '/v1/sets/com.x/1/metrics');
    assert.equal(r.statusCode, 200, r.body);
    const h = r.json() as SetMetricsHistory;
    assert.equal(h.host, 'h1');
    assert.equal(h.intervalSeconds, 10);
    assert.deepEqual(h.points.map((p) => p.set.cpu), [0.25, 0.75]);
    assert.equal(h.points[0]?.containers.web?.pids, 3);
    assert.equal(h.points[0]?.volumeQuota, 1024 ** 3);
    assert.equal('tenant' in (h.points[0] ?? {}), false);
    assert.deepEqual((await api('GET', '/v1/sets/com.x/1/metrics?since=-10m&step=1h')).json().points.length, 1);
    assert.equal((await api('GET', `/v1/sets/com.x/1/metrics?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json().points.length, 0);
  });

  it('ignores what a host reports for sets not placed on it', async () => {
    const points = ((await api('GET', '/v1/sets/com.x/1/metrics')).json() as SetMetricsHistory).points;
    assert.ok(points.every((p) => p.set.cpu < 7));
    const h2 = (await api('GET', '/v1/hosts/h2/metrics')).json() as HostMetricsHistory;
    assert.equal(h2.points.length, 1);
    assert.equal(((await api('GET', '/v1/metrics/sets')).json() as SetTop[]).some((s) => s.appkey === 'com.nope'), false);
  });

  it('scopes sets by tenant', async () => {
    const own = (await api('GET', '/v1/sets/com.x/1/metrics?tenant=team-a')).json() as SetMetricsHistory;
    assert.equal(own.tenant, 'team-a');
    assert.deepEqual(own.points.map((p) => p.set.cpu), [0.9, 0.9]);
    const top = (await api('GET', '/v1/metrics/sets?tenant=team-a')).json() as SetTop[];
    assert.deepEqual(top.map((s) => [s.tenant, s.id, s.set.cpu]), [['team-a', '1', 0.9]]);
    assert.equal((await api('GET', '/v1/sets/com.x/9/metrics?tenant=team-a')).statusCode, 404);
    assert.equal((await api('GET', '/v1/metrics/sets?tenant=Bad_Tenant')).statusCode, 400);
  });

  it('answers 404 for an unknown set or host, and empty points when nothing came yet', async () => {
    const set = await api('GET', '/v1/sets/com.x/99/metrics');
    assert.equal(set.statusCode, 404);
    assert.equal(set.json().error.code, 'SET_NOT_FOUND');
    const host = await api('GET', '/v1/hosts/nope/metrics');
    assert.equal(host.statusCode, 404);
    assert.equal(host.json().error.code, 'HOST_NOT_FOUND');
    assert.equal((await api('PUT', '/v1/sets/com.x/3', spec('com.x', 3))).statusCode, 201);
    const empty = await api('GET', '/v1/sets/com.x/3/metrics');
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json().points, []);
  });

  it('answers 400 naming the field for a bad since or step', async () => {
    for (const [url, field] of [
      ['/v1/sets/com.x/1/metrics?since=yesterday', 'since'],
      ['/v1/hosts/h1/metrics?since=12', 'since'],
      ['/v1/sets/com.x/1/metrics?step=fast', 'step'],
      ['/v1/metrics/sets?sort=disk', 'querystring.sort'],
      ['/v1/metrics/sets?limit=0', 'querystring.limit'],
    ] as const) {
      const r = await api('GET', url);
      assert.equal(r.statusCode, 400, url);
      assert.equal(r.json().error.code, 'VALIDATION_FAILED');
      assert.ok(r.json().error.details.errors.some((e: { path: string }) => e.path === field), `${url}: ${r.body}`);
    }
  });

  it("serves a host's history", async () => {
    const h = (await api('GET', '/v1/hosts/h1/metrics?since=-1h')).json() as HostMetricsHistory;
    assert.equal(h.host, 'h1');
    assert.deepEqual(h.points.map((p) => p.cpu), [1, 3]);
    assert.equal(h.intervalSeconds, 10);
  });

  it('serves the newest point of every set, sorted and limited, and of every host', async () => {
    const byCpu = (await api('GET', '/v1/metrics/sets')).json() as SetTop[];
    assert.deepEqual(byCpu.map((s) => [s.id, s.host, s.set.cpu]), [['1', 'h1', 0.75], ['2', 'h1', 0.375]]);
    const byMemory = (await api('GET', '/v1/metrics/sets?appkey=com.x&sort=memory&limit=1')).json() as SetTop[];
    assert.deepEqual(byMemory.map((s) => s.id), ['2']);
    assert.deepEqual((await api('GET', '/v1/metrics/sets?appkey=com.y')).json(), []);
    const hosts = (await api('GET', '/v1/metrics/hosts')).json() as (HostMetrics & { host: string })[];
    assert.deepEqual(hosts.map((h) => [h.host, h.cpu]), [['h1', 3], ['h2', 1]]);
    assert.equal(hosts[0]?.uplinks[0]?.name, 'eth0');
  });

  it('needs a token', async () => {
    for (const url of ['/v1/metrics/sets', '/v1/metrics/hosts', '/v1/sets/com.x/1/metrics', '/v1/hosts/h1/metrics', '/metrics']) {
      assert.equal((await t.app.inject({ url })).statusCode, 401, url);
    }
  });

  it('drops a report the schema rejects but keeps the heartbeat', async () => {
    const before = (await t.store.get<HostRecord>(Keys.host('h2')))?.value.lastHeartbeat;
    await new Promise((r) => setTimeout(r, 5));
    const bad = { host: hostMetrics(nextTime(), 2), sets: [] } as MetricsReport;
    (bad.host as { cpu: number }).cpu = -1;
    const r = await heartbeat(t, registration('h2', bad));
    assert.equal(r.statusCode, 200, r.body);
    assert.notEqual((await t.store.get<HostRecord>(Keys.host('h2')))?.value.lastHeartbeat, before);
    assert.equal(((await api('GET', '/v1/hosts/h2/metrics')).json() as HostMetricsHistory).points.length, 1);
    assert.match((await api('GET', '/metrics')).body, /^wharf_metrics_reports_rejected_total 1$/m);
    const broken = await heartbeat(t, { ...registration('h2'), capacity: 'lots' } as unknown as HostRegistration);
    assert.equal(broken.statusCode, 400, 'the rest of the heartbeat is still validated');
  });

  it('forgets the series of a deleted set', async () => {
    assert.equal((await api('DELETE', '/v1/sets/com.x/2')).statusCode, 202);
    await t.app.inject({ method: 'POST', url: '/v1/hosts/h1/status', headers: bearer(t.join), payload: { sets: [{ tenant: 'default', appkey: 'com.x', id: '2', deleted: true }] } });
    assert.equal((await api('GET', '/v1/sets/com.x/2')).statusCode, 404);
    for (let i = 0; i < 50 && ((await api('GET', '/v1/metrics/sets')).json() as SetTop[]).some((s) => s.id === '2'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(((await api('GET', '/v1/metrics/sets')).json() as SetTop[]).map((s) => s.id), ['1']);
    // Re-created under the same name, it starts with an empty history.
    assert.equal((await api('PUT', '/v1/sets/com.x/2', spec('com.x', 2))).statusCode, 201);
    assert.deepEqual((await api('GET', '/v1/sets/com.x/2/metrics')).json().points, []);
  });
});
