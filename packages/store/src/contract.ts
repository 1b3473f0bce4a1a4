/**
 * The Store contract: behaviour every backend must show, as a node:test suite.
 * A backend's test file calls `storeContract('name', open)`.
 *
 * `open` must return an empty store (fresh, or a private namespace) that nobody
 * else writes to while the test runs; every test opens its own and closes it.
 * Revisions are checked relative to the store's revision at the start of each
 * test, so a backend need not start at 0. `open({ historyLimit })` must give a
 * store that keeps at least the newest `historyLimit` revisions for watch replay
 * and has compacted anything much older once a few dozen writes have happened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactedError, type Store, type WatchEvent, type WatchOptions, type Watcher } from './store.js';

export interface ContractOpenOptions {
  historyLimit?: number;
}

export type OpenStore = (opts?: ContractOpenOptions) => Promise<Store> | Store;

const WAIT_MS = 5_000;
/** Time to let stray (duplicate or late) events show up before asserting there are none. */
const SETTLE_MS = 30;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function eventually(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

interface Collector {
  events: WatchEvent[];
  watcher: Watcher;
  /** Waits for at least `n` events, then a little longer, so extra events would be seen. */
  settle(n: number): Promise<void>;
}

async function collect(store: Store, prefix: string, opts?: WatchOptions): Promise<Collector> {
  const events: WatchEvent[] = [];
  const watcher = await store.watch(prefix, (ev) => events.push(ev), opts);
  return {
    events,
    watcher,
    async settle(n) {
      await eventually(() => events.length >= n, `${n} events on '${prefix}'`);
      await sleep(SETTLE_MS);
    },
  };
}

/** [type, key, revision] per event: compact enough to compare whole sequences. */
const summary = (events: WatchEvent[]) => events.map((e) => [e.type, e.kv.key, e.revision] as const);

/** UTF-8 byte order, which is code point order; JS's default sort uses UTF-16 units. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function storeContract(name: string, open: OpenStore): void {
  async function withStore(fn: (s: Store) => Promise<void>, opts?: ContractOpenOptions): Promise<void> {
    const store = await open(opts);
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`Store contract: ${name}`, () => {
    describe('get / put / delete', () => {
      it('get of a missing key is undefined', () =>
        withStore(async (s) => {
          assert.equal(await s.get('nope'), undefined);
        }));

      it('put creates the key at a new revision with version 1', () =>
        withStore(async (s) => {
          const r0 = await s.revision();
          const r1 = await s.put('a', { n: 1 });
          assert.equal(r1, r0 + 1);
          assert.equal(await s.revision(), r1);
          assert.deepEqual(await s.get('a'), {
            key: 'a',
            value: { n: 1 },
            createRevision: r1,
            modRevision: r1,
            version: 1,
          });
        }));

      it('put over an existing key keeps createRevision and bumps modRevision and version', () =>
        withStore(async (s) => {
          const r1 = await s.put('a', 1);
          await s.put('b', 'other key');
          const r3 = await s.put('a', 2);
          const r4 = await s.put('a', 3);
          assert.equal(r4, r3 + 1);
          assert.deepEqual(await s.get('a'), {
            key: 'a',
            value: 3,
            createRevision: r1,
            modRevision: r4,
            version: 3,
          });
        }));

      it('delete removes the key at a new revision; re-creating starts over', () =>
        withStore(async (s) => {
          await s.put('a', 1);
          const r2 = await s.put('a', 2);
          const r3 = await s.delete('a');
          assert.equal(r3, r2 + 1);
          assert.equal(await s.get('a'), undefined);
          assert.equal(await s.revision(), r3);
          const r4 = await s.put('a', 'again');
          assert.deepEqual(await s.get('a'), {
            key: 'a',
            value: 'again',
            createRevision: r4,
            modRevision: r4,
            version: 1,
          });
        }));

      it('delete of a missing key leaves the revision unchanged', () =>
        withStore(async (s) => {
          const r1 = await s.put('a', 1);
          assert.equal(await s.delete('missing'), r1);
          assert.equal(await s.revision(), r1);
        }));

      it('values round-trip as JSON and are not shared with the caller', () =>
        withStore(async (s) => {
          const values: unknown[] = [
            0,
            -1.5,
            'text with "quotes", \\ and ünïcödé 🚢',
            '',
            true,
            false,
            null,
            [],
            [1, 'two', { three: [3] }],
            { nested: { deep: { list: [null, { x: 1 }] } }, empty: {} },
          ];
          for (const [i, v] of values.entries()) await s.put(`v/${i}`, v);
          for (const [i, v] of values.entries()) assert.deepEqual((await s.get(`v/${i}`))?.value, v);

          const obj = { list: [1] };
          await s.put('mut', obj);
          obj.list.push(2);
          const got = await s.get<{ list: number[] }>('mut');
          assert.deepEqual(got?.value, { list: [1] });
          got?.value.list.push(3);
          assert.deepEqual((await s.get('mut'))?.value, { list: [1] });
        }));
    });

    describe('list', () => {
      it('returns the keys under a prefix sorted by key, with the current revision', () =>
        withStore(async (s) => {
          for (const k of ['sets/b', 'sets/a', 'hosts/x', 'sets/c/1', 'setsx', 'sets/']) await s.put(k, k);
          const rev = await s.put('zzz', 0);
          const res = await s.list('sets/');
          assert.deepEqual(
            res.items.map((kv) => kv.key),
            ['sets/', 'sets/a', 'sets/b', 'sets/c/1'],
          );
          assert.equal(res.revision, rev);
          const a = res.items.find((kv) => kv.key === 'sets/a');
          assert.deepEqual(a, await s.get('sets/a'));
        }));

      it('an empty prefix lists every key; no match gives no items but the revision', () =>
        withStore(async (s) => {
          await s.put('b', 1);
          const rev = await s.put('a', 2);
          const all = await s.list('');
          assert.deepEqual(
            all.items.map((kv) => kv.key),
            ['a', 'b'],
          );
          assert.deepEqual(await s.list('nothing/'), { items: [], revision: rev });
        }));

      it('uses exact prefix semantics for keys with any characters', () =>
        withStore(async (s) => {
          const keys = [
            'a',
            'a%',
            'a%b',
            'a_b',
            'ab',
            'a\\',
            "a'",
            'a"',
            'a*',
            'a[x]',
            'a\u00e9',
            'a\uffff',
            'a\uffffz',
            'a\u{1F6A2}',
            'a\u{10FFFF}',
            'a\u{10FFFF}x',
            'b',
            'A',
            '`',
            '\u{1F6A2}',
          ];
          for (const k of keys) await s.put(k, k);
          const check = async (prefix: string) => {
            const expected = keys.filter((k) => k.startsWith(prefix)).sort(byUtf8);
            const got = (await s.list(prefix)).items.map((kv) => kv.key);
            assert.deepEqual(got, expected, `list(${JSON.stringify(prefix)})`);
          };
          const prefixes = [
            ...['a', 'a%', 'a_', 'a\\', "a'", 'a[', 'c'],
            ...['a\uffff', 'a\u{1F6A2}', 'a\u{10FFFF}', '\u{1F6A2}'], // around the BMP / astral boundary
          ];
          for (const prefix of prefixes) await check(prefix);
        }));
    });

    describe('txn', () => {
      it('applies the ops when a modRevision compare holds', () =>
        withStore(async (s) => {
          const r1 = await s.put('a', 1);
          const res = await s.txn([{ key: 'a', modRevision: r1 }], [{ type: 'put', key: 'a', value: 2 }]);
          assert.deepEqual(res, { succeeded: true, revision: r1 + 1 });
          assert.equal((await s.get('a'))?.value, 2);
        }));

      it('a failed compare writes nothing and keeps the revision', () =>
        withStore(async (s) => {
          const r1 = await s.put('a', 1);
          const r2 = await s.put('a', 2);
          const res = await s.txn(
            [{ key: 'a', modRevision: r1 }],
            [
              { type: 'put', key: 'a', value: 'stale write' },
              { type: 'put', key: 'b', value: 'new key' },
              { type: 'delete', key: 'a' },
            ],
          );
          assert.deepEqual(res, { succeeded: false, revision: r2 });
          assert.equal(await s.revision(), r2);
          assert.deepEqual(await s.get('a'), {
            key: 'a',
            value: 2,
            createRevision: r1,
            modRevision: r2,
            version: 2,
          });
          assert.equal(await s.get('b'), undefined);
        }));

      it('modRevision 0 means the key does not exist', () =>
        withStore(async (s) => {
          const r0 = await s.revision();
          const created = await s.txn([{ key: 'a', modRevision: 0 }], [{ type: 'put', key: 'a', value: 1 }]);
          assert.deepEqual(created, { succeeded: true, revision: r0 + 1 });
          const again = await s.txn([{ key: 'a', modRevision: 0 }], [{ type: 'put', key: 'a', value: 2 }]);
          assert.deepEqual(again, { succeeded: false, revision: r0 + 1 });
          assert.equal((await s.get('a'))?.value, 1);
        }));

      it('a modRevision compare on a missing key fails', () =>
        withStore(async (s) => {
          const r1 = await s.put('a', 1);
          const res = await s.txn(
            [{ key: 'missing', modRevision: r1 }],
            [{ type: 'put', key: 'missing', value: 1 }],
          );
          assert.deepEqual(res, { succeeded: false, revision: r1 });
          assert.equal(await s.get('missing'), undefined);
        }));

      it('an absent compare holds only for missing keys', () =>
        withStore(async (s) => {
          const r0 = await s.revision();
          const ok = await s.txn([{ key: 'a', absent: true }], [{ type: 'put', key: 'a', value: 1 }]);
          assert.deepEqual(ok, { succeeded: true, revision: r0 + 1 });
          const no = await s.txn([{ key: 'a', absent: true }], [{ type: 'put', key: 'a', value: 2 }]);
          assert.deepEqual(no, { succeeded: false, revision: r0 + 1 });
          assert.equal((await s.get('a'))?.value, 1);
          await s.delete('a');
          const back = await s.txn([{ key: 'a', absent: true }], [{ type: 'put', key: 'a', value: 3 }]);
          assert.equal(back.succeeded, true);
        }));

      it('every compare must hold', () =>
        withStore(async (s) => {
          const ra = await s.put('a', 1);
          const rb = await s.put('b', 1);
          const res = await s.txn(
            [
              { key: 'a', modRevision: ra },
              { key: 'b', modRevision: ra }, // wrong
            ],
            [{ type: 'put', key: 'c', value: 1 }],
          );
          assert.deepEqual(res, { succeeded: false, revision: rb });
          assert.equal(await s.get('c'), undefined);
        }));

      it('all ops of a txn share one new revision', () =>
        withStore(async (s) => {
          const ra = await s.put('a', 1);
          const rc = await s.put('c', 1);
          const res = await s.txn(
            [{ key: 'a', modRevision: ra }],
            [
              { type: 'put', key: 'a', value: 2 },
              { type: 'put', key: 'b', value: 2 },
              { type: 'delete', key: 'c' },
            ],
          );
          assert.deepEqual(res, { succeeded: true, revision: rc + 1 });
          assert.equal(await s.revision(), rc + 1);
          assert.deepEqual(await s.get('a'), {
            key: 'a',
            value: 2,
            createRevision: ra,
            modRevision: rc + 1,
            version: 2,
          });
          assert.deepEqual(await s.get('b'), {
            key: 'b',
            value: 2,
            createRevision: rc + 1,
            modRevision: rc + 1,
            version: 1,
          });
          assert.equal(await s.get('c'), undefined);
        }));
    });

    describe('watch', () => {
      it('delivers live puts in revision order with full key-values', () =>
        withStore(async (s) => {
          const w = await collect(s, '');
          const r1 = await s.put('a', 1);
          const r2 = await s.put('b', 1);
          const r3 = await s.put('a', 2);
          await w.settle(3);
          assert.deepEqual(summary(w.events), [
            ['put', 'a', r1],
            ['put', 'b', r2],
            ['put', 'a', r3],
          ]);
          assert.deepEqual(w.events[2]?.kv, {
            key: 'a',
            value: 2,
            createRevision: r1,
            modRevision: r3,
            version: 2,
          });
          w.watcher.cancel();
        }));

      it('a delete event carries the key, its last value and the delete revision', () =>
        withStore(async (s) => {
          await s.put('k', { last: true });
          const w = await collect(s, 'k');
          const rd = await s.delete('k');
          await w.settle(1);
          const [ev] = w.events;
          assert.ok(ev);
          assert.equal(ev.type, 'delete');
          assert.equal(ev.revision, rd);
          assert.equal(ev.kv.key, 'k');
          assert.equal(ev.kv.modRevision, rd);
          assert.deepEqual(ev.kv.value, { last: true });
          w.watcher.cancel();
        }));

      it('only delivers keys under the prefix', () =>
        withStore(async (s) => {
          const w = await collect(s, 'sets/');
          await s.put('setsx', 1);
          const r2 = await s.put('sets/a', 1);
          await s.put('hosts/a', 1);
          await s.put('sets', 1);
          const r5 = await s.delete('sets/a');
          await w.settle(2);
          assert.deepEqual(summary(w.events), [
            ['put', 'sets/a', r2],
            ['delete', 'sets/a', r5],
          ]);
          w.watcher.cancel();
        }));

      it('delivers the events of a multi-op txn at one revision, in op order', () =>
        withStore(async (s) => {
          await s.put('t/c', 0);
          const w = await collect(s, 't/');
          const { revision } = await s.txn(
            [],
            [
              { type: 'put', key: 't/b', value: 1 },
              { type: 'put', key: 't/a', value: 1 },
              { type: 'delete', key: 't/c' },
            ],
          );
          await w.settle(3);
          assert.deepEqual(summary(w.events), [
            ['put', 't/b', revision],
            ['put', 't/a', revision],
            ['delete', 't/c', revision],
          ]);
          w.watcher.cancel();
        }));

      it('fromRevision replays history, then continues live, with no gap and no duplicate', () =>
        withStore(async (s) => {
          const written: { key: string; rev: number }[] = [];
          const put = async (key: string) => written.push({ key, rev: await s.put(key, key) });
          for (let i = 1; i <= 5; i++) await put(`w/${i}`);
          const from = written[2]?.rev ?? 0;

          // Writes racing the watch start: each must arrive exactly once, from history or live.
          const before = put('w/6');
          const watching = collect(s, 'w/', { fromRevision: from });
          const during = put('w/7');
          const [w] = await Promise.all([watching, before, during]);
          await put('w/8');
          await put('other/1');
          await put('w/9');

          const expected = written
            .filter((x) => x.key.startsWith('w/') && x.rev >= from)
            .sort((a, b) => a.rev - b.rev)
            .map((x) => ['put', x.key, x.rev] as const);
          await w.settle(expected.length);
          assert.deepEqual(summary(w.events), expected);
          w.watcher.cancel();
        }));

      it('list, then watch from list revision + 1, misses and repeats nothing', () =>
        withStore(async (s) => {
          await s.put('i/a', 1);
          await s.put('i/b', 1);
          const { items, revision } = await s.list('i/');
          assert.equal(items.length, 2);
          const w = await collect(s, 'i/', { fromRevision: revision + 1 });
          const r1 = await s.put('i/c', 1);
          const r2 = await s.delete('i/a');
          await w.settle(2);
          assert.deepEqual(summary(w.events), [
            ['put', 'i/c', r1],
            ['delete', 'i/a', r2],
          ]);
          w.watcher.cancel();
        }));

      it('each watcher gets every event', () =>
        withStore(async (s) => {
          const w1 = await collect(s, 'm/');
          const w2 = await collect(s, 'm/');
          const r1 = await s.put('m/1', 1);
          const r2 = await s.put('m/2', 1);
          await w1.settle(2);
          await w2.settle(2);
          const expected = [
            ['put', 'm/1', r1],
            ['put', 'm/2', r2],
          ];
          assert.deepEqual(summary(w1.events), expected);
          assert.deepEqual(summary(w2.events), expected);
          w1.watcher.cancel();
          w2.watcher.cancel();
        }));

      it('cancel stops delivery', () =>
        withStore(async (s) => {
          const w = await collect(s, 'c/');
          await s.put('c/1', 1);
          await w.settle(1);
          w.watcher.cancel();
          w.watcher.cancel(); // idempotent
          const r2 = await s.put('c/2', 2);
          // A second watcher proves the event was dispatched; the cancelled one must not get it.
          const probe = await collect(s, 'c/', { fromRevision: r2 });
          await probe.settle(1);
          assert.equal(w.events.length, 1);
          probe.watcher.cancel();
        }));
    });

    describe('campaign', () => {
      it('an elected campaign\'s fenced store reads and writes the store\'s keys, and closing it leaves the store open', () =>
        withStore(async (s) => {
          const campaign = s.campaign('contract', 'me', 5);
          await campaign.elected;
          assert.equal(await s.leader('contract'), 'me');
          const fenced = campaign.fenced();
          const seen = await collect(s, 'f/');
          const r1 = await fenced.put('f/a', 1);
          assert.deepEqual((await s.get('f/a'))?.value, 1);
          assert.equal((await fenced.txn([{ key: 'f/a', modRevision: r1 }], [{ type: 'put', key: 'f/a', value: 2 }])).succeeded, true);
          assert.equal((await fenced.txn([{ key: 'f/a', modRevision: r1 }], [{ type: 'put', key: 'f/a', value: 3 }])).succeeded, false);
          await fenced.delete('f/a');
          await seen.settle(3);
          assert.deepEqual(seen.events.map((e) => e.type), ['put', 'put', 'delete']);
          assert.deepEqual((await fenced.list('f/')).items, []);
          await fenced.close();
          assert.ok((await s.put('f/b', 1)) > r1, 'the store is still open');
          seen.watcher.cancel();
          await campaign.resign();
          assert.equal(await s.leader('contract'), undefined);
        }));
    });

    describe('compaction', () => {
      it('watching from a revision older than the kept history throws CompactedError', () =>
        withStore(
          async (s) => {
            const r0 = await s.revision();
            for (let i = 0; i < 30; i++) await s.put(`h/${i % 4}`, i);
            const rev = await s.revision();

            let oldest = 0;
            await assert.rejects(
              s.watch('h/', () => {}, { fromRevision: r0 + 1 }),
              (err: unknown) => {
                assert.ok(err instanceof CompactedError, `expected CompactedError, got ${String(err)}`);
                assert.equal(err.requested, r0 + 1);
                assert.ok(err.compactRevision > r0 + 1 && err.compactRevision <= rev - 2);
                oldest = err.compactRevision;
                return true;
              },
            );
            // compactRevision is the oldest revision that can still be watched from.
            const fromOldest = await collect(s, 'h/', { fromRevision: oldest });
            await fromOldest.settle(rev - oldest + 1);
            assert.equal(fromOldest.events[0]?.revision, oldest);
            fromOldest.watcher.cancel();
          },
          { historyLimit: 3 },
        ));

      it('the newest historyLimit revisions stay available', () =>
        withStore(
          async (s) => {
            for (let i = 0; i < 30; i++) await s.put(`h/${i % 4}`, i);
            const rev = await s.revision();
            const w = await collect(s, 'h/', { fromRevision: rev - 2 });
            const live = await s.put('h/live', 1);
            await w.settle(4);
            assert.deepEqual(
              w.events.map((e) => e.revision),
              [rev - 2, rev - 1, rev, live],
            );
            w.watcher.cancel();
          },
          { historyLimit: 3 },
        ));
    });
  });
}
