import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TargetNotEmptyError, copyStore } from './copy.js';
import { SqliteStore } from './sqlite.js';

describe('copyStore', () => {
  it('copies every key and value in batches, reporting progress', async () => {
    const from = SqliteStore.open(':memory:');
    const to = SqliteStore.open(':memory:');
    try {
      for (let i = 0; i < 250; i++) await from.put(`sets/${i}`, { i, big: 'x'.repeat(i % 7 === 0 ? 20_000 : 10) });
      await from.put('auth/tokens/a', 'hash');
      await from.delete('sets/3');
      const progress: [number, number][] = [];
      const result = await copyStore(from, to, { onProgress: (done, total) => progress.push([done, total]) });
      assert.equal(result.copied, 250);
      assert.equal(result.deleted, 0);
      assert.equal(result.sourceRevision, await from.revision());
      assert.equal(result.targetRevision, await to.revision());
      const strip = (items: { key: string; value: unknown }[]) => items.map(({ key, value }) => ({ key, value }));
      assert.deepEqual(strip((await to.list('')).items), strip((await from.list('')).items));
      assert.deepEqual(progress[progress.length - 1], [250, 250]);
      assert.ok(progress.length >= 3, `batches: ${progress.length}`);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('refuses a target that holds keys, unless forced; forced, the target ends equal to the source', async () => {
    const from = SqliteStore.open(':memory:');
    const to = SqliteStore.open(':memory:');
    try {
      await from.put('a', 1);
      await from.put('b', 2);
      await to.put('b', 'old');
      await to.put('c', 'only in the target');
      await assert.rejects(copyStore(from, to), (err: unknown) => err instanceof TargetNotEmptyError && err.keys === 2);
      assert.equal((await to.get('b'))?.value, 'old');
      const result = await copyStore(from, to, { force: true });
      assert.deepEqual([result.copied, result.deleted], [2, 1]);
      assert.deepEqual((await to.list('')).items.map((kv) => [kv.key, kv.value]), [['a', 1], ['b', 2]]);
    } finally {
      await from.close();
      await to.close();
    }
  });
});
