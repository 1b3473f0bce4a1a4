import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostMetrics, ResourceSample, SetMetrics } from '@wharf/types';
import { MetricsHistory, thin } from './history.js';
import { Ring } from './ring.js';

const T0 = Date.parse('2025-01-01T12:00:00Z');

/** A history on a clock the test moves. */
function clocked(opts: { retentionMs?: number; intervalMs?: number } = {}) {
  const clock = { now: T0 };
  return { clock, history: new MetricsHistory({ ...opts, now: () => clock.now }) };
}

function sample(over: Partial<ResourceSample> = {}): ResourceSample {
  return { cpu: 0.5, cpuLimit: 2, memory: 256 * 1024 ** 2, memoryLimit: 1024 ** 3, rxBytes: 100, txBytes: 50, ...over };
}

function setPoint(id: string, at: number, over: Partial<ResourceSample> = {}, ref: { tenant?: string; appkey?: string } = {}): SetMetrics {
  return { tenant: ref.tenant ?? 'default', appkey: ref.appkey ?? 'com.x', id, time: new Date(at).toISOString(), set: sample(over), containers: { web: sample(over) } };
}

function hostPoint(at: number, cpu = 1): HostMetrics {
  return { time: new Date(at).toISOString(), cpu, cpus: 8, memory: 4 * 1024 ** 3, memoryTotal: 16 * 1024 ** 3, load1: 1, load5: 1, load15: 1, uplinks: [], containers: 3 };
}

test('a ring keeps at most its capacity, oldest first, and drops by time', () => {
  const r = new Ring<number>(3);
  for (let i = 1; i <= 5; i++) r.push(i * 10, i);
  assert.equal(r.length, 3);
  assert.deepEqual(r.since().map((p) => p.value), [3, 4, 5]);
  assert.deepEqual(r.since(40).map((p) => p.value), [4, 5]);
  assert.equal(r.newest()?.value, 5);
  assert.equal(r.dropBefore(45), 2);
  assert.deepEqual(r.since().map((p) => p.value), [5]);
  r.push(60, 6);
  assert.deepEqual(r.since().map((p) => p.value), [5, 6]);
  assert.equal(r.dropBefore(100), 2);
  assert.equal(r.newest(), undefined);
  assert.throws(() => new Ring(0), RangeError);
});

test('points are kept for the retention, by the time the server received them', () => {
  const { clock, history } = clocked({ retentionMs: 60_000 });
  for (let i = 0; i < 10; i++) {
    history.addSet('h1', setPoint('1', clock.now));
    history.addHost('h1', hostPoint(clock.now));
    clock.now += 10_000;
  }
  // Now T0+100s: points received at T0+40s..T0+90s are within the last minute.
  assert.equal(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' })?.points.length, 6);
  assert.equal(history.hostSeries('h1')?.points.length, 6);
  assert.deepEqual(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' }, { from: T0 + 75_000 })?.points.map((p) => p.time), [
    new Date(T0 + 80_000).toISOString(),
    new Date(T0 + 90_000).toISOString(),
  ]);
});

