/** Deleting many sets at once: a few commits, events logged with the marks, a lost race read again and retried. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore, type Store } from '@wharf/store';
import type { SetEvent, SetObject } from '@wharf/types';
import { Keys, setKeys } from './keys.js';
import { requestSetDeletions } from './apps.js';
import type { EventLog } from './sets.js';

function set(id: number, host?: string): SetObject {
  const now = new Date().toISOString();
  return { tenant: 'default', appkey: 'web', id: String(id), spec: { appkey: 'web', id, containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] }, generation: 1, desired: 'running', createdAt: now, updatedAt: now, ...(host ? { host } : {}) };
}

/** Counts the store's commits. */
function counting(store: Store): { store: Store; commits: () => number } {
  let n = 0;
  const txn = store.txn.bind(store);
  store.txn = (c, o) => {
    n++;
    return txn(c, o);
  };
  return { store, commits: () => n };
}

test('60 sets are marked deleting in 3 commits, each with its Deleting event; an unplaced one is forgotten', async () => {
  const { store, commits } = counting(SqliteStore.open(':memory:'));
  for (let i = 1; i <= 60; i++) await store.put(Keys.set('default', 'web', String(i)), set(i, i === 7 ? undefined : 'h1'));
  const before = commits();
  const { items } = await store.list<SetObject>(Keys.appSets('default', 'web'));
  assert.equal(await requestSetDeletions(store, items, 'app deleted'), true);
  assert.equal(commits() - before, 3);
  const after = (await store.list<SetObject>(Keys.appSets('default', 'web'))).items.map((kv) => kv.value);
  assert.equal(after.length, 59);
  assert.ok(after.every((s) => s.deleting));
  const log = await store.get<EventLog<SetEvent>>(setKeys(set(12)).events);
  assert.deepEqual(log?.value.items.map((e) => [e.reason, e.message]), [['Deleting', 'app deleted']]);
  store.close();
});

test('a batch that lost a race is read again and retried as a batch: the moved set is deleted too', async () => {
  const { store, commits } = counting(SqliteStore.open(':memory:'));
  for (let i = 1; i <= 5; i++) await store.put(Keys.set('default', 'web', String(i)), set(i, 'h1'));
  const { items } = await store.list<SetObject>(Keys.appSets('default', 'web'));
  await store.put(Keys.set('default', 'web', '3'), { ...set(3, 'h2') }); // moved after the list was read
  const before = commits();
  assert.equal(await requestSetDeletions(store, items, 'app deleted'), true);
  assert.equal(commits() - before, 2, 'the batch, then the batch read again');
  const after = (await store.list<SetObject>(Keys.appSets('default', 'web'))).items.map((kv) => kv.value);
  assert.deepEqual(after.filter((s) => s.deleting).map((s) => `${s.id}@${s.host}`), ['1@h1', '2@h1', '3@h2', '4@h1', '5@h1']);
  store.close();
});

test('two deleters of one app at once (the API and the apps controller): every set marked once, in few commits', async () => {
  const { store, commits } = counting(SqliteStore.open(':memory:'));
  for (let i = 1; i <= 200; i++) await store.put(Keys.set('default', 'web', String(i)), set(i, 'h1'));
  const { items } = await store.list<SetObject>(Keys.appSets('default', 'web'));
  const before = commits();
  const [a, b] = await Promise.all([requestSetDeletions(store, items, 'app deleted'), requestSetDeletions(store, items, 'app deleted')]);
  assert.deepEqual([a, b], [true, true]);
  // 10 batches each; a lost race costs a re-read and one more try, never 20 commits set by set.
  assert.ok(commits() - before <= 40, `${commits() - before} commits`);
  const after = (await store.list<SetObject>(Keys.appSets('default', 'web'))).items.map((kv) => kv.value);
  assert.equal(after.filter((s) => s.deleting).length, 200);
  for (const id of ['1', '77', '200']) {
    const log = await store.get<EventLog<SetEvent>>(setKeys(set(Number(id))).events);
    assert.deepEqual(log?.value.items.map((e) => e.reason), ['Deleting'], `set ${id} has one Deleting event`);
  }
  store.close();
});
