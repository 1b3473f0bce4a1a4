/**
 * The tenant security policy at admission, through `inject()`: what set specs and app
 * templates may ask of their business containers, and who may change the policy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Tenant, TokenCreated } from '@wharf/types';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';

const set = (id: string, security?: unknown) => ({ id, appkey: 'sec', containers: [{ index: 0, image: 'busybox', options: { name: 'app', ...(security ? { security } : {}) } }] });
const app = (security: unknown) => ({ appkey: 'secapp', replicas: 0, template: { containers: [{ index: 0, image: 'busybox', options: { name: 'app', security } }] } });

describe('tenant security policy', () => {
  let t: TestServer;
  let admin: ReturnType<typeof adminApi>;
  let devToken: string;

  before(async () => {
    t = await startTestServer();
    admin = adminApi(t);
    assert.equal((await admin('PUT', '/v1/tenants/team-s', { description: 'secure' })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/users/sam', { password: 'sam-secret-1', roles: { 'team-s': 'tenant-admin' } })).statusCode, 201);
    const r = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'sam', password: 'sam-secret-1' } });
    devToken = (r.json() as TokenCreated).token;
  });
  after(() => t?.stop());

  const dev = (method: 'PUT' | 'GET', url: string, payload?: object) => t.app.inject({ method, url, headers: bearer(devToken), ...(payload ? { payload } : {}) });

  it('a spec without security, or with the defaults written out, needs no policy', async () => {
    assert.equal((await dev('PUT', '/v1/sets/sec/1?tenant=team-s', set('1'))).statusCode, 201);
    assert.equal((await dev('PUT', '/v1/sets/sec/2?tenant=team-s', set('2', { capAdd: [], noNewPrivileges: true }))).statusCode, 201);
  });

  it('a capability or privilege escalation the tenant does not allow is 403 naming both', async () => {
    const r = await dev('PUT', '/v1/sets/sec/3?tenant=team-s', set('3', { capAdd: ['NET_RAW'] }));
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().error.code, 'FORBIDDEN');
    assert.equal(r.json().error.message, 'tenant "team-s" may not add capability NET_RAW (containers[0].options.security.capAdd); a platform admin can allow it in the tenant\'s allowedCapabilities');
    const nnp = await dev('PUT', '/v1/sets/sec/3?tenant=team-s', set('3', { noNewPrivileges: false }));
    assert.equal(nnp.statusCode, 403);
    assert.match(nnp.json().error.message, /^tenant "team-s" may not turn off no-new-privileges \(containers\[0\]\.options\.security\.noNewPrivileges\)/);
    const a = await dev('PUT', '/v1/apps/secapp?tenant=team-s', app({ capAdd: ['SYS_PTRACE'] }));
    assert.equal(a.statusCode, 403);
    assert.match(a.json().error.message, /^tenant "team-s" may not add capability SYS_PTRACE \(template\.containers\[0\]\.options\.security\.capAdd\)/);
    assert.equal((await dev('GET', '/v1/sets/sec/3?tenant=team-s')).statusCode, 404, 'nothing was written');
  });

  it('only platform admins set the policy; then the specs it allows are accepted', async () => {
    assert.equal((await dev('PUT', '/v1/tenants/team-s', { allowedCapabilities: ['NET_RAW'] })).statusCode, 403, "a tenant's admin cannot widen it");
    const bad = await admin('PUT', '/v1/tenants/team-s', { allowedCapabilities: ['NET_RAW', 'CAP_SYS_ADMIN'] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /^allowedCapabilities\[1\]: "CAP_SYS_ADMIN" is not a Linux capability/);
    const ok = await admin('PUT', '/v1/tenants/team-s', { allowedCapabilities: ['SYS_PTRACE', 'NET_RAW'], allowPrivilegeEscalation: true });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json() as Tenant, { name: 'team-s', description: 'secure', allowedCapabilities: ['NET_RAW', 'SYS_PTRACE'], allowPrivilegeEscalation: true, createdAt: (ok.json() as Tenant).createdAt });
    assert.equal((await dev('PUT', '/v1/sets/sec/3?tenant=team-s', set('3', { capAdd: ['NET_RAW'], noNewPrivileges: false }))).statusCode, 201);
    assert.equal((await dev('PUT', '/v1/apps/secapp?tenant=team-s', app({ capAdd: ['SYS_PTRACE'] }))).statusCode, 201);
    const still = await dev('PUT', '/v1/sets/sec/4?tenant=team-s', set('4', { capAdd: ['NET_RAW', 'SYS_ADMIN'] }));
    assert.equal(still.statusCode, 403);
    assert.match(still.json().error.message, /may not add capability SYS_ADMIN /);
    // A description change keeps the policy; an empty list and false take it back.
    assert.deepEqual((await admin('PUT', '/v1/tenants/team-s', { description: 'still secure' })).json().allowedCapabilities, ['NET_RAW', 'SYS_PTRACE']);
    const back = await admin('PUT', '/v1/tenants/team-s', { allowedCapabilities: [], allowPrivilegeEscalation: false });
    assert.deepEqual(Object.keys(back.json() as Tenant).sort(), ['createdAt', 'description', 'name']);
    assert.equal((await dev('PUT', '/v1/sets/sec/5?tenant=team-s', set('5', { capAdd: ['NET_RAW'] }))).statusCode, 403);
  });
});
