import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfClient } from './index.js';

let server: Server;
let url: string;
const seen: { line: string; type?: string; length?: string; body: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1').on('data', (d: string) => (body += d)).on('end', () => {
      seen.push({ line: `${req.method} ${req.url}`, ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}), ...(req.headers['content-length'] ? { length: req.headers['content-length'] } : {}), body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('image routes: the tenant in the query or the path (default without one), names escaped, the archive streamed, visibility set', async () => {
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  await c.listImages();
  await c.getImage('web/api');
  await c.deleteImage('web', '1');
  await c.deleteImage('web');
  await c.tagImage('web', 'stable', 'web:1');
  await c.planImageUpload('web', ['sha256:a']);
  async function* archive() {
    yield new Uint8Array([1, 2, 3]);
    yield new Uint8Array([4]);
  }
  await c.uploadImage({ name: 'web', tag: '1', body: archive(), length: 4 });
  await new WharfClient({ server: url }).getImage('web');
  await c.runRegistryGc();
  await c.setImagePublic('web/api', true);
  assert.deepEqual(seen.map((s) => s.line), [
    'GET /v1/images?tenant=team-a',
    'GET /v1/images/team-a/web%2Fapi',
    'DELETE /v1/images/team-a/web/tags/1',
    'DELETE /v1/images/team-a/web',
    'PUT /v1/images/team-a/web/tags/stable',
    'POST /v1/images/upload/plan?tenant=team-a',
    'POST /v1/images/upload?name=web&tag=1&tenant=team-a',
    'GET /v1/images/default/web',
    'POST /v1/registry/gc',
    'PUT /v1/images/team-a/web%2Fapi/public',
  ]);
  assert.deepEqual(JSON.parse(seen[4]!.body), { source: 'web:1' });
  assert.deepEqual(JSON.parse(seen[5]!.body), { name: 'web', layers: ['sha256:a'] });
  assert.deepEqual([seen[6]!.type, seen[6]!.length, Buffer.from(seen[6]!.body, 'latin1')], ['application/x-tar', '4', Buffer.from([1, 2, 3, 4])]);
  assert.deepEqual(JSON.parse(seen[9]!.body), { public: true });
});
