import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfClient } from './index.js';

let server: Server;
let url: string;
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('metrics routes: set history and top sets are tenant-scoped, host routes are not; unset options are left out', async () => {
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  await c.setMetrics('com.x', 1, { since: '-10m', step: '1m' });
  await c.setMetrics('com.x', 'a b');
  await c.hostMetrics('h1', { since: '2025-01-01T12:00:00Z' });
  await c.topSets({ appkey: 'com.x', sort: 'memory', limit: 5 });
  await c.topSets();
  await c.topHosts();
  assert.deepEqual(seen, [
    'GET /v1/sets/com.x/1/metrics?since=-10m&step=1m&tenant=team-a',
    'GET /v1/sets/com.x/a%20b/metrics?tenant=team-a',
    'GET /v1/hosts/h1/metrics?since=2025-01-01T12%3A00%3A00Z',
    'GET /v1/metrics/sets?appkey=com.x&sort=memory&limit=5&tenant=team-a',
    'GET /v1/metrics/sets?tenant=team-a',
    'GET /v1/metrics/hosts',
  ]);
});
