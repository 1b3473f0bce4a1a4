import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { etcdAccessFromFiles, openStore, parseStoreUrl } from './url.js';

describe('parseStoreUrl', () => {
  it('reads sqlite and etcd URLs', () => {
    assert.deepEqual(parseStoreUrl('sqlite:/var/lib/wharf/wharf.db'), { kind: 'sqlite', path: '/var/lib/wharf/wharf.db' });
    assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseStoreUrl('etcd://10.0.0.1:2379'), { kind: 'etcd', hosts: ['10.0.0.1:2379'], prefix: '/wharf/' });
    assert.deepEqual(parseStoreUrl('etcd://h1:2379,h2.dc1:2379,[::1]:23790?prefix=/team-a/wharf/'), {
      kind: 'etcd',
      hosts: ['h1:2379', 'h2.dc1:2379', '[::1]:23790'],
      prefix: '/team-a/wharf/',
    });
  });

  const bad: [string, RegExp][] = [
    ['postgres://db/wharf', /not sqlite:PATH or etcd:\/\/HOST:PORT/],
    ['/var/lib/wharf/wharf.db', /not sqlite:PATH or etcd/],
    ['sqlite:', /needs a file path/],
    ['etcd://', /"" is not HOST:PORT/],
    ['etcd://h1', /"h1" is not HOST:PORT/],
    ['etcd://h1:2379,', /"" is not HOST:PORT/],
    ['etcd://h1:99999', /"h1:99999" is not HOST:PORT/],
    ['etcd://h_1:2379', /"h_1:2379" is not HOST:PORT/],
    ['etcd://h1:2379/wharf', /"h1:2379\/wharf" is not HOST:PORT/],
    ['etcd://h1:2379?prefix=wharf', /prefix "wharf" must start and end with '\/'/],
    ['etcd://h1:2379?prefix=/wharf', /must start and end with '\/'/],
    ['etcd://h1:2379?tls=1', /unknown parameter "tls"/],
  ];
  for (const [url, message] of bad) {
    it(`refuses ${url}`, () => assert.throws(() => parseStoreUrl(url), message));
  }
});

describe('etcdAccessFromFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-store-url-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads the CA, client certificate and key, and the first line of the password file', async () => {
    const access = await etcdAccessFromFiles({
      ca: file('ca.pem', 'CA'),
      cert: file('cert.pem', 'CERT'),
      key: file('key.pem', 'KEY'),
      user: 'wharf',
      passwordFile: file('password', 's3cret\n'),
    });
    assert.deepEqual(
      { ca: access.tls?.ca.toString(), cert: access.tls?.cert?.toString(), key: access.tls?.key?.toString() },
      { ca: 'CA', cert: 'CERT', key: 'KEY' },
    );
    assert.deepEqual(access.auth, { username: 'wharf', password: 's3cret' });
    assert.deepEqual(await etcdAccessFromFiles({}), {});
  });

  it('names the flag that is missing, alone or unreadable', async () => {
    const ca = file('ca2.pem', 'CA');
    await assert.rejects(etcdAccessFromFiles({ ca, cert: ca }), /--etcd-cert and --etcd-key go together/);
    await assert.rejects(etcdAccessFromFiles({ cert: ca, key: ca }), /--etcd-cert needs --etcd-ca/);
    await assert.rejects(etcdAccessFromFiles({ user: 'wharf' }), /--etcd-user and --etcd-password-file go together/);
    await assert.rejects(etcdAccessFromFiles({ ca: join(dir, 'missing.pem') }), /--etcd-ca .*missing\.pem: no such file/);
    await assert.rejects(etcdAccessFromFiles({ user: 'u', passwordFile: file('empty', '\n') }), /--etcd-password-file .*: the file is empty/);
  });
});

describe('openStore', () => {
  it('opens SQLite and names the URL when it cannot', async () => {
    const store = await openStore('sqlite::memory:');
    assert.equal(await store.put('a', 1), 1);
    await store.close();
    await assert.rejects(openStore('sqlite:/nonexistent-dir/wharf.db'), /store "sqlite:\/nonexistent-dir\/wharf.db": /);
    await assert.rejects(openStore('mysql://x'), /not sqlite:PATH/);
  });
});
