/**
 * One-use joins and host certificates with the real openssl and real TLS sockets:
 * token consumption (once, expiry, a race), certificate issuance, a host acting only
 * as itself, and the server's calls to an agent over mutual TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { WharfError, pinnedCa, type HostRegistration } from '@wharf/types';
import { buildApp } from '../app.js';
import type { App } from '../api/context.js';
import { bootstrapTokens } from '../auth/tokens.js';
import { HostChanges } from '../state/host-changes.js';
import { ensureDefaultTenant } from '../state/identity.js';
import { Agents } from '../agents.js';
import { grantedActions } from '../registry/access.js';
import { registryPrincipal } from '../registry/principal.js';
import { ClusterPki, certFingerprint, type TlsIdentity } from './cluster-pki.js';
import { consumeJoinToken, createJoinToken, listJoinTokens, revokeJoinToken } from './join-tokens.js';
import { listenForAgents, type AgentListener } from './agent-listener.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-join-'));
const store = SqliteStore.open(':memory:');
let pki: ClusterPki;
let app: App;
let listener: AgentListener;
let admin: string;
let hostChanges: HostChanges;

before(async () => {
  pki = await ClusterPki.prepare(join(dir, 'cluster-ca'), ['127.0.0.1', 'localhost'], store);
  const tokens = await bootstrapTokens(store, dir);
  admin = tokens.admin;
  await ensureDefaultTenant(store);
  hostChanges = new HostChanges(store);
  await hostChanges.start();
  app = await buildApp({ store, hostChanges, joinToken: tokens.join, cluster: pki }, pino({ level: 'silent' }));
  await app.ready();
  listener = await listenForAgents(app, pki, '127.0.0.1', 0);
});

after(async () => {
  await listener.close();
  hostChanges.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The organisation of the certificate the server presented. */
  peer?: string;
}

