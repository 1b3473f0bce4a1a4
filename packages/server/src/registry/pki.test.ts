/** The registry's certificates with the real openssl: made once, kept, re-issued when the names change. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, subjectAltNames } from './pki.js';
import { libtrustKeyId } from './libtrust.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-pki-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = (name: string) => new X509Certificate(readFileSync(join(dir, `${name}.crt`)));

test('SAN entries from names and addresses', () => {
  assert.deepEqual(subjectAltNames(['10.0.0.1', 'Reg.Local', '::1', '10.0.0.1', '']), ['DNS:reg.local', 'IP:10.0.0.1', 'IP:::1']);
});

test('makes a CA, a server certificate for the names, and a token certificate', async () => {
  const pki = await ensurePki(dir, ['10.9.8.7', '127.0.0.1', 'localhost']);
  assert.deepEqual(pki.issued, ['ca', 'server', 'token']);
  const ca = cert('ca');
  assert.ok(ca.ca);
  assert.equal(pki.caCertPem, ca.toString());
  const server = cert('server');
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:10.9.8.7, IP Address:127.0.0.1');
  assert.ok(!server.ca);
  assert.ok(server.checkIP('10.9.8.7') && server.checkHost('localhost'));
  assert.ok(cert('token').verify(ca.publicKey));
  // The JWT's kid names the key in the token certificate, the registry's rootcertbundle.
  assert.equal(pki.tokenKeyId, libtrustKeyId(cert('token').publicKey));
  for (const key of ['ca.key', 'server.key', 'token.key']) assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, key);
  // openssl agrees on the chain.
  execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'token.crt')]);
});

test('a second start keeps everything; other names re-issue only the server certificate', async () => {
  const before = { ca: cert('ca').fingerprint256, server: cert('server').fingerprint256, token: cert('token').fingerprint256 };
  assert.deepEqual((await ensurePki(dir, ['localhost', '127.0.0.1', '10.9.8.7'])).issued, []);
  const again = await ensurePki(dir, ['10.9.8.6', '127.0.0.1', 'localhost', 'reg.local']);
  assert.deepEqual(again.issued, ['server']);
  assert.equal(cert('ca').fingerprint256, before.ca);
  assert.equal(cert('token').fingerprint256, before.token);
  assert.notEqual(cert('server').fingerprint256, before.server);
  assert.equal(cert('server').subjectAltName, 'DNS:localhost, DNS:reg.local, IP Address:10.9.8.6, IP Address:127.0.0.1');
});

test('a certificate about to expire is re-issued; a new CA re-issues the leaves', async () => {
  const in3years = Date.now() + 3 * 365 * 86_400_000;
  assert.deepEqual((await ensurePki(dir, ['10.9.8.6', '127.0.0.1', 'localhost', 'reg.local'], in3years)).issued, ['server', 'token']);
  const in10years = Date.now() + 3650 * 86_400_000;
  assert.deepEqual((await ensurePki(dir, ['localhost'], in10years)).issued, ['ca', 'server', 'token']);
});
