/**
 * Tenants, users, roles, login and tokens through `inject()`; and a walk over every
 * route of the OpenAPI document with a token of another tenant's member.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord, Me, TokenCreated, TokenInfo, User } from '@wharf/types';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { buildApp } from '../app.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { bootstrapTokens } from '../auth/tokens.js';
import { HostChanges } from '../state/host-changes.js';
import { ensureDefaultTenant } from '../state/identity.js';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

describe('identity', () => {
  let t: TestServer;
  let admin: ReturnType<typeof adminApi>;
  const as = (token: string) => (method: Method, url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const login = async (user: string, password: string) => {
    const r = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user, password } });
    assert.equal(r.statusCode, 201, r.body);
    return (r.json() as TokenCreated).token;
  };

  before(async () => {
    t = await startTestServer();
    admin = adminApi(t);
    for (const tenant of ['team-a', 'team-b']) assert.equal((await admin('PUT', `/v1/tenants/${tenant}`, { description: tenant })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/users/alice', { password: 'alice-secret', roles: { 'team-a': 'tenant-admin' } })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/users/bob', { password: 'bob-secret-1', roles: { 'team-b': 'developer' } })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/users/vera', { password: 'vera-secret', roles: { 'team-a': 'viewer' } })).statusCode, 201);
    // Something to find in team-a.
    assert.equal((await admin('PUT', '/v1/sets/secretapp/1?tenant=team-a', { id: '1', appkey: 'secretapp', containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/apps/secretapp?tenant=team-a', { appkey: 'secretapp', replicas: 0, template: { containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] } })).statusCode, 201);
  });
  after(() => t?.stop());

  it('a user logs in, sees who it is, and its session ends with logout', async () => {
    const token = await login('alice', 'alice-secret');
    const me = (await as(token)('GET', '/v1/me')).json() as Me;
    assert.deepEqual({ kind: me.kind, name: me.name, platformAdmin: me.platformAdmin, roles: me.roles, session: me.token?.session }, { kind: 'user', name: 'alice', platformAdmin: false, roles: { 'team-a': 'tenant-admin' }, session: true });
    assert.ok(me.token?.expiresAt, 'a session expires');
    assert.equal((await as(token)('POST', '/v1/logout')).statusCode, 204);
    const after = await as(token)('GET', '/v1/me');
    assert.equal(after.statusCode, 401);
    assert.match(after.json().error.message, /not valid/);
  });

  it('wrong passwords and unknown users get the same 401; the store keeps only a scrypt hash', async () => {
    const wrong = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'nope-nope' } });
    const nobody = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'nobody', password: 'nope-nope' } });
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(wrong.json(), nobody.json());
    const stored = JSON.stringify((await t.store.get('/users/alice'))?.value);
    assert.ok(!stored.includes('alice-secret'));
    assert.match(stored, /"passwordHash":"scrypt\$32768\$8\$1\$/);
  });

  it('members read their tenant; viewers cannot change it; others are told it does not exist', async () => {
    const vera = as(await login('vera', 'vera-secret'));
    assert.equal((await vera('GET', '/v1/sets/secretapp/1?tenant=team-a')).statusCode, 200);
    const change = await vera('POST', '/v1/apps/secretapp/scale?tenant=team-a', { replicas: 3 });
    assert.equal(change.statusCode, 403);
    assert.match(change.json().error.message, /your role in tenant "team-a" is viewer; this needs developer/);
    const bob = as(await login('bob', 'bob-secret-1'));
    const read = await bob('GET', '/v1/sets/secretapp/1?tenant=team-a');
    assert.equal(read.statusCode, 404);
    assert.match(read.json().error.message, /no tenant "team-a" among yours/);
    assert.equal((await bob('GET', '/v1/sets/secretapp/1?tenant=no-such-tenant')).json().error.message, 'no tenant "no-such-tenant" among yours');
    // Their own tenant works, and lists only their tenants.
    assert.equal((await bob('PUT', '/v1/sets/web/1?tenant=team-b', { id: '1', appkey: 'web', containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] })).statusCode, 201);
    assert.deepEqual(((await bob('GET', '/v1/tenants')).json() as { name: string }[]).map((x) => x.name), ['team-b']);
    assert.equal((await bob('GET', '/v1/hosts')).statusCode, 403);
  });

  it('tenant admins manage members of their tenant only', async () => {
    const alice = as(await login('alice', 'alice-secret'));
    const grant = await alice('PUT', '/v1/tenants/team-a/members/bob', { role: 'viewer' });
    assert.equal(grant.statusCode, 200, grant.body);
    assert.deepEqual((grant.json() as User).roles, { 'team-b': 'developer', 'team-a': 'viewer' });
    const tenant = (await alice('GET', '/v1/tenants/team-a')).json() as { members: { user: string; role: string }[] };
    assert.deepEqual(tenant.members.map((m) => `${m.user}:${m.role}`).sort(), ['alice:tenant-admin', 'bob:viewer', 'vera:viewer']);
    assert.equal((await alice('PUT', '/v1/tenants/team-b/members/alice', { role: 'tenant-admin' })).statusCode, 404);
    assert.equal((await alice('DELETE', '/v1/tenants/team-a/members/bob')).statusCode, 200);
    assert.equal((await alice('PUT', '/v1/users/mallory', { password: 'mallory-pw' })).statusCode, 403, 'only platform admins make users');
  });

  it('API tokens: shown once, scoped, capped at the user\'s role, listed without secrets, revocable, expiring', async () => {
    const alice = as(await login('alice', 'alice-secret'));
    const made = await alice('POST', '/v1/tokens', { name: 'ci', tenant: 'team-a', role: 'viewer', ttlSeconds: 3600 });
    assert.equal(made.statusCode, 201, made.body);
    const ci = made.json() as TokenCreated;
    assert.match(ci.token, /^wharf_usr_/);
    const scoped = as(ci.token);
    assert.deepEqual(((await scoped('GET', '/v1/me')).json() as Me).roles, { 'team-a': 'viewer' });
    assert.equal((await scoped('POST', '/v1/apps/secretapp/scale?tenant=team-a', { replicas: 1 })).statusCode, 403);
    const listed = (await alice('GET', '/v1/tokens')).json() as TokenInfo[];
    assert.ok(listed.some((x) => x.id === ci.id && x.name === 'ci' && x.role === 'viewer'));
    assert.ok(!JSON.stringify(listed).includes(ci.token), 'no plaintext in the list');
    const bobToken = await login('bob', 'bob-secret-1');
    const tooMuch = await as(bobToken)('POST', '/v1/tokens', { name: 'x', tenant: 'team-a' });
    assert.equal(tooMuch.statusCode, 404, 'no token for a tenant the user is not in');
    const vera = as(await login('vera', 'vera-secret'));
    const above = await vera('POST', '/v1/tokens', { name: 'x', tenant: 'team-a', role: 'developer' });
    assert.equal(above.statusCode, 400);
    assert.match(above.json().error.message, /role: is above your role in tenant "team-a" \(viewer\)/);
    assert.equal((await as(bobToken)('DELETE', `/v1/tokens/${ci.id}`)).statusCode, 404, 'not bob\'s token');
    assert.equal((await alice('DELETE', `/v1/tokens/${ci.id}`)).statusCode, 200);
    assert.equal((await scoped('GET', '/v1/me')).statusCode, 401);
    // Expiry: a token whose time has passed is refused.
    const short = (await alice('POST', '/v1/tokens', { name: 'short', ttlSeconds: 60 })).json() as TokenCreated;
    const key = (await t.store.list('/auth/tokens/')).items.find((kv) => (kv.value as { name: string }).name === 'short');
    assert.ok(key);
    await t.store.put(key.key, { ...(key.value as object), expiresAt: new Date(Date.now() - 1000).toISOString() });
    assert.equal((await as(short.token)('GET', '/v1/me')).statusCode, 401);
  });

  it('passwords: users change their own with the current one; deleting a user revokes its tokens', async () => {
    const token = await login('vera', 'vera-secret');
    const vera = as(token);
    assert.equal((await vera('PUT', '/v1/users/vera/password', { password: 'new-secret-9', current: 'wrong' })).statusCode, 400);
    assert.equal((await vera('PUT', '/v1/users/vera/password', { password: 'short' })).statusCode, 400);
    assert.equal((await vera('PUT', '/v1/users/alice/password', { password: 'hijacked-pw' })).statusCode, 404);
    assert.equal((await vera('PUT', '/v1/users/vera/password', { password: 'new-secret-9', current: 'vera-secret' })).statusCode, 204);
    await login('vera', 'new-secret-9');
    assert.equal((await admin('DELETE', '/v1/users/vera')).statusCode, 204);
    assert.equal((await vera('GET', '/v1/me')).statusCode, 401);
  });

  it('tenants: made and deleted by platform admins, refused while they hold sets', async () => {
    const r = await admin('DELETE', '/v1/tenants/team-a');
    assert.equal(r.statusCode, 409);
    assert.match(r.json().error.message, /tenant "team-a" still has 1 sets, 1 apps; delete them first/);
    assert.equal((await admin('PUT', '/v1/tenants/empty', {})).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/tenants/empty', {})).statusCode, 200);
    assert.equal((await admin('DELETE', '/v1/tenants/empty')).statusCode, 204);
    assert.equal((await admin('DELETE', '/v1/tenants/empty')).statusCode, 404);
    assert.equal((await admin('DELETE', '/v1/tenants/default')).statusCode, 409);
  });

  it('every route, called by a member of another tenant, reveals and changes nothing of team-a', async () => {
    const bobToken = (await as(await login('bob', 'bob-secret-1'))('POST', '/v1/tokens', { name: 'walk' })).json() as TokenCreated;
    const bob = as(bobToken.token);
    const before = JSON.stringify((await t.store.list('/')).items.filter((kv) => kv.key.includes('team-a')).map((kv) => [kv.key, kv.modRevision]));
    const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const fill: Record<string, string> = { appkey: 'secretapp', id: '1', tenant: 'team-a', name: 'secretapp', tag: '1', number: '1', user: 'bob', host: 'h1', trashId: 'x', action: 'x' };
    let walked = 0;
    let hidden = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const url = path.replace(/\{(\w+)\}/g, (_m, p: string) => fill[p] ?? 'x') + '?tenant=team-a';
        const r = await bob(method.toUpperCase() as Method, url, method === 'get' || method === 'delete' ? undefined : {});
        walked++;
        assert.ok(r.statusCode < 500, `${method} ${url}: ${r.statusCode} ${r.body}`);
        if (r.statusCode === 404 && r.body.includes('no tenant \\"team-a\\" among yours')) hidden++;
        if (path === '/v1/audit') {
          // The audit log shows bob his own attempts, nothing else.
          assert.equal(r.statusCode, 200);
          assert.deepEqual([...new Set((r.json() as AuditRecord[]).map((x) => x.actor))].filter((a) => a !== 'bob'), []);
        } else if (r.statusCode < 300) {
          assert.ok(!r.body.includes('secretapp') && !r.body.includes('team-a'), `${method} ${url} answered ${r.statusCode} with team-a's data: ${r.body.slice(0, 200)}`);
        }
      }
    }
    assert.ok(walked > 80, `${walked} routes walked`);
    // Every route of a tenant (sets, apps, volumes, policies, rollouts, metrics, logs, images' visibility) hides it.
    assert.ok(hidden >= 45, `${hidden} routes answered that team-a is not among bob's tenants`);
    const afterWalk = JSON.stringify((await t.store.list('/')).items.filter((kv) => kv.key.includes('team-a')).map((kv) => [kv.key, kv.modRevision]));
    assert.equal(afterWalk, before, 'nothing of team-a changed');
  });
});

describe('audit log', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t?.stop());

  it('records who changed what, the outcome and the source, masks secrets, and shows each caller what it may see', async () => {
    const admin = adminApi(t);
    assert.equal((await admin('PUT', '/v1/tenants/team-a', {})).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/tenants/team-b', {})).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/users/alice', { password: 'alice-secret', roles: { 'team-a': 'tenant-admin' } })).statusCode, 201);
    assert.equal((await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'not-hers-1' } })).statusCode, 401);
    const token = ((await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'alice-secret' } })).json() as TokenCreated).token;
    const set = { id: '1', appkey: 'web', containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] };
    assert.equal((await t.app.inject({ method: 'PUT', url: '/v1/sets/web/1?tenant=team-a', headers: bearer(token), payload: set })).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/sets/web/1?tenant=team-b', set)).statusCode, 201);
    assert.equal((await admin('GET', '/v1/sets/web/1?tenant=team-b')).statusCode, 200);

    let all: AuditRecord[] = [];
    for (let i = 0; i < 100 && all.length < 7; i++) {
      all = (await admin('GET', '/v1/audit')).json() as AuditRecord[];
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(all.map((r) => `${r.actor} ${r.action} ${r.object} ${r.status}${r.error ? ` ${r.error}` : ''}`), [
      'bootstrap-admin PUT /v1/tenants/:tenant tenants/team-a 201',
      'bootstrap-admin PUT /v1/tenants/:tenant tenants/team-b 201',
      'bootstrap-admin PUT /v1/users/:name users/alice 201',
      'alice POST /v1/login login 401 UNAUTHORIZED',
      'alice POST /v1/login login 201',
      'alice PUT /v1/sets/:appkey/:id sets/web/1 201',
      'bootstrap-admin PUT /v1/sets/:appkey/:id sets/web/1 201',
    ], 'reads are not recorded');
    const created = all[2] as AuditRecord;
    assert.equal(created.request, '{"password":"***","roles":{"team-a":"tenant-admin"}}');
    assert.equal(created.sourceIp, '127.0.0.1');
    assert.ok(!JSON.stringify(all).includes('alice-secret') && !JSON.stringify(all).includes('not-hers-1'), 'no password in the log');
    assert.deepEqual([all[5]?.tenant, all[5]?.actorKind, all[3]?.actorKind, all[3]?.result], ['team-a', 'user', 'anonymous', 'failed']);

    // alice: team-a's records and her own; not team-b's.
    const hers = (await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(token) })).json() as AuditRecord[];
    assert.deepEqual(hers.map((r) => `${r.action} ${r.tenant ?? ''}`), ['PUT /v1/tenants/:tenant team-a', 'PUT /v1/sets/:appkey/:id team-a']);
    const filtered = (await admin('GET', `/v1/audit?user=alice&since=${encodeURIComponent(all[4]!.time)}`)).json() as AuditRecord[];
    assert.deepEqual(filtered.map((r) => r.action), ['POST /v1/login', 'PUT /v1/sets/:appkey/:id']);
    assert.equal((await admin('GET', '/v1/audit?object=tenants/&limit=1')).json().length, 1);
    assert.equal((await admin('GET', '/v1/audit?since=yesterday')).statusCode, 400);
    assert.equal(all[5]?.before, undefined, 'a created object had no before');

    // A change: the record carries the object as it was, next to what was asked.
    const bigger = { ...set, resources: { cpu: 2 }, containers: [{ index: 0, image: 'busybox:2', options: { name: 'app' } }] };
    assert.equal((await admin('PUT', '/v1/sets/web/1?tenant=team-b', bigger)).statusCode, 200);
    assert.equal((await admin('DELETE', '/v1/users/alice')).statusCode, 204);
    let changes: AuditRecord[] = [];
    for (let i = 0; i < 100 && changes.length < 2; i++) {
      changes = ((await admin('GET', `/v1/audit?since=${encodeURIComponent(all[6]!.time)}`)).json() as AuditRecord[]).slice(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    const setBefore = JSON.parse(changes[0]?.before ?? '{}') as { generation?: number; containers?: string[] };
    assert.deepEqual([setBefore.generation, setBefore.containers], [1, ['app=busybox']]);
    assert.match(changes[0]?.request ?? '', /busybox:2/);
    assert.match(changes[1]?.before ?? '', /"team-a":"tenant-admin"/);
    assert.ok(!(changes[1]?.before ?? '').includes('scrypt') && (changes[1]?.before ?? '').includes('***'), 'the stored password hash is masked');
  });
});

describe('logs', () => {
  it('carry neither passwords nor tokens, at the most verbose level', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const store = SqliteStore.open(':memory:');
    const dir = mkdtempSync(join(tmpdir(), 'wharf-logs-test-'));
    const tokens = await bootstrapTokens(store, dir);
    await ensureDefaultTenant(store);
    const hostChanges = new HostChanges(store);
    await hostChanges.start();
    const app = await buildApp({ store, hostChanges, joinToken: tokens.join }, logger);
    try {
      const admin = { authorization: `Bearer ${tokens.admin}` };
      assert.equal((await app.inject({ method: 'PUT', url: '/v1/users/carol', headers: admin, payload: { password: 'carol-password', roles: { default: 'developer' } } })).statusCode, 201);
      assert.equal((await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'carol', password: 'wrong-password' } })).statusCode, 401);
      const session = (await app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'carol', password: 'carol-password' } })).json() as TokenCreated;
      const api = (await app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(session.token), payload: { name: 'ci' } })).json() as TokenCreated;
      assert.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(api.token) })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer wharf_usr_forged' } })).statusCode, 401);
      const text = lines.join('');
      assert.ok(text.includes('/v1/login'), 'requests are logged');
      for (const secret of ['carol-password', 'wrong-password', session.token, api.token, tokens.admin, 'wharf_usr_forged']) assert.ok(!text.includes(secret), `${secret.slice(0, 12)}… in the log`);
    } finally {
      await app.close();
      hostChanges.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('login limiter', () => {
  it('refuses a user from an address after 5 failures for the rest of the minute; a success clears it', () => {
    let now = 0;
    const l = new LoginLimiter({ maxFailures: 5, maxFailuresPerAddress: 30, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 5; i++) {
      l.check('1.2.3.4', 'alice');
      l.failed('1.2.3.4', 'alice');
    }
    assert.throws(() => l.check('1.2.3.4', 'alice'), /too many failed logins; try again in 60 s/);
    l.check('5.6.7.8', 'alice');
    now = 60_000;
    l.check('1.2.3.4', 'alice');
    l.failed('1.2.3.4', 'bob');
    l.succeeded('1.2.3.4', 'bob');
    l.check('1.2.3.4', 'bob');
  });

  it('counts failures across user names per address', () => {
    const l = new LoginLimiter({ maxFailures: 5, maxFailuresPerAddress: 3, windowMs: 60_000 }, () => 0);
    for (const u of ['a', 'b', 'c']) l.failed('9.9.9.9', u);
    assert.throws(() => l.check('9.9.9.9', 'd'), /too many failed logins/);
  });
});
