/**
 * The real Distribution (Debian's docker-registry; skipped when it is not installed,
 * outside CI) with Wharf's certificates and tokens: its challenge names our realm and
 * service, it accepts the tokens the server issues for exactly what they grant, and
 * refuses forged and expired ones; a registry that dies is started again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { adminApi, startTestServer, type TestServer } from '../testing/test-server.js';
import { PlatformRegistry, REGISTRY_ISSUER, REGISTRY_SERVICE } from './service.js';
import { RegistryTokenService } from './token-service.js';
import { parseScopes } from './scope.js';
import { alive } from '../pids.js';
import { freePort, registryBinary } from './mirror-testing.js';

const binary = registryBinary();
const skip = !binary && !process.env.CI ? 'docker-registry is not installed' : false;
const REALM = 'http://wharf.test:7070/v1/registry/token';

describe('Distribution with Wharf tokens', { skip }, () => {
  let dir = '';
  let port = 0;
  let registry: PlatformRegistry;
  let t: TestServer;
  let ca = '';

  /** GET on the registry over TLS, trusting only Wharf's CA. */
  const get = (path: string, token?: string) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, ca, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.once('error', reject);
      req.end();
    });

  /** A token from the server's token service, as `docker` would fetch it. */
  const tokenFor = async (password: string, scope: string) => {
    const r = await t.app.inject({ method: 'GET', url: `/v1/registry/token?service=${REGISTRY_SERVICE}&scope=${scope}`, headers: { authorization: `Basic ${Buffer.from(`x:${password}`).toString('base64')}` } });
    assert.equal(r.statusCode, 200, r.body);
    return r.json().token as string;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-distribution-'));
    port = await freePort();
    registry = await PlatformRegistry.prepare({ dir, address: `127.0.0.1:${port}`, listen: `127.0.0.1:${port}`, binary: binary ?? 'docker-registry' }, pino({ level: 'silent' }));
    ca = registry.caPem;
    t = await startTestServer({ context: { registry } });
    await registry.start(REALM);
  });

  after(async () => {
    try {
      await registry?.stop();
      await t?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('challenges with our realm and service', async () => {
    const r = await get('/v2/');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="${REALM}",service="${REGISTRY_SERVICE}"`);
    assert.equal(registry.info().running, true);
  });

  it('accepts what a token grants and nothing more', async () => {
    const admin = await tokenFor(t.admin, 'registry:catalog:*');
    const catalog = await get('/v2/_catalog', admin);
    assert.equal(catalog.status, 200, catalog.body);
    assert.deepEqual(JSON.parse(catalog.body), { repositories: [] });
    // The join token gets no catalog grant: the registry refuses.
    assert.equal((await get('/v2/_catalog', await tokenFor(t.join, 'registry:catalog:*'))).status, 401);
    // A pull grant for default/app: authorized (the repository does not exist yet: 404 NAME_UNKNOWN).
    const pull = await tokenFor(t.join, 'repository:default/app:pull');
    const tags = await get('/v2/default/app/tags/list', pull);
    assert.equal(tags.status, 404, tags.body);
    assert.match(tags.body, /NAME_UNKNOWN/);
    assert.equal((await get('/v2/default/other/tags/list', pull)).status, 401);
    // Anonymous: nothing until the repository is public.
    const anonymous = async () => get('/v2/default/app/tags/list', (await t.app.inject({ method: 'GET', url: `/v1/registry/token?service=${REGISTRY_SERVICE}&scope=repository:default/app:pull` })).json().token);
    assert.equal((await anonymous()).status, 401);
    await adminApi(t)('PUT', '/v1/images/default/app/public', { public: true });
    assert.equal((await anonymous()).status, 404);
  });

  it('refuses a token signed by another key under our kid, and an expired one', async () => {
    const scopes = parseScopes('repository:default/app:pull');
    const facts = async () => ({ public: false });
    const who = { kind: 'admin' as const, subject: 'forger' };
    const keyId = JSON.parse(Buffer.from((await tokenFor(t.admin, 'repository:default/app:pull')).split('.')[0]!, 'base64url').toString()).kid as string;
    const forged = new RegistryTokenService({ service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER, key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, keyId });
    assert.equal((await get('/v2/default/app/tags/list', (await forged.issue(who, scopes, facts)).token)).status, 401);
    const key = createPrivateKey(readFileSync(join(dir, 'token.key')));
    const old = new RegistryTokenService({ service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER, key, keyId, now: () => Date.now() - 3_600_000 });
    assert.equal((await get('/v2/default/app/tags/list', (await old.issue(who, scopes, facts)).token)).status, 401);
    // The same claims, fresh and with the right key: accepted (so the two above failed for their key and their age).
    const current = new RegistryTokenService({ service: REGISTRY_SERVICE, issuer: REGISTRY_ISSUER, key, keyId });
    assert.equal((await get('/v2/default/app/tags/list', (await current.issue(who, scopes, facts)).token)).status, 404);
  });

  it('a registry that dies is started again', async () => {
    const pid = Number(readFileSync(join(dir, 'registry.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    // A pid file read while it is being rewritten is empty: that is no pid (0 would be this process group).
    const pidNow = () => Number(readFileSync(join(dir, 'registry.pid'), 'utf8').trim() || NaN);
    let back = false;
    // Answering and its pid file being written are two steps of the restart: wait for both.
    while (!back && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const now = pidNow();
      back = (await get('/v2/').catch(() => ({ status: 0 }))).status === 401 && Number.isInteger(now) && now > 0 && now !== pid;
    }
    assert.ok(back, `the registry answers again, from a new process (pid file: ${pidNow()}, killed: ${pid})`);
    const again = pidNow();
    await registry.stop();
    assert.equal(alive(again), false);
  });
});
