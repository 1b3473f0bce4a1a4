/**
 * The registry routes through `inject()`: the token service (credentials, scopes, the
 * JWT Distribution verifies), the CA, the agents' view, visibility; and the same
 * routes with the registry off. Distribution itself: registry/distribution.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PlatformRegistry } from '../registry/service.js';
import { libtrustKeyId } from '../registry/libtrust.js';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';

const basic = (password: string, user = 'someone') => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** Header and claims of a JWT, after checking its ES256 signature with `cert`'s key. */
function verified(token: string, cert: X509Certificate): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c, s] = token.split('.') as [string, string, string];
  assert.ok(verify('sha256', Buffer.from(`${h}.${c}`), { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')), 'the signature verifies');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(c, 'base64url').toString()) };
}

describe('registry routes (inject)', () => {
  let t: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-registry-api-'));
  let tokenCert: X509Certificate;

  before(async () => {
    const registry = await PlatformRegistry.prepare({ dir, address: '10.9.8.7:5000', listen: '127.0.0.1:5000', binary: 'docker-registry' }, pino({ level: 'silent' }));
    tokenCert = new X509Certificate(readFileSync(join(dir, 'token.crt')));
    t = await startTestServer({ context: { registry } });
  });
  after(async () => {
    try {
      await t?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const token = (query: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: `/v1/registry/token?service=wharf-registry${query}`, headers });
  const grants = async (query: string, headers: Record<string, string> = {}) => {
    const r = await token(query, headers);
    assert.equal(r.statusCode, 200, r.body);
    return verified(r.json().token, tokenCert).claims.access;
  };

  it('issues a token Distribution accepts: ES256, kid of the token certificate, iss, aud, times', async () => {
    const r = await token('&scope=repository:default/app:pull,push', basic(t.admin));
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.equal(body.access_token, body.token);
    assert.equal(body.expires_in, 300);
    const { header, claims } = verified(body.token, tokenCert);
    assert.deepEqual(header, { typ: 'JWT', kid: libtrustKeyId(tokenCert.publicKey), alg: 'ES256' });
    assert.equal(claims.iss, 'wharf-server');
    assert.equal(claims.aud, 'wharf-registry');
    assert.equal(claims.sub, 'bootstrap-admin');
    const now = Date.now() / 1000;
    assert.ok((claims.nbf as number) <= now && (claims.exp as number) > now + 250 && (claims.iat as number) <= now + 1, JSON.stringify(claims));
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'default/app', actions: ['pull', 'push'] }]);
  });

  it('grants per caller: admin push and pull, hosts pull, anonymous only public repositories', async () => {
    const scope = '&scope=repository:default/app:pull,push';
    assert.deepEqual(await grants(scope, basic(t.join)), [{ type: 'repository', name: 'default/app', actions: ['pull'] }]);
    assert.deepEqual(await grants(scope), []);
    // A bearer Wharf token works like the Basic password; the user name does not matter.
    assert.deepEqual(await grants(scope, bearer(t.admin)), [{ type: 'repository', name: 'default/app', actions: ['pull', 'push'] }]);
    // Several scopes, repeated: each gets its own grant.
    assert.deepEqual(await grants('&scope=repository:default/a:pull&scope=registry:catalog:*', basic(t.admin, '')), [
      { type: 'repository', name: 'default/a', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    // `docker login` asks for no scope: a token granting nothing, for valid credentials.
    assert.deepEqual(await grants('&account=someone&client_id=docker&offline_token=true', basic(t.admin)), []);
  });

  it('a repository marked public can be pulled anonymously, and only pulled', async () => {
    const put = await adminApi(t)('PUT', '/v1/images/default/app/public', { public: true });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().public, true);
    assert.deepEqual(await grants('&scope=repository:default/app:pull,push'), [{ type: 'repository', name: 'default/app', actions: ['pull'] }]);
    assert.deepEqual(await grants('&scope=repository:default/other:pull'), []);
    assert.equal((await adminApi(t)('GET', '/v1/images/default/app/public')).json().public, true);
    await adminApi(t)('PUT', '/v1/images/default/app/public', { public: false });
    assert.deepEqual(await grants('&scope=repository:default/app:pull'), []);
    // A name with a '/' inside the tenant travels as %2F.
    const nested = await adminApi(t)('PUT', '/v1/images/team-a/web%2Fapi/public', { public: true });
    assert.equal(nested.json().repository, 'team-a/web/api');
    assert.deepEqual(await grants('&scope=repository:team-a/web/api:pull'), [{ type: 'repository', name: 'team-a/web/api', actions: ['pull'] }]);
  });

  it('401 with a Basic challenge for credentials that are not a valid token', async () => {
    for (const headers of [basic('wrong'), bearer('wrong'), { authorization: 'Digest x' }, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }]) {
      const r = await token('&scope=repository:default/app:pull', headers);
      assert.equal(r.statusCode, 401, JSON.stringify(headers));
      assert.match(String(r.headers['www-authenticate']), /^Basic realm="Wharf registry"/);
      assert.equal(r.json().error.code, 'UNAUTHORIZED');
    }
  });

  it('400 naming what is wrong: a malformed scope, another service', async () => {
    const bad = await token('&scope=repository:default/app', basic(t.admin));
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /scope "repository:default\/app"/);
    const other = await t.app.inject({ method: 'GET', url: '/v1/registry/token?service=elsewhere&scope=repository:a/b:pull', headers: basic(t.admin) });
    assert.equal(other.statusCode, 400);
    assert.match(other.json().error.message, /service "elsewhere"/);
    const repo = await adminApi(t)('PUT', '/v1/images/default/Bad_Name/public', { public: true });
    assert.equal(repo.statusCode, 400);
    assert.match(repo.json().error.message, /default\/Bad_Name/);
    const body = await adminApi(t)('PUT', '/v1/images/default/app/public', { public: 'yes' });
    assert.equal(body.statusCode, 400);
  });

  it('serves the CA publicly, and the registry to agents and admins', async () => {
    const ca = await t.app.inject({ method: 'GET', url: '/v1/registry/ca.crt' });
    assert.equal(ca.statusCode, 200);
    assert.equal(ca.body, readFileSync(join(dir, 'ca.crt'), 'utf8'));
    assert.match(String(ca.headers['content-type']), /application\/x-pem-file/);
    const info = await t.app.inject({ method: 'GET', url: '/v1/registry', headers: bearer(t.join) });
    assert.equal(info.statusCode, 200);
    const { ca: pem, ...rest } = info.json() as Record<string, unknown>;
    assert.deepEqual(rest, { enabled: true, address: '10.9.8.7:5000', service: 'wharf-registry', running: false });
    assert.equal(pem, ca.body);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/registry' })).statusCode, 401);
    // Visibility is the admin's.
    assert.equal((await t.app.inject({ method: 'PUT', url: '/v1/images/default/app/public', headers: bearer(t.join), payload: { public: true } })).statusCode, 403);
  });
});

describe('registry routes with the registry off', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  it('says so: enabled false, 404 for the token service and the CA', async () => {
    assert.deepEqual((await t.app.inject({ method: 'GET', url: '/v1/registry', headers: bearer(t.join) })).json(), { enabled: false });
    for (const url of ['/v1/registry/token?scope=repository:a/b:pull', '/v1/registry/ca.crt']) {
      const r = await t.app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 404, url);
      assert.match(r.json().error.message, /registry is off/);
    }
  });
});
