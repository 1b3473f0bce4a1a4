import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryGcRun } from '@wharf/types';
import { RegistryGc, WriteGate } from './gc.js';

test('the write gate: closing waits for running writes and refuses new ones with 503 until opened', async () => {
  const gate = new WriteGate();
  let finish!: () => void;
  const write = gate.run(() => new Promise<string>((r) => (finish = () => r('done'))));
  let closed = false;
  const closing = gate.close('collecting garbage', 60_000).then((ok) => (closed = ok));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false, 'a write is still running');
  await assert.rejects(gate.run(async () => 1), (err: { code?: string; message: string }) => err.code === 'REGISTRY_UNAVAILABLE' && /collecting garbage; try again/.test(err.message));
  finish();
  assert.equal(await write, 'done');
  await closing;
  assert.equal(closed, true);
  gate.open();
  assert.equal(await gate.run(async () => 2), 2);
  // A write that outlives the wait: close answers false.
  const stuck = gate.run(() => new Promise((r) => setTimeout(r, 200)));
  assert.equal(await gate.close('x', 10), false);
  await stuck;
  gate.open();
});

test('runNow joins a run under way; the status tells the schedule and the last run', async () => {
  let runs = 0;
  let release!: () => void;
  const gc = new RegistryGc({ kind: 'off' }, () => new Promise<RegistryGcRun>((r) => {
    runs++;
    release = () => r({ startedAt: 't0', finishedAt: 't1', manifestsDeleted: 0, blobsDeleted: 2, bytesFreed: 10 });
  }));
  gc.start();
  const a = gc.runNow();
  const b = gc.runNow();
  assert.equal(gc.status().running, true);
  release();
  assert.equal(await a, await b);
  assert.equal(runs, 1);
  assert.deepEqual(gc.status(), { schedule: 'off', running: false, lastRun: await a });
  gc.stop();
});
