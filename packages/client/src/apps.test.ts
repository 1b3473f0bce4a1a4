import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfError } from '@wharf/types';
import { WharfClient } from './index.js';

let server: Server;
let url: string;
const seen: { line: string; body: string; ifNoneMatch?: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const ifNoneMatch = req.headers['if-none-match'];
      seen.push({ line: `${req.method} ${req.url}`, body, ...(ifNoneMatch ? { ifNoneMatch } : {}) });
      const created = req.method === 'PUT' && ifNoneMatch === '*';
      res.writeHead(created ? 201 : 200, { 'content-type': 'application/json' }).end('{"appkey":"web","revision":3,"endpoints":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('app routes are tenant-scoped; create asks for a new app only; endpoints watch sends its revision', async () => {
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  const spec = { appkey: 'web', replicas: 2, template: { containers: [] } };
  assert.equal((await c.createApp(spec)).created, true);
  assert.equal((await c.applyApp(spec)).created, false);
  await c.listApps();
  await c.getApp('web');
  await c.scaleApp('web', 5);
  await c.appEvents('web');
  await c.deleteApp('web');
  await c.endpoints('web');
  await c.endpoints('web', { watch: true, revision: 3, timeoutSeconds: 5, all: true });
  assert.deepEqual(seen.map((s) => s.line), [
    'PUT /v1/apps/web?tenant=team-a',
    'PUT /v1/apps/web?tenant=team-a',
    'GET /v1/apps?tenant=team-a',
    'GET /v1/apps/web?tenant=team-a',
    'POST /v1/apps/web/scale?tenant=team-a',
    'GET /v1/apps/web/events?tenant=team-a',
    'DELETE /v1/apps/web?tenant=team-a',
    'GET /v1/apps/web/endpoints?tenant=team-a',
    'GET /v1/apps/web/endpoints?watch=true&revision=3&timeoutSeconds=5&all=true&tenant=team-a',
  ]);
  assert.deepEqual(seen.map((s) => s.ifNoneMatch), ['*', undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual(JSON.parse(seen[4]?.body ?? ''), { replicas: 5 });
  await assert.rejects(c.createApp({ replicas: 1 }), (e: WharfError) => e.code === 'VALIDATION_FAILED' && e.message === 'appkey: is required');
});

test('resize, rollout and autoscale routes carry the tenant of the client (forTenant for another)', async () => {
  seen.length = 0;
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  await c.resizeSet('web', 1, { cpu: 2 });
  await c.startRollout('web', { container: 'main', image: 'web:2' });
  await c.getRollout('web', 'current');
  await c.listRollouts('web');
  await c.rolloutAction('web', 'pause');
  await c.forTenant('team-b').getRollout('web', 3);
  await c.autoscaleStatus('web');
  assert.deepEqual(seen.map((s) => s.line), [
    'POST /v1/sets/web/1/resize?tenant=team-a',
    'POST /v1/apps/web/rollouts?tenant=team-a',
    'GET /v1/apps/web/rollouts/current?tenant=team-a',
    'GET /v1/apps/web/rollouts?tenant=team-a',
    'POST /v1/apps/web/rollouts/current/pause?tenant=team-a',
    'GET /v1/apps/web/rollouts/3?tenant=team-b',
    'GET /v1/apps/web/autoscale?tenant=team-a',
  ]);
  assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), { container: 'main', image: 'web:2' });
});