test('a series holds at most retention/interval + 1 points however fast it is fed', () => {
  const { clock, history } = clocked({ retentionMs: 60_000, intervalMs: 10_000 });
  assert.equal(history.maxPoints, 7);
  for (let i = 0; i < 100; i++) {
    history.addSet('h1', setPoint('1', clock.now));
    clock.now += 100;
  }
  assert.equal(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' })?.points.length, 7);
  assert.equal(history.stats().points, 7);
});

test('a resent collection (same time) is added once', () => {
  const { clock, history } = clocked();
  const p = setPoint('1', T0);
  assert.equal(history.addSet('h1', p), true);
  clock.now += 5000;
  assert.equal(history.addSet('h1', p), false);
  assert.equal(history.addHost('h1', hostPoint(T0)), true);
  assert.equal(history.addHost('h1', hostPoint(T0)), false);
  assert.equal(history.stats().points, 2);
});

test('step keeps the newest point of each step', () => {
  const pts = [0, 10, 20, 30, 40, 50, 60, 70].map((s) => ({ at: T0 + s * 1000, value: s }));
  assert.deepEqual(thin(pts, 30_000).map((p) => p.value), [20, 50, 70]);
  const { clock, history } = clocked();
  for (let i = 0; i < 12; i++) {
    history.addHost('h1', hostPoint(clock.now, i));
    clock.now += 10_000;
  }
  assert.deepEqual(history.hostSeries('h1', { stepMs: 60_000 })?.points.map((p) => p.cpu), [5, 11]);
});

test('prune drops expired points and empty series; forget drops a series at once', () => {
  const { clock, history } = clocked({ retentionMs: 60_000 });
  history.addSet('h1', setPoint('1', clock.now));
  history.addSet('h1', setPoint('2', clock.now));
  history.addHost('h1', hostPoint(clock.now));
  history.addHost('h2', hostPoint(clock.now));
  history.forgetSet({ tenant: 'default', appkey: 'com.x', id: '2' });
  history.forgetHost('h2');
  assert.deepEqual(history.stats(), { setSeries: 1, hostSeries: 1, points: 2 });
  clock.now += 30_000;
  history.addHost('h1', hostPoint(clock.now));
  clock.now += 40_000;
  history.prune();
  assert.deepEqual(history.stats(), { setSeries: 0, hostSeries: 1, points: 1 });
  assert.equal(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' }), undefined);
});

test('reads leave out points past the retention even before a prune', () => {
  const { clock, history } = clocked({ retentionMs: 60_000 });
  history.addSet('h1', setPoint('1', clock.now));
  clock.now += 61_000;
  assert.deepEqual(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' })?.points, []);
});

test('top sets: the newest point of fresh sets of one tenant, sorted, limited; a moved set shows its new host', () => {
  const { clock, history } = clocked();
  history.addSet('h1', setPoint('old', clock.now, { cpu: 3 }));
  clock.now += 60_000;
  history.addSet('h1', setPoint('1', clock.now, { cpu: 0.2, memory: 900, rxBytes: 1 }));
  history.addSet('h2', setPoint('2', clock.now, { cpu: 1.5, memory: 100, rxBytes: 5000 }));
  history.addSet('h1', setPoint('3', clock.now, { cpu: 0.7, memory: 500 }, { appkey: 'com.y' }));
  history.addSet('h1', setPoint('9', clock.now, { cpu: 9 }, { tenant: 'team-a' }));
  clock.now += 10_000;
  history.addSet('h3', setPoint('1', clock.now, { cpu: 0.4, memory: 900, rxBytes: 1 }));
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  assert.deepEqual(ids(history.topSets({ tenant: 'default' })), ['2', '3', '1']);
  assert.deepEqual(ids(history.topSets({ tenant: 'default' }, 'memory')), ['1', '3', '2']);
  assert.deepEqual(ids(history.topSets({ tenant: 'default' }, 'net', 1)), ['2']);
  assert.deepEqual(ids(history.topSets({ tenant: 'default', appkey: 'com.x' })), ['2', '1']);
  assert.deepEqual(ids(history.topSets({ tenant: 'team-a' })), ['9']);
  const moved = history.topSets({ tenant: 'default', appkey: 'com.x' }).find((r) => r.id === '1');
  assert.equal(moved?.host, 'h3');
  assert.equal(moved?.set.cpu, 0.4);
  assert.equal(history.setSeries({ tenant: 'default', appkey: 'com.x', id: '1' })?.points.length, 2);
});

test('top hosts: the newest point of hosts that reported lately, by name', () => {
  const { clock, history } = clocked();
  history.addHost('silent', hostPoint(clock.now));
  clock.now += 60_000;
  history.addHost('h2', hostPoint(clock.now, 2));
  history.addHost('h1', hostPoint(clock.now, 1));
  clock.now += 10_000;
  history.addHost('h1', hostPoint(clock.now, 3));
  assert.deepEqual(history.topHosts().map((h) => [h.host, h.cpu]), [['h1', 3], ['h2', 2]]);
});

test('appAverage: the mean over the app\'s sets of each set\'s mean in the window, and use over limit', () => {
  const { clock, history } = clocked();
  history.addSet('h1', setPoint('1', clock.now, { cpu: 4 }));
  clock.now += 120_000;
  for (const cpu of [1, 0.5]) {
    history.addSet('h1', setPoint('1', clock.now, { cpu, cpuLimit: 2 }));
    history.addSet('h2', setPoint('2', clock.now, { cpu: cpu / 2, cpuLimit: 1 }));
    history.addSet('h2', setPoint('3', clock.now, { cpu: 3 }, { appkey: 'com.other' }));
    clock.now += 10_000;
  }
  // Set 1: mean 0.75 of 2 cores; set 2: mean 0.375 of 1 core. The 4-core point is outside the minute.
  const avg = history.appAverage('default', 'com.x', 'cpu', 60_000);
  assert.deepEqual(avg, { sets: 2, value: 0.5625, utilization: (0.375 + 0.375) / 2 });
  const mem = history.appAverage('default', 'com.x', 'memory', 60_000);
  assert.equal(mem?.value, 256 * 1024 ** 2);
  assert.equal(mem?.utilization, 0.25);
  assert.equal(history.appAverage('default', 'com.none', 'cpu', 60_000), undefined);
  assert.equal(history.appAverage('team-a', 'com.x', 'cpu', 60_000), undefined);
  clock.now += 120_000;
  assert.equal(history.appAverage('default', 'com.x', 'cpu', 60_000), undefined);
  const unlimited = clocked();
  unlimited.history.addSet('h1', setPoint('1', T0, { cpu: 1, cpuLimit: undefined }));
  assert.deepEqual(unlimited.history.appAverage('default', 'com.x', 'cpu', 60_000), { sets: 1, value: 1 });
});