/** A JSON request to the agents' TLS listener, trusting the cluster CA, with a client certificate when given. */
function tlsCall(method: string, path: string, body?: unknown, client?: { cert: string; key: string }, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(`${listener.url}${path}`, {
      method, ca: pki.caPem, ...client, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch { /* PEM or empty */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function newKey(): { key: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

async function newJoinToken(ttlSeconds?: number): Promise<string> {
  const r = await app.inject({ method: 'POST', url: '/v1/join-tokens', headers: { authorization: `Bearer ${admin}` }, payload: ttlSeconds ? { ttlSeconds } : {} });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { token: string }).token;
}

async function joinHost(name: string, token?: string): Promise<{ cert: string; key: string; registrySecret: string }> {
  const k = newKey();
  const r = await tlsCall('POST', '/v1/join', { token: token ?? (await newJoinToken()), name, publicKey: k.publicKey, address: 'https://127.0.0.1:7071' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { cert: r.body.certificate, key: k.key, registrySecret: r.body.registrySecret };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function registration(name: string): HostRegistration {
  return { name, zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 4, memory: 4 * 1024 ** 3, disk: 100 * 1024 ** 3 }, agentUrl: 'https://127.0.0.1:7071', agentVersion: 'test', dockerVersion: 'test' };
}

async function refusal(p: Promise<unknown>): Promise<WharfError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WharfError, String(err));
    return err;
  }
  return assert.fail('no error');
}

describe('join tokens', () => {
  test('a token works once; the second use is 409 naming the host that used it', async () => {
    const { token, record } = await createJoinToken(store, { caFingerprint: pki.fingerprint, ttlSeconds: 60, createdBy: 'test' });
    assert.equal(pinnedCa(token), pki.fingerprint);
    assert.equal((await consumeJoinToken(store, token, 'h1')).usedBy, 'h1');
    const again = await refusal(consumeJoinToken(store, token, 'h2'));
    assert.equal(again.code, 'CONFLICT');
    assert.match(again.message, new RegExp(`${record.id} was used already, by host h1`));
    const listed = (await listJoinTokens(store)).find((t) => t.id === record.id);
    assert.equal(listed?.usedBy, 'h1');
  });

  test('an expired token is 401; an unknown or revoked one too', async () => {
    const { token, record } = await createJoinToken(store, { caFingerprint: pki.fingerprint, ttlSeconds: 60, createdBy: 'test' });
    const late = await refusal(consumeJoinToken(store, token, 'h1', Date.now() + 61_000));
    assert.equal(late.code, 'UNAUTHORIZED');
    assert.match(late.message, /expired at/);
    assert.equal((await refusal(consumeJoinToken(store, `${token}x`, 'h1'))).code, 'UNAUTHORIZED');
    assert.ok(await revokeJoinToken(store, record.id));
    assert.equal((await refusal(consumeJoinToken(store, token, 'h1'))).code, 'UNAUTHORIZED');
    assert.equal(await revokeJoinToken(store, record.id), false);
  });

  test('of concurrent joins with one token exactly one wins', async () => {
    const { token } = await createJoinToken(store, { caFingerprint: pki.fingerprint, ttlSeconds: 60, createdBy: 'test' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => consumeJoinToken(store, token, `h${i}`)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as WharfError).code, 'CONFLICT');
  });

  test('the routes: ttl bounds checked, listed without the token, revoked by ID', async () => {
    const as = { authorization: `Bearer ${admin}` };
    assert.equal((await app.inject({ method: 'POST', url: '/v1/join-tokens', headers: as, payload: { ttlSeconds: 5 } })).statusCode, 400);
    const made = (await app.inject({ method: 'POST', url: '/v1/join-tokens', headers: as, payload: {} })).json() as { id: string; token: string; expiresAt: string; createdAt: string };
    assert.equal(Date.parse(made.expiresAt) - Date.parse(made.createdAt), 3600_000);
    const list = await app.inject({ url: '/v1/join-tokens', headers: as });
    assert.ok(!list.body.includes(made.token));
    assert.ok((list.json() as { id: string }[]).some((t) => t.id === made.id));
    assert.equal((await app.inject({ method: 'DELETE', url: `/v1/join-tokens/${made.id}`, headers: as })).statusCode, 204);
    assert.equal((await app.inject({ method: 'DELETE', url: `/v1/join-tokens/${made.id}`, headers: as })).statusCode, 404);
  });
});

describe('joining', () => {
  test('issues a certificate for the host: CN the name, SAN the advertised address, signed by the cluster CA', async () => {
    const { cert } = await joinHost('h1');
    const x = new X509Certificate(cert);
    assert.match(x.subject, /O=wharf-hosts/);
    assert.match(x.subject, /CN=h1/);
    assert.equal(x.subjectAltName, 'IP Address:127.0.0.1');
    assert.ok(x.checkIssued(new X509Certificate(pki.caPem)) && x.verify(new X509Certificate(pki.caPem).publicKey));
    assert.equal(statSync(join(dir, 'cluster-ca', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'cluster-ca', 'server.key')).mode & 0o777, 0o600);
  });

  test('the same token twice: the second join is 409', async () => {
    const token = await newJoinToken();
    await joinHost('h2', token);
    const again = await tlsCall('POST', '/v1/join', { token, name: 'h3', publicKey: newKey().publicKey, address: 'https://127.0.0.1:7071' });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /used already, by host h2/);
  });

  test('bad input is 400 naming the field and does not spend the token; plain HTTP is refused', async () => {
    const token = await newJoinToken();
    const bad = await tlsCall('POST', '/v1/join', { token, name: 'h4', publicKey: 'not a key', address: 'https://127.0.0.1:7071' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /publicKey/);
    const http = await tlsCall('POST', '/v1/join', { token, name: 'h4', publicKey: newKey().publicKey, address: 'http://127.0.0.1:7071' });
    assert.equal(http.status, 400);
    assert.match(JSON.stringify(http.body), /address/);
    const plain = await app.inject({ method: 'POST', url: '/v1/join', payload: { token, name: 'h4', publicKey: newKey().publicKey, address: 'https://127.0.0.1:7071' } });
    assert.equal(plain.statusCode, 400);
    assert.match(plain.body, /TLS listener/);
    await joinHost('h4', token);
  });

  test('the CA is served for the agent to check against its token', async () => {
    const ca = await tlsCall('GET', '/v1/join/ca.crt');
    assert.equal(certFingerprint(ca.body as string), pki.fingerprint);
  });
});

describe('a host certificate', () => {
  test('acts as its host only: its own heartbeat is taken, another host\'s is 403, admin routes are refused', async () => {
    const h5 = await joinHost('h5');
    assert.equal((await tlsCall('PUT', '/v1/hosts/h5', registration('h5'), h5)).status, 200);
    const other = await tlsCall('PUT', '/v1/hosts/h6', registration('h6'), h5);
    assert.equal(other.status, 403);
    assert.match(other.body.error.message, /certificate of host h5 cannot act for host h6/);
    assert.equal((await tlsCall('GET', '/v1/hosts/h6/desired?wait=0', undefined, h5)).status, 403);
    assert.equal((await tlsCall('GET', '/v1/hosts', undefined, h5)).status, 403);
    // Without a certificate the listener still takes bearer tokens.
    assert.equal((await tlsCall('GET', '/v1/hosts', undefined, undefined, { authorization: `Bearer ${admin}` })).status, 200);
  });

  test('a re-join replaces the certificate: the old one is 401', async () => {
    const first = await joinHost('h7');
    const second = await joinHost('h7');
    assert.equal((await tlsCall('PUT', '/v1/hosts/h7', registration('h7'), second)).status, 200);
    const old = await tlsCall('PUT', '/v1/hosts/h7', registration('h7'), first);
    assert.equal(old.status, 401);
    assert.match(old.body.error.message, /not the host's current one/);
  });

  test('one from another CA is not an identity', async () => {
    const other = await ClusterPki.prepare(join(dir, 'other-ca'), ['127.0.0.1'], SqliteStore.open(':memory:'));
    const k = newKey();
    const foreign = { cert: await other.signHost('h5', k.publicKey, ['127.0.0.1']), key: k.key };
    assert.equal((await tlsCall('PUT', '/v1/hosts/h5', registration('h5'), foreign)).status, 401);
  });
});

describe('revoking and removing a host', () => {
  const asAdmin = () => ({ authorization: `Bearer ${admin}` });
  const desired = async (host: string, client: { cert: string; key: string }) => {
    const r = await tlsCall('GET', `/v1/hosts/${host}/desired?wait=0`, undefined, client);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { revokedCertificates: string[] };
  };

  test('a re-join puts the old certificate on the list every agent gets', async () => {
    const first = await joinHost('r1');
    const second = await joinHost('r1');
    assert.ok((await desired('r1', second)).revokedCertificates.includes(certFingerprint(first.cert)));
    assert.ok(!(await desired('r1', second)).revokedCertificates.includes(certFingerprint(second.cert)));
  });

  test('revoke: the server refuses the certificate and its registry secret at once, agents are told; a second revoke is 404', async () => {
    const h = await joinHost('r2');
    const witness = await joinHost('r3');
    assert.equal((await tlsCall('PUT', '/v1/hosts/r2', registration('r2'), h)).status, 200);
    const forbidden = await tlsCall('DELETE', '/v1/hosts/r2/certificate', undefined, witness);
    assert.equal(forbidden.status, 403);
    const r = await app.inject({ method: 'DELETE', url: '/v1/hosts/r2/certificate', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().fingerprint, certFingerprint(h.cert));
    assert.equal(r.json().why, 'revoked');
    const after = await tlsCall('PUT', '/v1/hosts/r2', registration('r2'), h);
    assert.equal(after.status, 401);
    assert.equal((await refusal(registryPrincipal(store, basic('r2', h.registrySecret)))).code, 'UNAUTHORIZED');
    assert.ok((await desired('r3', witness)).revokedCertificates.includes(certFingerprint(h.cert)));
    // The host itself stays, with what it had.
    assert.equal((await app.inject({ method: 'GET', url: '/v1/hosts/r2', headers: asAdmin() })).statusCode, 200);
    const again = await app.inject({ method: 'DELETE', url: '/v1/hosts/r2/certificate', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(again.statusCode, 404);
    assert.match(again.json().error.message, /holds no certificate/);
  });

  test('remove: refused while the host holds a set (naming it), then the host and its certificate go; unknown is 404', async () => {
    const h = await joinHost('r4');
    assert.equal((await tlsCall('PUT', '/v1/hosts/r4', registration('r4'), h)).status, 200);
    const now = new Date().toISOString();
    await store.put('/sets/default/web/1', { tenant: 'default', appkey: 'web', id: '1', host: 'r4', generation: 1, desired: 'running', createdAt: now, updatedAt: now, spec: {} });
    const busy = await app.inject({ method: 'DELETE', url: '/v1/hosts/r4', headers: asAdmin() });
    assert.equal(busy.statusCode, 409, busy.body);
    assert.match(busy.json().error.message, /still holds 1 set\(s\) \(default\/web\/1\): drain it/);
    assert.equal((await tlsCall('PUT', '/v1/hosts/r4', registration('r4'), h)).status, 200, 'nothing was revoked');
    await store.delete('/sets/default/web/1');
    const r = await app.inject({ method: 'DELETE', url: '/v1/hosts/r4', headers: asAdmin() });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().revokedCertificate.why, 'removed');
    assert.equal((await app.inject({ method: 'GET', url: '/v1/hosts/r4', headers: asAdmin() })).statusCode, 404);
    assert.equal((await tlsCall('PUT', '/v1/hosts/r4', registration('r4'), h)).status, 401);
    const unknown = await app.inject({ method: 'DELETE', url: '/v1/hosts/nohost', headers: asAdmin() });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json().error.message, /host nohost not found/);
  });

  test('renew: a new certificate for a new key, same name and addresses; the old one is revoked, the registry secret stays', async () => {
    const h = await joinHost('r6');
    const k = newKey();
    const r = await tlsCall('POST', '/v1/join/renew', { publicKey: k.publicKey }, h);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const renewed = { cert: r.body.certificate as string, key: k.key };
    const x = new X509Certificate(renewed.cert);
    assert.match(x.subject, /CN=r6/);
    assert.equal(x.subjectAltName, new X509Certificate(h.cert).subjectAltName);
    assert.ok(x.checkPrivateKey(createPrivateKey(k.key)));
    assert.equal((await tlsCall('PUT', '/v1/hosts/r6', registration('r6'), renewed)).status, 200);
    assert.equal((await tlsCall('PUT', '/v1/hosts/r6', registration('r6'), h)).status, 401);
    assert.ok((await desired('r6', renewed)).revokedCertificates.includes(certFingerprint(h.cert)));
    assert.deepEqual(await registryPrincipal(store, basic('r6', h.registrySecret)), { kind: 'host', subject: 'r6' });
    // The old certificate renews no more; bad input names the field; the join token and admins do not renew.
    assert.equal((await tlsCall('POST', '/v1/join/renew', { publicKey: newKey().publicKey }, h)).status, 401);
    const bad = await tlsCall('POST', '/v1/join/renew', { publicKey: 'nope' }, renewed);
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /publicKey/);
    const byAdmin = await tlsCall('POST', '/v1/join/renew', { publicKey: newKey().publicKey }, undefined, { authorization: `Bearer ${admin}` });
    assert.equal(byAdmin.status, 403);
    assert.match(byAdmin.body.error.message, /only a host that joined/);
  });

  test('an expired entry leaves the list', async () => {
    const h = await joinHost('r5');
    await store.put(`/auth/revoked-certs/${'0'.repeat(64)}`, { host: 'old', fingerprint: '0'.repeat(64), expiresAt: new Date(Date.now() - 1000).toISOString(), revokedAt: new Date(0).toISOString(), why: 'revoked' });
    assert.ok(!(await desired('r5', h)).revokedCertificates.includes('0'.repeat(64)));
    assert.equal(await store.get(`/auth/revoked-certs/${'0'.repeat(64)}`), undefined);
  });
});

describe('a host registry secret', () => {
  test('counts as its host at the registry token service, with the host name as the user; a re-join replaces it', async () => {
    const first = await joinHost('h8');
    assert.match(first.registrySecret, /^wharf_hrs_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await registryPrincipal(store, basic('h8', first.registrySecret)), { kind: 'host', subject: 'h8' });
    assert.deepEqual(grantedActions({ kind: 'host', subject: 'h8' }, { type: 'repository', name: 'default/app', actions: ['pull', 'push'] }, { public: false }), ['pull']);
    for (const [user, secret] of [['h7', first.registrySecret], ['', first.registrySecret], ['h8', `${first.registrySecret}x`]] as const) {
      assert.equal((await refusal(registryPrincipal(store, basic(user, secret)))).code, 'UNAUTHORIZED', `${user}:${secret}`);
    }
    const second = await joinHost('h8');
    assert.notEqual(second.registrySecret, first.registrySecret);
    assert.equal((await refusal(registryPrincipal(store, basic('h8', first.registrySecret)))).code, 'UNAUTHORIZED');
    assert.deepEqual(await registryPrincipal(store, basic('h8', second.registrySecret)), { kind: 'host', subject: 'h8' });
    // Only the hash is stored.
    assert.ok(!JSON.stringify(await store.list('/auth/')).includes(second.registrySecret));
  });
});

describe('the cluster CA', () => {
  test('signs host certificates for the days it is given', async () => {
    const short = await ClusterPki.prepare(join(dir, 'cluster-ca'), ['127.0.0.1', 'localhost'], store, { hostCertDays: 1 });
    const cert = new X509Certificate(await short.signHost('d1', newKey().publicKey, ['127.0.0.1']));
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 86_400_000);
  });

  test('is made once and kept; a server with another CA on the same store refuses to start', async () => {
    const again = await ClusterPki.prepare(join(dir, 'cluster-ca'), ['127.0.0.1', 'localhost'], store);
    assert.deepEqual(again.issued, []);
    assert.equal(again.fingerprint, pki.fingerprint);
    await assert.rejects(ClusterPki.prepare(join(dir, 'second-server'), ['127.0.0.1'], store), /copy ca.key and ca.crt/);
  });
});

describe('server → agent over mutual TLS', () => {
  let agent: Server;
  let url: string;
  const seen: { org?: string; auth?: string }[] = [];

  before(async () => {
    const k = newKey();
    const identity: TlsIdentity = { ca: pki.caPem, cert: await pki.signHost('h1', k.publicKey, ['127.0.0.1']), key: k.key };
    agent = createHttpsServer({ ...identity, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({ org: String(peer.subject?.O), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"fine":true}');
    });
    await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  });

  after(() => {
    agent.closeAllConnections();
    return new Promise<void>((resolve) => agent.close(() => resolve()));
  });

  test('the server presents its certificate, not the join token, and checks the agent is that host', async () => {
    const agents = new Agents('the-join-token', 5_000, pki.server);
    assert.deepEqual(await agents.call({ name: 'h1', agentUrl: url }, 'GET', '/v1/x'), { fine: true });
    const res = await agents.stream({ name: 'h1', agentUrl: url }, '/v1/x');
    assert.equal(await res.text(), '{"fine":true}');
    assert.deepEqual(seen, [{ org: 'wharf-servers' }, { org: 'wharf-servers' }]);
    const impostor = await refusal(agents.call({ name: 'h2', agentUrl: url }, 'GET', '/v1/x'));
    assert.equal(impostor.code, 'HOST_UNREACHABLE');
    assert.match(impostor.message, /certificate of h1, not of host h2/);
    // Without the cluster identity the agent refuses the handshake.
    assert.equal((await refusal(new Agents('the-join-token', 5_000).call({ name: 'h1', agentUrl: url }, 'GET', '/v1/x'))).code, 'HOST_UNREACHABLE');
  });
});
