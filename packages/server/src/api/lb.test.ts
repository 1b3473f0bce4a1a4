/** `GET /v1/apps/APP/lb` through `inject()`, with a stand-in for HAProxy's view. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LbSource } from './context.js';
import { adminApi, startTestServer, type TestServer } from '../testing/test-server.js';

const template = { containers: [{ index: 1, image: 'web:1', options: { name: 'web', ports: [{ containerPort: 8080 }] } }] };

describe('GET /v1/apps/APP/lb (inject)', () => {
  let t: TestServer;
  let running = true;
  const lb: LbSource = {
    describe: async (tenant, appkey) => (running ? { backend: `app:${tenant}:${appkey}`, slots: [{ server: 's1', set: '1', addr: '10.0.0.5', port: 8080, state: 'ready' }, { server: 's2', addr: '0.0.0.0', port: 8080, state: 'maint' }] } : undefined),
  };
  const get = (url: string) => adminApi(t)('GET', url);
  const put = (spec: unknown) => adminApi(t)('PUT', `/v1/apps/${(spec as { appkey: string }).appkey}`, spec);

  before(async () => {
    t = await startTestServer({ context: { lb } });
  });
  after(() => t.stop());

  it('shows the frontend and the slots as HAProxy reports them', async () => {
    const r = await put({ appkey: 'web', replicas: 0, template, lb: { port: 8081, targetPort: 8080 } });
    assert.ok(r.statusCode < 300, r.body);
    const view = (await get('/v1/apps/web/lb')).json();
    assert.deepEqual(view, {
      appkey: 'web', frontend: { port: 8081, targetPort: 8080 }, backend: 'app:default:web', running: true,
      slots: [{ server: 's1', set: '1', addr: '10.0.0.5', port: 8080, state: 'ready' }, { server: 's2', addr: '0.0.0.0', port: 8080, state: 'maint' }],
    });
    running = false;
    assert.deepEqual((await get('/v1/apps/web/lb')).json().slots, []);
    assert.equal((await get('/v1/apps/web/lb')).json().running, false);
  });

  it('404: LB_NOT_FOUND for an app without lb, APP_NOT_FOUND for no app', async () => {
    await put({ appkey: 'plain', replicas: 0, template });
    const none = await get('/v1/apps/plain/lb');
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error.code, 'LB_NOT_FOUND');
    assert.equal((await get('/v1/apps/nothing/lb')).json().error.code, 'APP_NOT_FOUND');
  });

  it('rejects a targetPort the template does not declare', async () => {
    const r = await put({ appkey: 'bad', replicas: 0, template, lb: { port: 8081, targetPort: 9999 } });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /lb\.targetPort/);
  });
});
