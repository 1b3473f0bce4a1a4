import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { storeContract } from './contract.js';
import { SqliteStore } from './sqlite.js';
import { StoreUnavailableError, type WatchEvent } from './store.js';

const tmp = mkdtempSync(join(tmpdir(), 'wharf-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dbCount = 0;
const tempDb = () => join(tmp, `store-${++dbCount}.db`);

storeContract('sqlite :memory:', (opts) => SqliteStore.open(':memory:', opts));
storeContract('sqlite file', (opts) => SqliteStore.open(tempDb(), opts));

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 10));

describe('SqliteStore', () => {
  it('keeps keys, revisions and compaction across close and reopen', async () => {
    const path = tempDb();
    const s1 = SqliteStore.open(path, { historyLimit: 2 });
    const r1 = await s1.put('a', { n: 1 });
    await s1.put('b', 1);
    await s1.put('b', 2);
    const r4 = await s1.delete('b');
    await s1.close();

    const s2 = SqliteStore.open(path, { historyLimit: 2 });
    try {
      assert.equal(await s2.revision(), r4);
      assert.deepEqual(await s2.get('a'), {
        key: 'a',
        value: { n: 1 },
        createRevision: r1,
        modRevision: r1,
        version: 1,
      });
      assert.equal(await s2.get('b'), undefined);
      assert.equal(await s2.put('c', 1), r4 + 1);
      await assert.rejects(s2.watch('', () => {}, { fromRevision: r1 }), { name: 'CompactedError' });
      const events: WatchEvent[] = [];
      await s2.watch('', (ev) => events.push(ev), { fromRevision: r4 });
      await tick();
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key, e.revision]),
        [
          ['delete', 'b', r4],
          ['put', 'c', r4 + 1],
        ],
      );
    } finally {
      await s2.close();
    }
  });

  it('runs the file in WAL mode', async () => {
    const path = tempDb();
    await SqliteStore.open(path).close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('a throwing watch callback breaks neither the store nor other watchers', async () => {
    const errors: unknown[] = [];
    const s = SqliteStore.open(':memory:', { onWatchError: (err) => errors.push(err) });
    try {
      const bad: number[] = [];
      const good: number[] = [];
      await s.watch('', (ev) => {
        bad.push(ev.revision);
        throw new Error('boom');
      });
      await s.watch('', (ev) => good.push(ev.revision));
      const r1 = await s.put('a', 1);
      const r2 = await s.put('a', 2);
      await tick();
      assert.deepEqual(good, [r1, r2]);
      assert.deepEqual(bad, [r1, r2], 'the throwing watcher keeps receiving');
      assert.equal(errors.length, 2);
      assert.equal((await s.get('a'))?.value, 2);
    } finally {
      await s.close();
    }
  });

  it('a callback that writes to the store still gets events in revision order', async () => {
    const s = SqliteStore.open(':memory:');
    try {
      const seen: string[] = [];
      await s.watch('q/', (ev) => {
        seen.push(ev.kv.key);
        if (ev.kv.key === 'q/1') void s.put('q/2', 2);
      });
      await s.put('q/1', 1);
      await s.put('q/3', 3);
      await tick();
      const { items } = await s.list('q/');
      const byRevision = items.sort((a, b) => a.modRevision - b.modRevision).map((kv) => kv.key);
      assert.equal(seen.length, 3);
      assert.deepEqual(seen, byRevision);
    } finally {
      await s.close();
    }
  });

  it('close cancels watchers and later calls reject', async () => {
    const s = SqliteStore.open(':memory:');
    const events: WatchEvent[] = [];
    await s.watch('', (ev) => events.push(ev));
    const write = s.put('a', 1); // committed now, delivery queued on a microtask
    await s.close();
    await write;
    await tick();
    assert.equal(events.length, 0, 'pending events are dropped by close');
    await assert.rejects(s.put('a', 2), /closed/);
    await assert.rejects(s.get('a'), /closed/);
    await s.close(); // idempotent
  });

  it('rejects bad keys, non-JSON values and bad options without writing', async () => {
    const s = SqliteStore.open(':memory:');
    try {
      await assert.rejects(s.put('', 1), TypeError);
      await assert.rejects(s.put('bad\ud800', 1), TypeError);
      await assert.rejects(s.put('a', undefined), TypeError);
      await assert.rejects(s.put('a', () => 1), TypeError);
      await assert.rejects(s.put('a', 1n), TypeError);
      await assert.rejects(
        s.txn([], [
          { type: 'put', key: 'ok', value: 1 },
          { type: 'put', key: 'bad', value: undefined },
        ]),
        TypeError,
      );
      await assert.rejects(s.watch('', () => {}, { fromRevision: 0 }), RangeError);
      assert.equal(await s.revision(), 0);
      assert.equal(await s.get('ok'), undefined);
      assert.throws(() => SqliteStore.open(':memory:', { historyLimit: 0 }), RangeError);
    } finally {
      await s.close();
    }
  });

  it('txns asked for in one turn commit as one group, in order: a revision each, each compare seeing the txns before it', async () => {
    const s = SqliteStore.open(tempDb());
    // Counts the group commits (one COMMIT, one fsync each).
    type Group = { immediate: (g: unknown[]) => unknown };
    const inner = s as unknown as { runGroup: Group };
    const commit = inner.runGroup.immediate;
    const sizes: number[] = [];
    inner.runGroup = {
      immediate: (g) => {
        sizes.push(g.length);
        return commit(g);
      },
    };
    try {
      const seen: number[] = [];
      await s.watch('', (ev) => seen.push(ev.revision));
      const [a, b, c, d] = await Promise.all([
        s.txn([{ key: 'k', absent: true }], [{ type: 'put', key: 'k', value: 1 }]),
        s.txn([{ key: 'k', absent: true }], [{ type: 'put', key: 'k', value: 2 }]),
        s.txn([{ key: 'k', modRevision: 1 }], [{ type: 'put', key: 'k', value: 3 }]),
        s.put('other', 'x'),
      ]);
      assert.deepEqual(sizes, [4], 'one commit for the four');
      assert.deepEqual([a, b, c], [
        { succeeded: true, revision: 1 },
        { succeeded: false, revision: 1 },
        { succeeded: true, revision: 2 },
      ]);
      assert.equal(d, 3);
      assert.equal((await s.get('k'))?.value, 3);
      assert.deepEqual(seen, [1, 2, 3]);
      // A caller's awaited txns are one group each: others get a turn in between.
      await s.put('x', 1);
      await s.put('x', 2);
      assert.deepEqual(sizes, [4, 1, 1]);
    } finally {
      await s.close();
    }
  });

  it('close commits the txns already asked for', async () => {
    const path = tempDb();
    const s1 = SqliteStore.open(path);
    const pending = s1.put('late', 'kept');
    await s1.close();
    assert.equal(await pending, 1);
    await assert.rejects(s1.put('after', 1), /closed/);
    const s2 = SqliteStore.open(path);
    try {
      assert.equal((await s2.get('late'))?.value, 'kept');
    } finally {
      await s2.close();
    }
  });

  it('a file store checkpoints its WAL into the database file every few MiB, and a write during a sync waits for the next group', async () => {
    const path = tempDb();
    const s = SqliteStore.open(path);
    try {
      const before = statSync(path).size;
      const big = 'x'.repeat(64 * 1024);
      // 6 MiB of values (12 MiB with their events): past the 4 MiB checkpoint threshold.
      for (let i = 0; i < 96; i++) await s.put(`big/${i}`, big);
      assert.ok(statSync(path).size > before + 4 * 1024 * 1024, `the database file grew from ${before} to ${statSync(path).size} bytes`);
      // Txns asked for while a group syncs commit together after it, in order.
      const first = s.put('g', 1);
      await new Promise((r) => setImmediate(r));
      const rest = [s.put('g', 2), s.put('g', 3)];
      const revisions = await Promise.all([first, ...rest]);
      assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
      assert.equal((await s.get('g'))?.value, 3);
    } finally {
      await s.close();
    }
    const again = SqliteStore.open(path);
    try {
      assert.equal((await again.get<string>('big/95'))?.value.length, 64 * 1024);
      assert.equal((await again.get('g'))?.value, 3);
    } finally {
      await again.close();
    }
  });

  it('a failed fsync rejects the group as unavailable and every later write, never acknowledging it', async () => {
    const s = SqliteStore.open(tempDb());
    const files = (s as unknown as { files: { wal: number } }).files;
    const wal = files.wal;
    try {
      await s.put('before', 1);
      files.wal = 2 ** 30; // no such descriptor: the next fsync fails with EBADF
      await assert.rejects(s.put('lost', 1), (err: Error) => err instanceof StoreUnavailableError && /cannot sync its write-ahead log .*EBADF.*restart wharf-server/.test(err.message));
      await assert.rejects(s.put('after', 1), StoreUnavailableError);
      assert.equal((await s.get('before'))?.value, 1, 'reads go on');
    } finally {
      files.wal = wal;
      await s.close();
    }
  });

  it('every acknowledged write survives SIGKILL of the writing process', async () => {
    const path = tempDb();
    const writer = fileURLToPath(new URL('./testdata/writer.js', import.meta.url));
    const child = spawn(process.execPath, [writer, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const KILL_AFTER = 200;
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const m = /^acked (\d+)$/.exec(line);
          if (m) acked = Math.max(acked, Number(m[1]));
        }
        if (acked >= KILL_AFTER && child.signalCode === null) child.kill('SIGKILL');
      });
      child.on('error', reject);
      // 'close' (not 'exit') so every line printed before the kill has been read.
      child.on('close', (code, signal) => {
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`writer ended on its own (code ${code}, signal ${signal})`));
      });
    });
    assert.ok(acked >= KILL_AFTER);

    const s = SqliteStore.open(path);
    try {
      const rev = await s.revision();
      assert.ok(rev >= acked, `revision ${rev} < acked ${acked}`);
      for (let i = 1; i <= acked; i++) {
        const kv = await s.get<{ i: number }>(`k/${i}`);
        assert.equal(kv?.value.i, i, `acked write k/${i} is missing`);
        assert.equal(kv.modRevision, i);
      }
      assert.equal(await s.put('after', 1), rev + 1);
    } finally {
      await s.close();
    }
  });
});
