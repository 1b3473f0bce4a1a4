/**
 * The app and endpoint routes through `inject()`, with the placement and apps
 * controllers running and a pretend agent that reports through the status route.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AppEvent, AppView, DesiredSets, Endpoints, HostRegistration, StatusReport } from '@wharf/types';
import { AppsController } from '../controllers/apps.js';
import { bearer, startTestServer, type TestServer } from '../testing/test-server.js';

const registration: HostRegistration = {
  name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 64, memory: 64 * 1024 ** 3, disk: 500 * 1024 ** 3 },
  agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test',
};

function app(appkey: string, replicas: number, over: Record<string, unknown> = {}) {
  return {
    appkey, replicas,
    template: {
      resources: { cpu: 0.5, memory: '64Mi' },
      containers: [
        { index: 1, image: 'web:1', options: { name: 'web', ports: [{ containerPort: 8080 }, { containerPort: 53, protocol: 'udp' }] } },
        { index: 2, image: 'log:1', options: { name: 'log', ports: [{ containerPort: 9100 }] } },
      ],
    },
    ...over,
  };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('app and endpoint routes (inject)', () => {
  let t: TestServer;
  let controller: AppsController;
  const as = () => bearer(t.admin);
  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url, headers: { ...as(), ...headers }, ...(payload ? { payload } : {}) });

  /** Reports every set placed on h1: running and ready, or gone when it is being deleted. */
  async function reportAll(ready = true): Promise<void> {
    const { sets } = (await t.app.inject({ url: '/v1/hosts/h1/desired?revision=0&wait=1', headers: bearer(t.join) })).json() as DesiredSets;
    const report: StatusReport = {
      sets: sets.map((s) => s.deleting
        ? { tenant: s.tenant, appkey: s.appkey, id: s.id, deleted: true }
        : {
          tenant: s.tenant, appkey: s.appkey, id: s.id,
          status: {
            phase: 'running', observedGeneration: s.generation, ready,
            containers: s.spec.containers.map((c) => ({ name: c.options.name, role: 'business' as const, index: c.index, image: c.image, state: 'running' as const, restartCount: 0, ready })),
          },
        }),
    };
    const r = await t.app.inject({ method: 'POST', url: '/v1/hosts/h1/status', headers: bearer(t.join), payload: report });
    assert.equal(r.statusCode, 204, r.body);
  }

  before(async () => {
    t = await startTestServer();
    controller = new AppsController(t.store, pino({ level: 'silent' }), { resyncMs: 50 });
    await controller.start();
    assert.equal((await t.app.inject({ method: 'PUT', url: '/v1/hosts/h1', headers: bearer(t.join), payload: registration })).statusCode, 200);
  });

  after(async () => {
    controller.stop();
    await t.stop();
  });

  it('names what is wrong with an app spec the way it is written', async () => {
    const cases: [object, RegExp][] = [
      [app('web', -1), /^replicas: must be 0\.\.10000$/],
      [app('web', 1.5), /^replicas: must be a whole number$/],
      [{ ...app('web', 1), template: { containers: [{ index: 1, image: '', options: { name: 'web' } }] } }, /^template\.containers\[0\]\.image: must not be empty$/],
      [{ ...app('web', 1), template: { containers: [{ index: 1, image: 'x', options: { name: 'web', cpu: 120 } }] } }, /^template\.containers\[0\]\.options\.cpu: must be 1\.\.100$/],
      [{ ...app('web', 1), template: { id: 3, containers: [{ index: 1, image: 'x', options: { name: 'web' } }] } }, /^template\.id: the app numbers its sets itself/],
      [{ ...app('web', 1), template: { network: { ip: '10.0.0.5' }, containers: [{ index: 1, image: 'x', options: { name: 'web' } }] } }, /^template\.network\.ip: a fixed IP cannot be shared/],
      [{ ...app('web', 1), template: 'nginx' }, /^template: must be an object/],
      [app('web', 1, { scaleIn: { policy: 'oldest' } }), /^scaleIn\.policy: must be "newest-first" or "least-loaded"$/],
      [app('web', 1, { autoscale: { min: 1 } }), /^autoscale.max: is required$/],
      [app('other', 1), /^appkey: "other" does not match the URL's "web"$/],
    ];
    for (const [body, message] of cases) {
      const r = await call('PUT', '/v1/apps/web', body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json().error.code, 'VALIDATION_FAILED');
      assert.match(r.json().error.message, message);
    }
    const two = await call('PUT', '/v1/apps/web', { appkey: 'web', replicas: 'many', template: { containers: [] } });
    assert.deepEqual(two.json().error.details.errors.map((e: { path: string }) => e.path).sort(), ['replicas', 'template.containers']);
    assert.equal((await call('GET', '/v1/apps')).json().length, 0, 'nothing was written');
  });

  it('creates (201), updates (200), refuses a create of an existing app with If-None-Match: *, takes YAML', async () => {
    const r = await call('PUT', '/v1/apps/web', app('web', 2));
    assert.equal(r.statusCode, 201, r.body);
    const view = r.json() as AppView;
    assert.deepEqual([view.appkey, view.tenant, view.replicas, view.generation], ['web', 'default', 2, 1]);
    const same = await call('PUT', '/v1/apps/web', app('web', 2));
    assert.deepEqual([same.statusCode, (same.json() as AppView).generation], [200, 1]);
    const exists = await call('PUT', '/v1/apps/web', app('web', 2), { 'if-none-match': '*' });
    assert.equal(exists.statusCode, 409);
    assert.equal(exists.json().error.code, 'APP_EXISTS');
    const yaml = 'appkey: yml\nreplicas: 0\ntemplate:\n  containers:\n    - index: 1\n      image: busybox\n      options: { name: main }\n';
    const y = await t.app.inject({ method: 'PUT', url: '/v1/apps/yml', headers: { ...as(), 'content-type': 'application/yaml' }, payload: yaml });
    assert.equal(y.statusCode, 201, y.body);
    assert.deepEqual((await call('GET', '/v1/apps')).json().map((a: AppView) => a.appkey), ['web', 'yml']);
  });

  it('scales, and the controller and the agent bring the sets up; endpoints list the ready ones with their ports', async () => {
    const sets = await waitFor('2 sets placed', async () => {
      const v = (await call('GET', '/v1/apps/web')).json() as AppView;
      return v.sets.length === 2 && v.sets.every((s) => s.host === 'h1') && v;
    });
    assert.deepEqual(sets.sets.map((s) => s.id), ['1', '2']);
    assert.equal((await call('GET', '/v1/apps/web/endpoints')).json().endpoints.length, 0, 'not ready yet');
    await reportAll();
    const e = (await call('GET', '/v1/apps/web/endpoints')).json() as Endpoints;
    assert.deepEqual(e.endpoints.map((x) => x.set), ['1', '2']);
    assert.deepEqual(e.endpoints[0], {
      set: '1', host: 'h1', ready: true, draining: false,
      ports: [{ containerPort: 8080, protocol: 'tcp', container: 'web' }, { containerPort: 53, protocol: 'udp', container: 'web' }, { containerPort: 9100, protocol: 'tcp', container: 'log' }],
    });
    const view = (await call('GET', '/v1/apps/web')).json() as AppView;
    assert.deepEqual([view.ready, view.message], [2, '2/2 ready']);

    const scaled = await call('POST', '/v1/apps/web/scale', { replicas: 4 });
    assert.equal(scaled.statusCode, 200, scaled.body);
    assert.equal((scaled.json() as AppView).replicas, 4);
    await waitFor('4 sets placed', async () => ((await call('GET', '/v1/apps/web')).json() as AppView).sets.filter((s) => s.host).length === 4);
    await reportAll();
    assert.equal((await call('GET', '/v1/apps/web/endpoints')).json().endpoints.length, 4);
    const events = (await call('GET', '/v1/apps/web/events')).json() as AppEvent[];
    assert.deepEqual(events.map((x) => x.message), ['replicas 0 → 2: created 2 sets (1, 2)', 'replicas 2 → 4: created 2 sets (3, 4)']);
    for (const bad of [{ replicas: -1 }, { replicas: 10_001 }, { replicas: 'x' }, {}]) {
      const r = await call('POST', '/v1/apps/web/scale', bad);
      assert.equal(r.statusCode, 400, `${JSON.stringify(bad)}: ${r.body}`);
      assert.match(r.json().error.message, /replicas/);
    }
  });

  it('watch: answers at once for an old revision, on a change, and with the same revision after the timeout', async () => {
    const now = (await call('GET', '/v1/apps/web/endpoints')).json() as Endpoints;
    const old = await call('GET', '/v1/apps/web/endpoints?watch=true&revision=1&timeoutSeconds=10');
    assert.equal((old.json() as Endpoints).revision, now.revision);

    const started = Date.now();
    const idle = (await call('GET', `/v1/apps/web/endpoints?watch=true&revision=${now.revision}&timeoutSeconds=1`)).json() as Endpoints;
    assert.equal(idle.revision, now.revision);
    assert.ok(Date.now() - started >= 900, 'held until the timeout');

    const watching = call('GET', `/v1/apps/web/endpoints?watch=true&revision=${now.revision}&timeoutSeconds=20`);
    const changed = Date.now();
    await call('POST', '/v1/apps/web/scale', { replicas: 3 });
    const answer = (await watching).json() as Endpoints;
    assert.notEqual(answer.revision, now.revision);
    assert.deepEqual(answer.endpoints.map((x) => x.set), ['1', '2', '3'], 'the draining set is out at once');
    assert.ok(Date.now() - changed < 15_000, 'answered on the change, well before the 20 s timeout');
    const all = (await call('GET', '/v1/apps/web/endpoints?all=true')).json() as Endpoints;
    assert.deepEqual(all.endpoints.map((x) => [x.set, x.draining]), [['1', false], ['2', false], ['3', false], ['4', true]]);
    assert.notEqual(all.revision, answer.revision);
    assert.equal((await call('GET', '/v1/apps/web/endpoints?timeoutSeconds=61&watch=true')).statusCode, 400);
  });

  it('keeps apps per tenant and answers 404 APP_NOT_FOUND for an app that is not there', async () => {
    const r = await call('PUT', '/v1/apps/web?tenant=team-a', app('web', 0));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal((r.json() as AppView).tenant, 'team-a');
    assert.deepEqual((await call('GET', '/v1/apps?tenant=team-a')).json().map((a: AppView) => a.appkey), ['web']);
    assert.equal(((await call('GET', '/v1/apps/web?tenant=team-a')).json() as AppView).replicas, 0);
    assert.equal(((await call('GET', '/v1/apps/web')).json() as AppView).replicas, 3, 'the default tenant\'s app is another one');
    for (const [method, url] of [['GET', '/v1/apps/none'], ['GET', '/v1/apps/none/events'], ['POST', '/v1/apps/none/scale'], ['DELETE', '/v1/apps/none'], ['GET', '/v1/apps/none/endpoints'], ['GET', '/v1/apps/yml?tenant=team-a']] as const) {
      const res = await call(method, url, method === 'POST' ? { replicas: 1 } : undefined);
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'APP_NOT_FOUND');
    }
    assert.equal((await call('GET', '/v1/apps?tenant=Bad!')).statusCode, 400);
  });

  it('endpoints of plain sets of an appkey, without an app', async () => {
    const r = await call('PUT', '/v1/sets/plain/1', { appkey: 'plain', id: 1, containers: [{ index: 1, image: 'x', options: { name: 'x', ports: [{ containerPort: 80 }] } }] });
    assert.equal(r.statusCode, 201, r.body);
    await waitFor('plain/1 placed', async () => (await call('GET', '/v1/sets/plain/1')).json().host === 'h1');
    await reportAll();
    assert.deepEqual((await call('GET', '/v1/apps/plain/endpoints')).json().endpoints.map((e: { set: string }) => e.set), ['1']);
    await call('DELETE', '/v1/sets/plain/1');
    await reportAll();
  });

  it('deletes an app: deleting at once, then gone with its sets once the host removed them', async () => {
    const r = await call('DELETE', '/v1/apps/web');
    assert.equal(r.statusCode, 202, r.body);
    const view = r.json() as AppView;
    assert.equal(view.deleting, true);
    assert.match(view.message, /^being deleted: \d sets left$/);
    assert.equal((await call('POST', '/v1/apps/web/scale', { replicas: 2 })).statusCode, 409);
    assert.equal((await call('PUT', '/v1/apps/web', app('web', 1))).statusCode, 409);
    assert.equal((await call('GET', '/v1/apps/web/endpoints')).json().endpoints.length, 0);
    await reportAll();
    await waitFor('the app gone', async () => (await call('GET', '/v1/apps/web')).statusCode === 404);
    assert.equal((await call('GET', '/v1/sets?appkey=web')).json().length, 0);
  });

  it("the app's update policy gives its rollouts their batch and maxUnavailable", async () => {
    assert.equal((await call('PUT', '/v1/apps/upd', app('upd', 3, { update: { batch: 1, maxUnavailable: 2 } }))).statusCode, 201);
    await waitFor('3 sets', async () => ((await call('GET', '/v1/apps/upd')).json() as AppView).sets.length === 3);
    const r = await call('POST', '/v1/apps/upd/rollouts', { container: 'web', image: 'web:2' });
    assert.equal(r.statusCode, 201, r.body);
    assert.deepEqual([r.json().batchSize, r.json().maxUnavailable, r.json().batches], [1, 2, 3]);
    assert.equal((await call('POST', '/v1/apps/upd/rollouts/current/rollback')).statusCode, 200);
    assert.equal((await call('DELETE', '/v1/apps/upd')).statusCode, 202);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    for (const path of ['/v1/apps', '/v1/apps/{appkey}', '/v1/apps/{appkey}/scale', '/v1/apps/{appkey}/endpoints', '/v1/apps/{appkey}/events']) assert.ok(doc.paths[path], path);
    assert.ok(doc.paths['/v1/apps/{appkey}']?.put);
  });
});
