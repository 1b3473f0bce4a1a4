import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedQueue } from './queue.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('queue: runs of one key never overlap; requests during a run make exactly one more run', async () => {
  const log: string[] = [];
  let active = 0;
  const q = new KeyedQueue(async (key) => {
    active++;
    assert.equal(active, 1);
    log.push(`start ${key}`);
    await tick(20);
    log.push(`end ${key}`);
    active--;
  });
  q.request('a');
  await tick(2);
  q.request('a');
  q.request('a');
  q.request('a');
  await q.drain();
  assert.deepEqual(log, ['start a', 'end a', 'start a', 'end a']);
});

test('queue: different keys run concurrently up to the limit', async () => {
  let active = 0;
  let peak = 0;
  const q = new KeyedQueue(async () => {
    active++;
    peak = Math.max(peak, active);
    await tick(10);
    active--;
  }, 3);
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) q.request(k);
  await q.drain();
  assert.equal(peak, 3);
});

test('queue: an error is reported and does not stop the queue', async () => {
  const errors: string[] = [];
  let runs = 0;
  const q = new KeyedQueue(
    async (key) => {
      runs++;
      if (key === 'bad') throw new Error('boom');
    },
    2,
    (key, err) => errors.push(`${key}: ${(err as Error).message}`),
  );
  q.request('bad');
  q.request('good');
  await q.drain();
  assert.deepEqual(errors, ['bad: boom']);
  assert.equal(runs, 2);
});

test('queue: close stops new runs and waits for the current ones', async () => {
  let finished = 0;
  const q = new KeyedQueue(async () => {
    await tick(10);
    finished++;
  }, 1);
  q.request('a');
  q.request('b');
  await tick(1);
  await q.close();
  q.request('c');
  await tick(20);
  assert.equal(finished, 1);
});
