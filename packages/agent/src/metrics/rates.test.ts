import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateKeeper, type Instant } from './rates.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
/** `s` seconds into the test, on both clocks. */
const at = (s: number): Instant => ({ mono: s * 1000, wall: T0 + s * 1000 });

test('rates: the difference over the interval; the first sample has none', () => {
  const k = new RateKeeper();
  const inc = 'c1@start';
  assert.deepEqual(k.rate('c1', { incarnation: inc, startedAt: T0 - 3_600_000, values: { cpuNs: 5e9, rxBytes: 100 } }, at(0), undefined), { kind: 'fresh', wentBackwards: false });
  const r = k.rate('c1', { incarnation: inc, startedAt: T0 - 3_600_000, values: { cpuNs: 10e9, rxBytes: 1100 } }, at(10), T0);
  assert.deepEqual(r, { kind: 'rates', rates: { cpuNs: 0.5e9, rxBytes: 100 } });
  // A counter that appears later (blkio after the controller came up) has no rate yet.
  assert.deepEqual(k.rate('c1', { incarnation: inc, values: { cpuNs: 20e9, rxBytes: 1100, readBytes: 7 } }, at(20), T0 + 10_000), { kind: 'rates', rates: { cpuNs: 1e9, rxBytes: 0 } });
});

test('rates: a restart since the previous collection is measured from its start (counters began at 0)', () => {
  const k = new RateKeeper();
  k.rate('c1', { incarnation: 'c1@a', values: { cpuNs: 900e9 } }, at(0), undefined);
  k.rate('c1', { incarnation: 'c1@a', values: { cpuNs: 905e9 } }, at(10), T0);
  // docker restart at 14 s: new start time, counters from 0; 2 s of CPU in the 6 s since.
  const r = k.rate('c1', { incarnation: 'c1@b', startedAt: T0 + 14_000, values: { cpuNs: 2e9 } }, at(20), T0 + 10_000);
  assert.equal(r.kind, 'rates');
  assert.ok(r.kind === 'rates' && Math.abs((r.rates.cpuNs ?? 0) - 2e9 / 6) < 1, JSON.stringify(r));
  // and from then on against the new baseline
  assert.deepEqual(k.rate('c1', { incarnation: 'c1@b', startedAt: T0 + 14_000, values: { cpuNs: 7e9 } }, at(30), T0 + 20_000), { kind: 'rates', rates: { cpuNs: 0.5e9 } });
});

test('rates: counters going backwards without a new start time start fresh (never negative), and say so', () => {
  const k = new RateKeeper();
  k.rate('n', { incarnation: 'i@a', values: { rxBytes: 5000, txBytes: 10 } }, at(0), undefined);
  assert.deepEqual(k.rate('n', { incarnation: 'i@a', values: { rxBytes: 100, txBytes: 20 } }, at(10), T0), { kind: 'fresh', wentBackwards: true });
  assert.deepEqual(k.rate('n', { incarnation: 'i@a', values: { rxBytes: 600, txBytes: 30 } }, at(20), T0 + 10_000), { kind: 'rates', rates: { rxBytes: 50, txBytes: 1 } });
});

test('rates: a container first seen long after it started waits a round; one started just now does not; too short a span is noise', () => {
  const k = new RateKeeper();
  assert.deepEqual(k.rate('old', { incarnation: 'old@x', startedAt: T0 - 86_400_000, values: { cpuNs: 1e12 } }, at(10), T0), { kind: 'fresh', wentBackwards: false });
  const r = k.rate('new', { incarnation: 'new@x', startedAt: T0 + 6_000, values: { cpuNs: 2e9 } }, at(10), T0);
  assert.deepEqual(r, { kind: 'rates', rates: { cpuNs: 0.5e9 } });
  assert.deepEqual(k.rate('quick', { incarnation: 'q@x', startedAt: T0 + 9_600, values: { cpuNs: 1e9 } }, at(10), T0), { kind: 'fresh', wentBackwards: false });
  // Without a previous collection nothing is "recent".
  assert.equal(new RateKeeper().rate('x', { incarnation: 'x', startedAt: T0 + 5_000, values: { cpuNs: 1 } }, at(10), undefined).kind, 'fresh');
});

test('rates: retain forgets what is gone', () => {
  const k = new RateKeeper();
  k.rate('a', { incarnation: 'a', values: { v: 1 } }, at(0), undefined);
  k.rate('b', { incarnation: 'b', values: { v: 1 } }, at(0), undefined);
  k.retain(new Set(['a']));
  assert.equal(k.rate('a', { incarnation: 'a', values: { v: 11 } }, at(10), T0).kind, 'rates');
  assert.equal(k.rate('b', { incarnation: 'b', values: { v: 11 } }, at(10), T0).kind, 'fresh');
});
