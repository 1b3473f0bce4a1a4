import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdStore, SqliteStore, type Store } from '@wharf/store';
import { etcdSkipReason, startEtcd, type EtcdTestCluster } from '@wharf/store/testing';
import { runCli } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-admin-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// migrate never talks to a server; this one does not exist.
const migrate = (...args: string[]) => runCli(['admin', 'migrate', ...args], { server: 'http://127.0.0.1:9', home: dir });

/** A SQLite file with a few keys, one of them deleted, as a platform would leave it. */
async function sourceDb(name: string): Promise<string> {
  const path = join(dir, name);
  const s = SqliteStore.open(path);
  await s.put('sets/default/web/1', { spec: { appkey: 'web' } });
  await s.put('hosts/h1', { name: 'h1' });
  await s.put('auth/tokens/abc', { role: 'admin' });
  await s.put('gone', 1);
  await s.delete('gone');
  await s.close();
  return path;
}

async function contents(store: Store): Promise<[string, unknown][]> {
  return (await store.list('')).items.map((kv) => [kv.key, kv.value]);
}

describe('wharf admin migrate', () => {
  it('copies a SQLite store into another and refuses a filled target without --force', async () => {
    const from = await sourceDb('a.db');
    const to = join(dir, 'b.db');
    const first = await migrate('--from', `sqlite:${from}`, '--to', `sqlite:${to}`);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^migrated 3 keys from sqlite:.*a\.db to sqlite:.*b\.db\n$/);
    assert.match(first.stderr, /migrating: 3\/3 keys \(100%\)/);
    const [a, b] = [SqliteStore.open(from), SqliteStore.open(to)];
    try {
      assert.deepEqual(await contents(b), await contents(a));
    } finally {
      await a.close();
      await b.close();
    }

    const again = await migrate('--from', `sqlite:${from}`, '--to', `sqlite:${to}`);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^wharf: --to sqlite:.*b\.db: the target already holds 3 keys; pass --force to replace them/);
    const forced = await migrate('--from', `sqlite:${from}`, '--to', `sqlite:${to}`, '--force');
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('names what is wrong with the arguments, in one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--from', 'sqlite:/nonexistent/wharf.db', '--to', `sqlite:${join(dir, 'x.db')}`], /^wharf: --from sqlite:\/nonexistent\/wharf\.db: no such file\n$/],
      [['--from', 'mysql://db', '--to', 'sqlite:x.db'], /^wharf: --from: store "mysql:\/\/db": not sqlite:PATH or etcd:\/\/HOST:PORT/],
      [['--from', 'sqlite:a.db', '--to', 'etcd://h1'], /^wharf: --to: store "etcd:\/\/h1": "h1" is not HOST:PORT/],
      [['--from', 'sqlite:a.db', '--to', 'sqlite:a.db'], /^wharf: --from and --to name the same store\n$/],
      [['--to', 'sqlite:a.db'], /required option '--from <url>' not specified/],
    ];
    for (const [args, message] of cases) {
      const r = await migrate(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    const from = await sourceDb('c.db');
    const r = await migrate('--from', `sqlite:${from}`, '--to', 'etcd://127.0.0.1:2379', '--etcd-cert', from);
    assert.match(r.stderr, /^wharf: --etcd-cert and --etcd-key go together\n$/);
    assert.equal(existsSync(join(dir, 'x.db')), false, 'nothing was created');
  });

  describe('into etcd', { skip: etcdSkipReason() }, () => {
    let etcd: EtcdTestCluster;
    before(async () => {
      etcd = await startEtcd();
    });
    after(() => etcd?.stop());

    it('copies every key under the prefix; a second run needs --force', async () => {
      const from = await sourceDb('to-etcd.db');
      const url = `${etcd.url}?prefix=/platform-a/`;
      const r = await migrate('--from', `sqlite:${from}`, '--to', url);
      assert.equal(r.code, 0, r.stderr);
      const [a, b] = [SqliteStore.open(from), await EtcdStore.open({ hosts: etcd.endpoints, prefix: '/platform-a/' })];
      try {
        assert.deepEqual(await contents(b), await contents(a));
      } finally {
        await a.close();
        await b.close();
      }
      const again = await migrate('--from', `sqlite:${from}`, '--to', url);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /the target already holds 3 keys under \/platform-a\/; pass --force/);
      const other = await migrate('--from', `sqlite:${from}`, '--to', `${etcd.url}?prefix=/platform-b/`);
      assert.equal(other.code, 0, 'another prefix of the same etcd is another target');
    });
  });
});
