import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredSets, Host, HostRegistration, SetEvent, SetView } from '@wharf/types';
import { bootstrapTokens } from './auth/tokens.js';
import type { App } from './api/context.js';
import { bearer, startTestServer, type TestServer } from './testing/test-server.js';

const seed = {
  version: 'v2', id: 1, appkey: 'com.sankuai.inf.hulk.test',
  containers: [{ index: 0, image: 'hulk.test-prod', options: { name: 'test', cpu: 80, mem: 20, volumes: [{ path: '/opt/logs', quota: 100 }], command: { cmd: '/bin/bash', args: ['-c', 'run.sh'] } } }],
};

const registration: HostRegistration = {
  name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 500 * 1024 ** 3 },
  agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test',
};

describe('wharf-server API (inject)', () => {
  let t: TestServer;
  let app: App;
  let admin: string;
  let join_: string;
  let store: TestServer['store'];
  let dir: string;
  const as = bearer;

  before(async () => {
    t = await startTestServer();
    ({ app, admin, join: join_, store, dir } = t);
  });

  after(() => t.stop());

  it('serves health and OpenAPI without a token, everything else needs one', async () => {
    assert.equal((await app.inject({ url: '/v1/health' })).statusCode, 200);
    const doc = (await app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/sets/{appkey}/{id}']);
    const r = await app.inject({ url: '/v1/sets' });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().error.code, 'UNAUTHORIZED');
    assert.equal((await app.inject({ url: '/v1/sets', headers: as('nope') })).statusCode, 401);
    const agentOnAdmin = await app.inject({ url: '/v1/sets', headers: as(join_) });
    assert.equal(agentOnAdmin.statusCode, 403);
    assert.equal(agentOnAdmin.json().error.code, 'FORBIDDEN');
  });

  it('bootstrapping tokens twice keeps them', async () => {
    assert.deepEqual(await bootstrapTokens(store, dir), { admin, join: join_ });
  });

  it('accepts the seed spec verbatim, as JSON and as YAML; re-apply bumps the generation only on change', async () => {
    const put = (body: unknown) => app.inject({ method: 'PUT', url: `/v1/sets/${seed.appkey}/1`, headers: as(admin), payload: body as object });
    const created = await put(seed);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((created.json() as SetView).generation, 1);
    assert.equal((await put(seed)).statusCode, 200);
    assert.equal(((await put(seed)).json() as SetView).generation, 1);
    const yaml = `appkey: ${seed.appkey}\nid: 1\ncontainers:\n  - index: 0\n    image: hulk.test-prod\n    options: {name: test, cpu: 50}\n`;
    const r = await app.inject({ method: 'PUT', url: `/v1/sets/${seed.appkey}/1`, headers: { ...as(admin), 'content-type': 'application/yaml' }, payload: yaml });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as SetView).generation, 2);
  });

  it('names the field in validation errors', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...seed, containers: [{ ...seed.containers[0], options: { name: 'test', cpu: 150 } }] }, 'containers[0].options.cpu', /must be 1\.\.100/],
      [{ ...seed, containers: [] }, 'containers', /at least 1/],
      [{ ...seed, id: 2 }, 'id', /does not match/],
      [{ ...seed, extra: 1 }, 'extra', /unknown field/],
      [{ ...seed, resources: { memory: 'lots' } }, 'resources.memory', /not a size/],
    ];
    for (const [body, path, message] of cases) {
      const r = await app.inject({ method: 'PUT', url: `/v1/sets/${seed.appkey}/1`, headers: as(admin), payload: body as object });
      assert.equal(r.statusCode, 400, r.body);
      const err = r.json().error;
      assert.equal(err.code, 'VALIDATION_FAILED');
      assert.ok(err.details.errors.some((e: { path: string; message: string }) => e.path === path && message.test(e.message)), `${path}: ${r.body}`);
    }
    const bad = await app.inject({ method: 'PUT', url: `/v1/sets/${seed.appkey}/1`, headers: { ...as(admin), 'content-type': 'application/yaml' }, payload: 'a: [' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'BAD_REQUEST');
    const xml = await app.inject({ method: 'PUT', url: `/v1/sets/${seed.appkey}/1`, headers: { ...as(admin), 'content-type': 'text/xml' }, payload: '<a/>' });
    assert.equal(xml.statusCode, 415);
  });

  it('answers 404 with the catalog shape for unknown sets and routes', async () => {
    const r = await app.inject({ url: '/v1/sets/nope/1', headers: as(admin) });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { error: { code: 'SET_NOT_FOUND', message: 'set nope/1 not found', details: { appkey: 'nope', id: '1' } } });
    assert.equal((await app.inject({ url: '/v1/nothing', headers: as(admin) })).json().error.code, 'NOT_FOUND');
  });

  it('without hosts a set stays pending with the scheduler\'s reason', async () => {
    await new Promise((r) => setTimeout(r, 150));
    const s = (await app.inject({ url: `/v1/sets/${seed.appkey}/1`, headers: as(admin) })).json() as SetView;
    assert.equal(s.status, 'pending');
    const events = (await app.inject({ url: `/v1/sets/${seed.appkey}/1/events`, headers: as(admin) })).json() as SetEvent[];
    assert.ok(events.some((e) => e.reason === 'FailedScheduling' && e.message === 'no hosts are registered'));
  });

  it('runs the agent protocol: register, long-poll desired sets, report status', async () => {
    const reg = await app.inject({ method: 'PUT', url: '/v1/hosts/h1', headers: as(join_), payload: registration });
    assert.equal(reg.statusCode, 200, reg.body);
    assert.equal((reg.json() as Host).state, 'ready');
    // The placement controller puts the pending set on the new host; the long poll sees it.
    const desired = await app.inject({ url: '/v1/hosts/h1/desired?revision=0&wait=5', headers: as(join_) });
    let d = desired.json() as DesiredSets;
    for (let i = 0; d.sets.length === 0 && i < 50; i++) {
      d = (await app.inject({ url: `/v1/hosts/h1/desired?revision=${d.revision}&wait=5`, headers: as(join_) })).json() as DesiredSets;
    }
    assert.equal(d.sets.length, 1);
    assert.equal(d.sets[0]?.host, 'h1');

    // Nothing changed since: the long poll waits (here 1 s) and returns the same sets.
    const t0 = Date.now();
    const again = (await app.inject({ url: `/v1/hosts/h1/desired?revision=${d.revision}&wait=1`, headers: as(join_) })).json() as DesiredSets;
    assert.ok(Date.now() - t0 >= 900);
    assert.equal(again.sets.length, 1);

    const report = {
      sets: [{
        tenant: 'default', appkey: seed.appkey, id: '1',
        status: { phase: 'running', observedGeneration: 2, containers: [{ name: 'infra', role: 'infra', index: -1, image: 'wharf/busybox', state: 'running', restartCount: 0, containerId: 'abc' }] },
        events: [{ time: new Date().toISOString(), type: 'Normal', reason: 'Started', message: 'started infra' }],
      }],
    };
    assert.equal((await app.inject({ method: 'POST', url: '/v1/hosts/h1/status', headers: as(join_), payload: report })).statusCode, 204);
    const s = (await app.inject({ url: `/v1/sets/${seed.appkey}/1`, headers: as(admin) })).json() as SetView;
    assert.equal(s.status, 'running');
    assert.equal(s.host, 'h1');
    assert.equal(s.containers[0]?.containerId, 'abc');

    const hosts = (await app.inject({ url: '/v1/hosts', headers: as(admin) })).json() as Host[];
    assert.equal(hosts[0]?.sets, 1);
    assert.equal(hosts[0]?.allocated.cpu, 1);
    // A heartbeat answers with the same allocation, kept from the watch of the sets.
    const beat = (await app.inject({ method: 'PUT', url: '/v1/hosts/h1', headers: as(join_), payload: registration })).json() as Host;
    assert.deepEqual([beat.sets, beat.allocated], [hosts[0]?.sets, hosts[0]?.allocated]);

    // A report from another host about this set is stale and ignored.
    await app.inject({ method: 'POST', url: '/v1/hosts/h2/status', headers: as(join_), payload: { sets: [{ ...report.sets[0], status: { ...report.sets[0]?.status, phase: 'failed' } }] } });
    assert.equal(((await app.inject({ url: `/v1/sets/${seed.appkey}/1`, headers: as(admin) })).json() as SetView).status, 'running');
  });

  it('stop, start and restart change desired state; delete waits for the agent', async () => {
    const url = `/v1/sets/${seed.appkey}/1`;
    const stop = (await app.inject({ method: 'POST', url: `${url}/stop`, headers: as(admin) })).json() as SetView;
    assert.equal(stop.desired, 'stopped');
    const desired = async () => (await app.inject({ url: '/v1/hosts/h1/desired?revision=0&wait=0', headers: as(join_) })).json() as DesiredSets;
    const stopped = await desired();
    assert.equal(stopped.sets[0]?.desired, 'stopped');
    const restart = await app.inject({ method: 'POST', url: `${url}/restart`, headers: as(admin) });
    assert.equal((restart.json() as SetView).desired, 'running');
    // The sets read for the asks before are not served again after a write.
    const d = await desired();
    assert.ok(d.revision > stopped.revision);
    assert.equal(d.sets[0]?.desired, 'running');
    assert.ok(d.sets[0]?.restartRequestedAt);

    const del = await app.inject({ method: 'DELETE', url, headers: as(admin) });
    assert.equal(del.statusCode, 202);
    assert.equal((del.json() as SetView).status, 'deleting');
    assert.equal((await app.inject({ method: 'POST', url: `${url}/start`, headers: as(admin) })).statusCode, 409);
    assert.equal((await app.inject({ url, headers: as(admin) })).statusCode, 200);
    await app.inject({ method: 'POST', url: '/v1/hosts/h1/status', headers: as(join_), payload: { sets: [{ tenant: 'default', appkey: seed.appkey, id: '1', deleted: true }] } });
    assert.equal((await app.inject({ url, headers: as(admin) })).statusCode, 404);
  });
});
