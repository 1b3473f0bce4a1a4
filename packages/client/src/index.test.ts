import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfError } from '@wharf/types';
import { WharfClient } from './index.js';

interface Seen {
  method: string;
  url: string;
  body: string;
}

/** Answers every request with the next queued reply (default 200 {}), recording it. */
let server: Server;
let url: string;
const seen: Seen[] = [];
const replies: { status: number; body?: unknown }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      const reply = replies.shift() ?? { status: 200, body: {} };
      if (reply.status === 204) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function last(): Seen {
  const s = seen.at(-1);
  assert.ok(s, 'no request was sent');
  return s;
}

test('without a tenant, set routes carry no tenant parameter', async () => {
  const c = new WharfClient({ server: url });
  await c.listSets();
  assert.equal(last().url, '/v1/sets');
  await c.listSets({ appkey: 'com.x' });
  assert.equal(last().url, '/v1/sets?appkey=com.x');
  await c.getSet('com.x', 1);
  assert.equal(last().url, '/v1/sets/com.x/1');
  const chunks: string[] = [];
  for await (const chunk of c.logs('com.x', 1)) chunks.push(chunk);
  assert.equal(last().url, '/v1/sets/com.x/1/logs');
});

test('a tenant is sent on every set and policy route, and on no network or host route', async () => {
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  assert.equal(c.tenant, 'team-a');
  const calls: [() => Promise<unknown>, string, string][] = [
    [() => c.applySet({ appkey: 'com.x', id: 1, containers: [] }), 'PUT', '/v1/sets/com.x/1?tenant=team-a'],
    [() => c.listSets(), 'GET', '/v1/sets?tenant=team-a'],
    [() => c.listSets({ appkey: 'com.x' }), 'GET', '/v1/sets?appkey=com.x&tenant=team-a'],
    [() => c.getSet('com.x', '1'), 'GET', '/v1/sets/com.x/1?tenant=team-a'],
    [() => c.deleteSet('com.x', '1'), 'DELETE', '/v1/sets/com.x/1?tenant=team-a'],
    [() => c.setAction('com.x', '1', 'restart'), 'POST', '/v1/sets/com.x/1/restart?tenant=team-a'],
    [() => c.setEvents('com.x', '1'), 'GET', '/v1/sets/com.x/1/events?tenant=team-a'],
    [() => c.listPolicies(), 'GET', '/v1/policies?tenant=team-a'],
    [() => c.listPolicies({ appkey: 'com.x' }), 'GET', '/v1/policies?appkey=com.x&tenant=team-a'],
    [() => c.getPolicy('com.x', 'allow-web'), 'GET', '/v1/policies/com.x/allow-web?tenant=team-a'],
    [() => c.listNetworks(), 'GET', '/v1/networks'],
    [() => c.getNetwork('net1'), 'GET', '/v1/networks/net1'],
    [() => c.listHosts(), 'GET', '/v1/hosts'],
    [() => c.updateHost('h1', { bandwidth: 1000 }), 'PATCH', '/v1/hosts/h1'],
    [() => c.removeHost('dc1 h7'), 'DELETE', '/v1/hosts/dc1%20h7'],
    [() => c.revokeHostCertificate('h1'), 'DELETE', '/v1/hosts/h1/certificate'],
  ];
  for (const [call, method, path] of calls) {
    await call();
    assert.deepEqual([last().method, last().url], [method, path]);
  }
  for await (const _ of c.logs('com.x', 1, { container: 'web', tail: 5 })) void _;
  assert.equal(last().url, '/v1/sets/com.x/1/logs?container=web&tail=5&tenant=team-a');
  assert.equal(c.forTenant('other').tenant, 'other');
  await c.forTenant(undefined).listSets();
  assert.equal(last().url, '/v1/sets');
});

test('networks: create tells created from unchanged; delete answers nothing; errors keep their code and details', async () => {
  const c = new WharfClient({ server: url });
  const spec = { name: 'net1', subnet: '10.99.0.0/24', gateway: '10.99.0.1' };
  replies.push({ status: 201, body: { ...spec, size: 253 } }, { status: 200, body: { ...spec, size: 253 } });
  assert.equal((await c.createNetwork(spec)).created, true);
  assert.deepEqual([last().method, last().url, JSON.parse(last().body)], ['PUT', '/v1/networks/net1', spec]);
  const again = await c.createNetwork(spec);
  assert.equal(again.created, false);
  assert.equal(again.network.size, 253);

  replies.push({ status: 204 });
  assert.equal(await c.deleteNetwork('net1'), undefined);
  assert.deepEqual([last().method, last().url], ['DELETE', '/v1/networks/net1']);

  const allocations = [{ network: 'net1', ip: '10.99.0.2', tenant: 'default', appkey: 'com.x', id: '1', primary: true, allocatedAt: '2025-01-01T00:00:00Z' }];
  replies.push({ status: 409, body: { error: { code: 'NETWORK_IN_USE', message: 'network net1 has 1 IP(s) in use', details: { network: 'net1', allocations } } } });
  await assert.rejects(c.deleteNetwork('net1'), (e: unknown) => e instanceof WharfError && e.code === 'NETWORK_IN_USE' && Array.isArray(e.details?.allocations));
});

test('host settings go out as a PATCH with nulls kept', async () => {
  const c = new WharfClient({ server: url });
  await c.updateHost('dc1 h7', { networks: null, bandwidth: 10_000 });
  assert.deepEqual([last().method, last().url, JSON.parse(last().body)], ['PATCH', '/v1/hosts/dc1%20h7', { networks: null, bandwidth: 10_000 }]);
});

