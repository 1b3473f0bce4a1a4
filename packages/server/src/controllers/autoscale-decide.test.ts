/**
 * The autoscaler's decisions as tables: recommendations, tolerance, steps,
 * bounds, stabilization, cooldowns, and schedules in time zones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AutoscaleSpec } from '@wharf/types';
import { decide, effectiveBounds, type DecisionInput, type Recommendation, type Signal } from './autoscale-decide.js';

const NOW = Date.parse('2026-12-02T06:00:00Z');
const cpu = (observed: number, sets = 4): Signal => ({ name: 'cpu', observed, target: 60, unit: '%', sets });
const base: AutoscaleSpec = { min: 2, max: 40, cpu: 60 };

function run(over: Partial<DecisionInput>) {
  return decide({ spec: base, current: 4, now: NOW, signals: [], history: [], ...over });
}

test('metric decisions: up, tolerance, max step, bounds, several signals, no data', () => {
  const rows: [string, Partial<DecisionInput>, number, string | undefined][] = [
    ['above target', { signals: [cpu(90)] }, 6, 'cpu 90% of limit > target 60% over 4 sets: 4 → 6'],
    ['inside the tolerance', { signals: [cpu(65)] }, 4, undefined],
    ['just outside it', { signals: [cpu(67)] }, 5, 'cpu 67% of limit > target 60% over 4 sets: 4 → 5'],
    ['max step up: double or 4', { signals: [cpu(600)] }, 8, 'cpu 600% of limit > target 60% over 4 sets (max step up 4): 4 → 8'],
    ['max step up given', { spec: { ...base, maxStepUp: 1 }, signals: [cpu(90)] }, 5, 'cpu 90% of limit > target 60% over 4 sets (max step up 1): 4 → 5'],
    ['clamped to max', { spec: { ...base, max: 5 }, signals: [cpu(120)] }, 5, 'cpu 120% of limit > target 60% over 4 sets, capped by max 5: 4 → 5'],
    ['raised to min without data', { spec: { ...base, min: 6 } }, 6, 'min 6: 4 → 6'],
    ['no data, no change', {}, 4, undefined],
    ['highest of several signals', { spec: { ...base, memory: 50, metrics: [{ name: 'qps', target: 100 }] }, signals: [cpu(30), { name: 'memory', observed: 75, target: 50, unit: '%', sets: 4 }, { name: 'qps', observed: 120, target: 100, unit: '', sets: 4 }] }, 6, 'memory 75% of limit > target 50% over 4 sets: 4 → 6'],
    ['custom metric per set', { spec: { ...base, metrics: [{ name: 'qps', target: 500 }] }, signals: [{ name: 'qps', observed: 1000, target: 500, unit: '', sets: 4 }] }, 8, 'qps 1000 per set > target 500 over 4 sets: 4 → 8'],
    ['down, one set at a time', { signals: [cpu(20)] }, 3, 'cpu 20% of limit < target 60% over 4 sets (max step down 1): 4 → 3'],
    ['down, not below min', { current: 2, signals: [cpu(5)] }, 2, undefined],
  ];
  for (const [name, input, replicas, reason] of rows) {
    const d = run(input);
    assert.equal(d.replicas, replicas, name);
    assert.equal(d.reason, reason, name);
  }
});

test('stabilization: down only to the highest recommendation of the window', () => {
  const history: Recommendation[] = [{ at: NOW - 200_000, replicas: 6 }, { at: NOW - 100_000, replicas: 4 }];
  const held = run({ signals: [cpu(20)], history, current: 6 });
  assert.equal(held.replicas, 6);
  assert.match(held.held ?? '', /scale-down stabilization/);
  const older = history.map((h) => ({ ...h, at: h.at - 200_000 }));
  assert.equal(run({ signals: [cpu(20)], history: older, current: 6 }).replicas, 5);
  // An up window takes the lowest recommendation of its window.
  const up = run({ spec: { ...base, scaleUpStabilizationSeconds: 60 }, signals: [cpu(90)], history: [{ at: NOW - 30_000, replicas: 4 }] });
  assert.equal(up.replicas, 4);
});

test('cooldown since the last change', () => {
  const held = run({ signals: [cpu(90)], lastChangeAt: NOW - 10_000 });
  assert.equal(held.replicas, 4);
  assert.equal(held.held, '4 → 6 held: cooldown 30s, 20s left');
  assert.equal(run({ signals: [cpu(90)], lastChangeAt: NOW - 30_000 }).replicas, 6);
  assert.equal(run({ signals: [cpu(20)], lastChangeAt: NOW - 60_000 }).replicas, 4);
  assert.equal(run({ signals: [cpu(20)], lastChangeAt: NOW - 120_000 }).replicas, 3);
  // Bounds are not paced.
  assert.equal(run({ spec: { ...base, min: 10 }, signals: [cpu(60)], lastChangeAt: NOW }).replicas, 10);
});

test('no flapping: a noisy load around the target moves replicas once at most', () => {
  let replicas = 4;
  let lastChangeAt: number | undefined;
  const history: Recommendation[] = [];
  const changes: number[] = [];
  for (let i = 0; i < 120; i++) {
    const now = NOW + i * 15_000;
    const demand = i % 2 === 0 ? 2.76 : 2.04; // mean 2.4 cores of limit: 4 sets at 60 %
    const d = decide({ spec: base, current: replicas, now, signals: [cpu((demand / replicas) * 100, replicas)], history: [...history], ...(lastChangeAt !== undefined ? { lastChangeAt } : {}) });
    history.push({ at: now, replicas: d.recommendation });
    if (d.replicas !== replicas) {
      changes.push(d.replicas);
      replicas = d.replicas;
      lastChangeAt = now;
    }
  }
  assert.ok(changes.length <= 1, `changes: ${changes.join(', ')}`);
});

const lunch: AutoscaleSpec = { min: 2, max: 40, schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 }] };
const shanghai = (hhmm: string) => Date.parse(`2026-12-02T${hhmm}:00+08:00`);

test('schedules: windows in their time zone raise min and cap max', () => {
  assert.equal(effectiveBounds(lunch, shanghai('10:59')).min, 2);
  assert.equal(effectiveBounds(lunch, shanghai('11:00')).min, 20);
  assert.equal(effectiveBounds(lunch, shanghai('13:59')).min, 20);
  assert.equal(effectiveBounds(lunch, shanghai('14:00')).min, 2);
  const night: AutoscaleSpec = { min: 4, max: 40, schedules: [{ cron: '0 22 * * *', timezone: 'Asia/Shanghai', duration: '8h', max: 6 }, { cron: '0 23 * * *', timezone: 'Asia/Shanghai', duration: '2h', max: 3, min: 1 }] };
  assert.deepEqual([effectiveBounds(night, shanghai('21:59')).max, effectiveBounds(night, shanghai('23:30')).max], [40, 3]);
  // Across midnight: the window opened yesterday at 22:00 is still open at 05:59.
  const early = effectiveBounds(night, shanghai('05:59'));
  assert.deepEqual([early.min, early.max, early.active.length], [4, 6, 1]);
  assert.equal(effectiveBounds(night, shanghai('06:00')).max, 40);
  // A floor above the ceiling gives way to it.
  const both: AutoscaleSpec = { min: 2, max: 40, schedules: [{ cron: '0 * * * *', duration: '1h', min: 30 }, { cron: '0 * * * *', duration: '1h', max: 10 }] };
  assert.deepEqual([effectiveBounds(both, NOW).min, effectiveBounds(both, NOW).max], [10, 10]);
});

test('schedules alone: replicas follow the floor, and come back after the window', () => {
  const up = decide({ spec: lunch, current: 6, now: shanghai('11:00'), signals: [], history: [] });
  assert.equal(up.reason, "schedule '0 11 * * *' (Asia/Shanghai) raises min to 20: 6 → 20");
  const down = decide({ spec: lunch, current: 20, now: shanghai('14:00'), signals: [], history: [], lastChangeAt: shanghai('13:59') });
  assert.equal(down.reason, 'back to min 2: 20 → 2');
});

test('schedules with metrics: the floor holds against low load, the metrics go above it', () => {
  const spec = { ...lunch, cpu: 60 };
  const low = decide({ spec, current: 20, now: shanghai('12:00'), signals: [cpu(10, 20)], history: [] });
  assert.equal(low.replicas, 20);
  const high = decide({ spec, current: 20, now: shanghai('12:00'), signals: [cpu(90, 20)], history: [] });
  assert.equal(high.reason, 'cpu 90% of limit > target 60% over 20 sets: 20 → 30');
  // After the window, the low load brings it down step by step.
  const after = decide({ spec, current: 20, now: shanghai('14:00'), signals: [cpu(10, 20)], history: [] });
  assert.equal(after.replicas, 19);
});
