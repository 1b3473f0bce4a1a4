/** Users' SSH keys through `inject()`: validation, ownership, fingerprints as ssh-keygen prints them, admins, scopes, user deletion. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord, SshKey, TokenCreated } from '@wharf/types';
import { sshKeygen, type SshKeyFiles } from '../testing/openssh.js';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';
import { waitFor } from '../testing/wait.js';

type Method = 'GET' | 'POST' | 'DELETE';

describe('SSH keys', () => {
  let t: TestServer;
  let dir: string;
  let ed: SshKeyFiles;
  let ecdsa: SshKeyFiles;
  let rsa: SshKeyFiles;
  const tokens: Record<string, string> = {};
  const as = (who: string) => (method: Method, url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(tokens[who] ?? who), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const add = (who: string, name: string, publicKey: string) => as(who)('POST', '/v1/me/ssh-keys', { name, publicKey });
  const refused = async (r: Awaited<ReturnType<typeof add>>, status: number, message: RegExp) => {
    assert.equal(r.statusCode, status, r.body);
    assert.match(r.json().error.message, message);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-ssh-keys-'));
    t = await startTestServer();
    const admin = adminApi(t);
    for (const user of ['alice', 'bob']) {
      assert.equal((await admin('PUT', `/v1/users/${user}`, { password: `${user}-secret-1`, roles: { default: 'developer' } })).statusCode, 201);
      const r = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user, password: `${user}-secret-1` } });
      tokens[user] = (r.json() as TokenCreated).token;
    }
    ed = sshKeygen(dir, 'ed');
    ecdsa = sshKeygen(dir, 'ecdsa', 'ecdsa', 256);
    rsa = sshKeygen(dir, 'rsa', 'rsa', 3072);
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds keys and lists them with the fingerprint ssh-keygen prints', async () => {
    const made = await add('alice', 'laptop', ed.publicKey);
    assert.equal(made.statusCode, 201, made.body);
    const key = made.json() as SshKey;
    assert.deepEqual({ ...key, addedAt: undefined }, { name: 'laptop', type: 'ssh-ed25519', fingerprint: ed.fingerprint, comment: 'ed@test', user: 'alice', addedAt: undefined });
    assert.equal((await add('alice', 'desktop', ecdsa.publicKey)).statusCode, 201);
    assert.equal((await add('alice', 'old-box', `  ${rsa.publicKey.trim().split(' ').slice(0, 2).join(' ')}\n`)).statusCode, 201, 'without a comment, blanks around');
    const list = (await as('alice')('GET', '/v1/me/ssh-keys')).json() as SshKey[];
    assert.deepEqual(list.map((k) => [k.name, k.type, k.fingerprint]).sort(), [
      ['desktop', 'ecdsa-sha2-nistp256', ecdsa.fingerprint],
      ['laptop', 'ssh-ed25519', ed.fingerprint],
      ['old-box', 'ssh-rsa', rsa.fingerprint],
    ]);
    assert.match(ed.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('refuses private keys, garbage, several keys, certificates and weak keys with 400 naming publicKey', async () => {
    const weak = sshKeygen(dir, 'weak', 'rsa', 1024);
    const cases: [string, RegExp][] = [
      [readFileSync(ed.path, 'utf8'), /^publicKey: is a private key; send the public one/],
      ['not a key at all', /^publicKey: is not an OpenSSH public key: expected one line like "ssh-ed25519 AAAA/],
      ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', /^publicKey: is not an OpenSSH public key/],
      [`${ecdsa.publicKey}${ed.publicKey}`, /^publicKey: must be one key/],
      [`ssh-ed25519-cert-v01@openssh.com ${ed.publicKey.split(' ')[1]}`, /^publicKey: is a certificate/],
      [weak.publicKey, /^publicKey: is a 1024-bit RSA key; RSA keys need at least 2048 bits/],
      ['', /publicKey/],
    ];
    for (const [text, message] of cases) await refused(await add('bob', 'x', text), 400, message);
    await refused(await add('bob', 'Bad Name', ed.publicKey), 400, /name/);
    // The audit log has every attempt, with the key masked.
    const audit = await waitFor('the audit records', async () => {
      const records = (await t.store.list<AuditRecord>('/audit/')).items.map((kv) => kv.value).filter((r) => r.action === 'POST /v1/me/ssh-keys' && r.actor === 'bob');
      return records.length === cases.length + 1 && records;
    });
    assert.ok(audit.every((r) => r.request === '{"name":"x","publicKey":"***"}' || r.request === '{"name":"Bad Name","publicKey":"***"}'), JSON.stringify(audit));
  });

  it('a key belongs to one user, a name to one key of the user: 409', async () => {
    await refused(await add('alice', 'again', ed.publicKey), 409, /^this key \(SHA256:\S+\) is registered already, as your key "laptop"$/);
    await refused(await add('bob', 'mine', ed.publicKey), 409, /^this key \(SHA256:\S+\) is registered to another user; a key can belong to one user only$/);
    const other = sshKeygen(dir, 'other');
    await refused(await add('alice', 'laptop', other.publicKey), 409, /^you have an SSH key named "laptop" already/);
    assert.equal((await add('bob', 'laptop', other.publicKey)).statusCode, 201, 'names are per user');
  });

  it('needs a user\'s unscoped token to add; the admin token has no keys of its own', async () => {
    const scoped = await as('alice')('POST', '/v1/tokens', { name: 'ci', tenant: 'default', role: 'viewer' });
    tokens.scoped = (scoped.json() as TokenCreated).token;
    await refused(await add('scoped', 'ci', sshKeygen(dir, 'ci').publicKey), 403, /acts with all of your roles; add it with a token that is not limited to a tenant/);
    await refused(await add(t.admin, 'x', sshKeygen(dir, 'adm').publicKey), 400, /adding an SSH key needs a user's token/);
    assert.equal((await as('anyone')('GET', '/v1/me/ssh-keys')).statusCode, 401);
  });

  it('removes keys: users their own, platform admins anyone\'s', async () => {
    const removed = await as('alice')('DELETE', '/v1/me/ssh-keys/desktop');
    assert.equal(removed.statusCode, 200);
    assert.equal((removed.json() as SshKey).fingerprint, ecdsa.fingerprint);
    await refused(await as('alice')('DELETE', '/v1/me/ssh-keys/desktop'), 404, /^no SSH key "desktop" of user "alice"$/);
    assert.equal((await add('bob', 'ecdsa', ecdsa.publicKey)).statusCode, 201, 'a removed key is free to register again');

    const admin = adminApi(t);
    assert.deepEqual(((await admin('GET', '/v1/users/alice/ssh-keys')).json() as SshKey[]).map((k) => k.name).sort(), ['laptop', 'old-box']);
    assert.equal((await admin('GET', '/v1/users/nobody/ssh-keys')).statusCode, 404);
    assert.equal((await as('bob')('GET', '/v1/users/alice/ssh-keys')).statusCode, 403);
    assert.equal((await admin('DELETE', '/v1/users/alice/ssh-keys/old-box')).statusCode, 200);
    assert.deepEqual(((await as('alice')('GET', '/v1/me/ssh-keys')).json() as SshKey[]).map((k) => k.name), ['laptop']);
  });

  it('deleting a user deletes its keys, so they are free again', async () => {
    assert.equal((await adminApi(t)('DELETE', '/v1/users/alice')).statusCode, 204);
    const left = (await t.store.list('/ssh-key')).items.map((kv) => kv.key);
    assert.ok(left.every((k) => !k.includes('/alice/')), left.join(' '));
    assert.equal(left.length, 4, 'bob\'s two keys and their owner records');
    assert.equal((await add('bob', 'ed', ed.publicKey)).statusCode, 201);
  });
});