test('policies: apply PUTs the spec under its appkey and name; delete and missing fields', async () => {
  const c = new WharfClient({ server: url, tenant: 't1' });
  const spec = { name: 'allow-web', appkey: 'com.x', ingress: [{ from: [{ app: 'com.y' }], ports: [{ port: 80 }] }] };
  replies.push({ status: 201, body: { ...spec, tenant: 't1' } });
  const r = await c.applyPolicy(spec);
  assert.equal(r.created, true);
  assert.equal(r.policy.tenant, 't1');
  assert.deepEqual([last().method, last().url, JSON.parse(last().body)], ['PUT', '/v1/policies/com.x/allow-web?tenant=t1', spec]);
  replies.push({ status: 204 });
  await c.deletePolicy('com.x', 'allow-web');
  assert.deepEqual([last().method, last().url], ['DELETE', '/v1/policies/com.x/allow-web?tenant=t1']);
  const before = seen.length;
  await assert.rejects(c.applyPolicy({ appkey: 'com.x' } as never), (e: unknown) => e instanceof WharfError && e.code === 'VALIDATION_FAILED' && e.message === 'name: is required');
  assert.equal(seen.length, before, 'nothing is sent for a policy without a name');
});

test('volumes, snapshots, recycle bins and moves: tenant-scoped routes and bodies', async () => {
  const c = new WharfClient({ server: url, tenant: 'team-a' });
  const calls: [() => Promise<unknown>, string, string, unknown?][] = [
    [() => c.listVolumes(), 'GET', '/v1/volumes?tenant=team-a'],
    [() => c.listVolumes({ appkey: 'com.x' }), 'GET', '/v1/volumes?appkey=com.x&tenant=team-a'],
    [() => c.getVolume('com.x', 1), 'GET', '/v1/volumes/com.x/1?tenant=team-a'],
    [() => c.resizeVolume('com.x', 1, '20Gi'), 'POST', '/v1/volumes/com.x/1/resize?tenant=team-a', { size: '20Gi' }],
    [() => c.listSnapshots('com.x', 1), 'GET', '/v1/volumes/com.x/1/snapshots?tenant=team-a'],
    [() => c.createSnapshot('com.x', 1), 'POST', '/v1/volumes/com.x/1/snapshots?tenant=team-a', {}],
    [() => c.createSnapshot('com.x', 1, 'pre'), 'POST', '/v1/volumes/com.x/1/snapshots?tenant=team-a', { name: 'pre' }],
    [() => c.restoreSnapshot('com.x', 1, 'pre'), 'POST', '/v1/volumes/com.x/1/snapshots/pre/restore?tenant=team-a'],
    [() => c.deleteSnapshot('com.x', 1, 'pre'), 'DELETE', '/v1/volumes/com.x/1/snapshots/pre?tenant=team-a'],
    [() => c.restoreTrash('h1', 'abc', { appkey: 'com.x', id: 2 }), 'POST', '/v1/trash/h1/abc/restore?tenant=team-a', { appkey: 'com.x', id: '2' }],
    [() => c.purgeTrash('h1', 'abc'), 'DELETE', '/v1/trash/h1/abc?tenant=team-a'],
    [() => c.purgeTrash('h1'), 'DELETE', '/v1/trash/h1?tenant=team-a'],
    [() => c.moveSet('com.x', 1, 'h2'), 'POST', '/v1/sets/com.x/1/move?tenant=team-a', { host: 'h2' }],
  ];
  for (const [call, method, path, body] of calls) {
    await call();
    assert.deepEqual([last().method, last().url], [method, path]);
    if (body !== undefined) assert.deepEqual(JSON.parse(last().body), body);
  }
  replies.push({ status: 200, body: [{ trashId: 'abc', host: 'h1' }] });
  const trash = await c.listTrash({ host: 'h1' });
  assert.equal(last().url, '/v1/trash?host=h1&tenant=team-a');
  assert.deepEqual(trash, { entries: [{ trashId: 'abc', host: 'h1' }], unreachable: [] });

  const exp = await c.exportVolume('com.x', 1);
  assert.equal(last().url, '/v1/volumes/com.x/1/export?tenant=team-a');
  let text = '';
  for await (const chunk of exp.chunks) text += new TextDecoder().decode(chunk);
  assert.equal(text, '{}');
  assert.equal(exp.length, undefined, 'the test server sends no content-length');
  assert.equal(exp.filename, 'com.x-1.tar');
});

test('several servers: a request that cannot reach one goes to the next, which is kept; all down names the last', async () => {
  // A port nobody listens on: connections are refused.
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => dead.close(() => resolve()));

  const c = new WharfClient({ server: `${deadUrl}, ${url}/`, token: 't' });
  assert.deepEqual(c.servers, [deadUrl, url]);
  assert.equal(c.server, deadUrl);
  const before = seen.length;
  await c.request('POST', '/v1/sets/x/1/start');
  assert.equal(seen.length, before + 1, 'sent once, to the server that answers');
  assert.equal(c.server, url, 'kept for the next requests');
  await c.health();
  assert.equal(last().url, '/v1/health');

  const none = new WharfClient({ server: `${deadUrl},${deadUrl}` });
  await assert.rejects(none.health(), (e: Error) => e.name === 'ConnectionError' && e.message.startsWith(`cannot reach wharf-server at ${deadUrl}`));
});
