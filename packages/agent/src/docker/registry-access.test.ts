import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WharfError, type RegistryInfo } from '@wharf/types';
import { HOST_REGISTRY_USER, RegistryAccess, installRegistryCa } from './registry-access.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-certs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

test("the CA goes to <certs.d>/<address>/ca.crt, written only when it changes", async () => {
  assert.equal(await installRegistryCa(dir, '10.0.0.9:5000', PEM), true);
  const file = join(dir, '10.0.0.9:5000', 'ca.crt');
  assert.equal(readFileSync(file, 'utf8'), PEM);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.equal(await installRegistryCa(dir, '10.0.0.9:5000', PEM), false);
  assert.equal(await installRegistryCa(dir, '10.0.0.9:5000', PEM.replace('AAAA', 'BBBB')), true);
  assert.match(readFileSync(file, 'utf8'), /BBBB/);
});

test('pulls from the platform registry carry the host credentials, others none', async () => {
  let answer!: (info: RegistryInfo) => void;
  const access = new RegistryAccess({ fetchInfo: () => new Promise((r) => (answer = r)), certsDir: dir, credentials: { username: HOST_REGISTRY_USER, password: 'wharf_join_x' }, log });
  // Asked before the server answered: it waits for the answer.
  const early = access.authFor('10.0.0.7:5000/default/app:1');
  const synced = access.sync();
  answer({ enabled: true, address: '10.0.0.7:5000', ca: PEM });
  await synced;
  assert.deepEqual(await early, { username: HOST_REGISTRY_USER, password: 'wharf_join_x', serveraddress: '10.0.0.7:5000' });
  assert.equal(readFileSync(join(dir, '10.0.0.7:5000', 'ca.crt'), 'utf8'), PEM);
  for (const other of ['busybox:1', 'wharf/busybox:latest', '10.0.0.8:5000/default/app:1', 'registry.local/default/app']) {
    assert.equal(await access.authFor(other), undefined, other);
  }
});

test('a server without a registry (off, or from before it) gives no credentials', async () => {
  for (const fetchInfo of [async () => ({ enabled: false }), async () => Promise.reject(new WharfError('NOT_FOUND', 'no route GET /v1/registry'))]) {
    const access = new RegistryAccess({ fetchInfo, certsDir: dir, credentials: { username: HOST_REGISTRY_USER, password: 'wharf_join_x' }, log });
    await access.sync();
    assert.equal(await access.authFor('10.0.0.7:5000/default/app:1'), undefined);
  }
  // Other failures are failures: the loop retries them.
  const failing = new RegistryAccess({ fetchInfo: async () => Promise.reject(new Error('connection refused')), certsDir: dir, log });
  await assert.rejects(failing.sync(), /connection refused/);
});

test('mirrors: their CA installed, the host credentials, upstream names pulled through them, and what the GC may fetch again', async () => {
  const access = new RegistryAccess({
    fetchInfo: async () => ({ enabled: true, address: '10.0.0.7:5000', ca: PEM, mirrors: [{ upstream: 'up.internal:5000', address: '10.0.0.7:5001', running: true }] }),
    certsDir: dir, credentials: { username: HOST_REGISTRY_USER, password: 'wharf_join_x' }, log,
  });
  await access.sync();
  assert.equal(readFileSync(join(dir, '10.0.0.7:5001', 'ca.crt'), 'utf8'), PEM);
  assert.deepEqual(await access.authFor('10.0.0.7:5001/team/app:1'), { username: HOST_REGISTRY_USER, password: 'wharf_join_x', serveraddress: '10.0.0.7:5001' });
  assert.equal(await access.authFor('up.internal:5000/team/app:1'), undefined, 'the upstream gets no host credentials');
  assert.equal(await access.mirrorFor('up.internal:5000/team/app:1'), '10.0.0.7:5001/team/app:1');
  assert.equal(await access.mirrorFor('up.internal:5000/team/app'), '10.0.0.7:5001/team/app');
  for (const other of [`up.internal:5000/team/app@sha256:${'a'.repeat(64)}`, 'up.internal/team/app:1', '10.0.0.7:5000/default/app:1', 'busybox:1']) {
    assert.equal(await access.mirrorFor(other), undefined, other);
  }
  for (const ref of ['10.0.0.7:5000/default/app:1', '10.0.0.7:5001/team/app:1', 'up.internal:5000/team/app:1']) assert.equal(access.fromPlatform(ref), true, ref);
  for (const ref of ['wharf/busybox:latest', 'busybox:1', 'other.internal:5000/team/app:1']) assert.equal(access.fromPlatform(ref), false, ref);
});
