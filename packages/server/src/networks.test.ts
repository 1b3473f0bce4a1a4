import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandFirewall, type DesiredSets, type Host, type HostRegistration, type NetworkView, type SetView } from '@wharf/types';
import type { App } from './api/context.js';
import { bearer, startTestServer, type TestServer } from './testing/test-server.js';

function host(name: string, networks: { name: string; uplink: string }[], zone = 'z1'): HostRegistration {
  return {
    name, zone, rack: 'r1', labels: {}, capacity: { cpu: 64, memory: 64 * 1024 ** 3, disk: 500 * 1024 ** 3, bandwidth: 1000 },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test', networks,
  };
}

function spec(appkey: string, id: number, extra: Record<string, unknown> = {}) {
  return { appkey, id, containers: [{ index: 0, image: 'busybox', options: { name: 'main' } }], ...extra };
}

describe('networks, IPAM and policies (inject)', () => {
  let t: TestServer;
  let app: App;
  let admin: string;
  let joinToken: string;
  let store: TestServer['store'];
  let placement: TestServer['placement'];
  const as = bearer;
  const api = (method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: as(admin), ...(payload !== undefined ? { payload: payload as object } : {}) });
  async function placed(appkey: string, id: number, tenant = 'default'): Promise<SetView> {
    for (let i = 0; i < 200; i++) {
      const s = (await api('GET', `/v1/sets/${appkey}/${id}?tenant=${tenant}`)).json() as SetView;
      if (s.host) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${appkey}/${id} was not placed`);
  }
  async function pendingMessage(appkey: string, id: number): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const s = (await api('GET', `/v1/sets/${appkey}/${id}`)).json() as SetView;
      if (s.message && s.message !== 'waiting to be scheduled') return s.message;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no message');
  }

  before(async () => {
    t = await startTestServer();
    ({ app, admin, join: joinToken, store, placement } = t);
    for (const h of [host('h1', [{ name: 'front', uplink: 'eth0' }]), host('h2', [{ name: 'front', uplink: 'eth1' }]), host('h3', [])]) {
      const r = await app.inject({ method: 'PUT', url: `/v1/hosts/${h.name}`, headers: as(joinToken), payload: h });
      assert.equal(r.statusCode, 200, r.body);
    }
  });

  after(() => t.stop());

  it('creates networks and rejects bad ones with the field named', async () => {
    const bad = await api('PUT', '/v1/networks/x', { name: 'x', subnet: '10.99.0.0/24', gateway: '10.98.0.1' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /gateway: 10.98.0.1 is not in 10.99.0.0\/24/);
    const r = await api('PUT', '/v1/networks/front', { name: 'front', subnet: '10.99.0.0/24', gateway: '10.99.0.1', range: '10.99.0.100-10.99.0.103', default: true });
    assert.equal(r.statusCode, 201, r.body);
    const v = r.json() as NetworkView;
    assert.deepEqual([v.size, v.used, v.free, v.hosts], [4, 0, 4, ['h1', 'h2']]);
    assert.equal((await api('PUT', '/v1/networks/front', { name: 'front', subnet: '10.99.0.0/24', gateway: '10.99.0.1', range: '10.99.0.100-10.99.0.103', default: true })).statusCode, 200);
    const other = await api('PUT', '/v1/networks/front', { name: 'front', subnet: '10.98.0.0/24', gateway: '10.98.0.1' });
    assert.equal(other.statusCode, 409);
    const second = await api('PUT', '/v1/networks/back', { name: 'back', subnet: '10.98.0.0/24', gateway: '10.98.0.1', default: true });
    assert.equal(second.statusCode, 409);
    assert.match(second.json().error.message, /front is already the default/);
  });

  it('gives a set an IP from the default network in its placement, on a host that reaches it', async () => {
    assert.equal((await api('PUT', '/v1/sets/web/1', spec('web', 1))).statusCode, 201);
    const s = await placed('web', 1);
    assert.deepEqual(s.ips, [{ network: 'front', ip: '10.99.0.100' }]);
    assert.ok(s.host === 'h1' || s.host === 'h2', `placed on ${s.host}, which does not reach front`);
    const desired = (await app.inject({ url: `/v1/hosts/${s.host}/desired?revision=0&wait=0`, headers: as(joinToken) })).json() as DesiredSets;
    assert.equal(desired.networks?.[0]?.name, 'front');
    assert.deepEqual(desired.firewall?.['default/web/1'], { allow: [{ group: 'tenant:default' }] });
    assert.deepEqual(desired.addressGroups, { 'tenant:default': ['10.99.0.100/32'] });
    const net = (await api('GET', '/v1/networks/front')).json() as NetworkView;
    assert.deepEqual(net.allocations?.map((a) => [a.ip, a.appkey, a.id, a.primary]), [['10.99.0.100', 'web', '1', true]]);
  });

  it('honours a fixed IP and extra IPs, refuses a taken one and says when the pool is full', async () => {
    const taken = await api('PUT', '/v1/sets/web/2', spec('web', 2, { network: { ip: '10.99.0.100' } }));
    assert.equal(taken.statusCode, 409);
    assert.match(taken.json().error.message, /10.99.0.100 of network front is used by set web\/1/);
    const outside = await api('PUT', '/v1/sets/web/2', spec('web', 2, { network: { ip: '10.1.0.5' } }));
    assert.equal(outside.statusCode, 400);
    assert.match(outside.json().error.message, /network.ip: 10.1.0.5 is not in network front/);
    assert.equal((await api('PUT', '/v1/sets/web/2', spec('web', 2, { network: { ip: '10.99.0.103', extra: [{}] } }))).statusCode, 201);
    const s = await placed('web', 2);
    assert.deepEqual(s.ips, [{ network: 'front', ip: '10.99.0.103' }, { network: 'front', ip: '10.99.0.101' }]);
    assert.equal((await api('PUT', '/v1/sets/web/3', spec('web', 3))).statusCode, 201);
    assert.deepEqual((await placed('web', 3)).ips, [{ network: 'front', ip: '10.99.0.102' }]);
    const full = await api('PUT', '/v1/sets/web/4', spec('web', 4));
    assert.equal(full.statusCode, 409);
    assert.equal(full.json().error.code, 'NETWORK_EXHAUSTED');
    assert.match(full.json().error.message, /network front has no free IP: all 4 addresses of 10.99.0.100-10.99.0.103 are in use/);
  });

  it('keeps IPs when a set is moved, and refuses to remove a network in use', async () => {
    const before = await placed('web', 1);
    // Move it the way a drain or a host loss does: clear its host.
    const key = '/sets/default/web/1';
    const kv = await store.get<Record<string, unknown>>(key);
    assert.ok(kv);
    const { host: from, ...rest } = kv.value;
    await store.put(key, { ...rest, movedFrom: from });
    placement.kick();
    const after = await placed('web', 1);
    assert.deepEqual(after.ips, before.ips);
    const rm = await api('DELETE', '/v1/networks/front');
    assert.equal(rm.statusCode, 409);
    assert.equal(rm.json().error.code, 'NETWORK_IN_USE');
    assert.match(rm.json().error.message, /10.99.0.100 \(web\/1\)/);
  });

  it('releases IPs when the set is gone', async () => {
    const s = await placed('web', 3);
    assert.equal((await api('DELETE', '/v1/sets/web/3')).statusCode, 202);
    const r = await app.inject({ method: 'POST', url: `/v1/hosts/${s.host}/status`, headers: as(joinToken), payload: { sets: [{ tenant: 'default', appkey: 'web', id: '3', deleted: true }] } });
    assert.equal(r.statusCode, 204);
    const net = (await api('GET', '/v1/networks/front')).json() as NetworkView;
    assert.ok(!net.allocations?.some((a) => a.ip === '10.99.0.102'));
    assert.equal(net.free, 1);
  });

  it('keeps a set needing an unreachable network pending, with the reason', async () => {
    assert.equal((await api('PUT', '/v1/networks/back', { name: 'back', subnet: '10.98.0.0/24', gateway: '10.98.0.1' })).statusCode, 201);
    assert.equal((await api('PUT', '/v1/sets/db/1', spec('db', 1, { network: { name: 'back' } }))).statusCode, 201);
    assert.match(await pendingMessage('db', 1), /3 hosts: does not reach network back/);
    // `wharf host set h3 --network back=eth9`: now h3 reaches it.
    const patched = await api('PATCH', '/v1/hosts/h3', { networks: [{ name: 'back', uplink: 'eth9' }] });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual((patched.json() as Host).networks, [{ name: 'back', uplink: 'eth9' }]);
    const s = await placed('db', 1);
    assert.equal(s.host, 'h3');
    assert.deepEqual(s.ips, [{ network: 'back', ip: '10.98.0.2' }]);
  });

  it('accounts bandwidth against the uplink', async () => {
    assert.equal((await api('PUT', '/v1/sets/big/1', spec('big', 1, { network: { name: 'back' }, resources: { bandwidth: { egress: 800, ingress: 100 } } }))).statusCode, 201);
    assert.equal((await placed('big', 1)).host, 'h3');
    assert.equal((await api('PUT', '/v1/sets/big/2', spec('big', 2, { network: { name: 'back' }, resources: { bandwidth: 300 } }))).statusCode, 201);
    assert.match(await pendingMessage('big', 2), /1 host: insufficient bandwidth: requested 300 Mbit\/s, free 200 Mbit\/s/);
  });

  it('opens a set to another tenant through a policy', async () => {
    assert.equal((await api('PUT', '/v1/sets/api/1?tenant=other', spec('api', 1, { network: { name: 'back' } }))).statusCode, 201);
    const foreign = await placed('api', 1, 'other');
    const ip = foreign.ips[0]?.ip;
    assert.ok(ip);
    const before = (await app.inject({ url: '/v1/hosts/h3/desired?revision=0&wait=0', headers: as(joinToken) })).json() as DesiredSets;
    // Rules name address groups, each sent once in the answer; expanded, they are the sources.
    const allowed = (d: DesiredSets) => expandFirewall(d.firewall?.['default/db/1'] ?? { allow: [] }, d.addressGroups ?? {}).allow;
    assert.ok(before.firewall?.['default/db/1']);
    assert.ok(!allowed(before).some((r) => r.cidr === `${ip}/32`));
    const p = await api('PUT', '/v1/policies/db/from-api', { name: 'from-api', appkey: 'db', ingress: [{ from: [{ app: 'api', tenant: 'other' }], ports: [{ port: 80 }] }] });
    assert.equal(p.statusCode, 201, p.body);
    const after = (await app.inject({ url: '/v1/hosts/h3/desired?revision=0&wait=0', headers: as(joinToken) })).json() as DesiredSets;
    assert.deepEqual(allowed(after).find((r) => r.cidr === `${ip}/32`), { cidr: `${ip}/32`, ports: [{ port: 80, protocol: 'tcp' }] });
    assert.deepEqual(after.addressGroups?.['app:other/api'], [`${ip}/32`]);
    const bad = await api('PUT', '/v1/policies/db/x', { name: 'x', appkey: 'db', ingress: [{ from: [{ app: 'a', cidr: '10.0.0.0/8' }] }] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /exactly one of app or cidr/);
    assert.equal((await api('GET', '/v1/sets?tenant=Bad!')).statusCode, 400);
  });
});
