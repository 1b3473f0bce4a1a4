/**
 * The autoscaler against a real (in-memory) SqliteStore, a clock the test sets,
 * and a fake metrics history whose CPU utilization is a demand spread over the
 * app's current sets (so scaling out lowers it, as real load would).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SqliteStore, type Store } from '@wharf/store';
import type { AppSpec, AutoscaleSpec } from '@wharf/types';
import { applyApp, getApp, readAppEvents } from '../state/apps.js';
import { CustomMetrics } from '../metrics/custom.js';
import { AutoscaleController } from './autoscale.js';

const TEMPLATE: AppSpec['template'] = { resources: { cpu: 1, memory: '64Mi' }, containers: [{ index: 1, image: 'web:1', options: { name: 'web' } }] };

interface Rig {
  store: Store;
  controller: AutoscaleController;
  clock: { now: number };
  load: { demand: number | undefined };
  /** Runs a pass at the clock's time; returns the replicas after it. */
  step(): Promise<number>;
  events(): Promise<string[]>;
}

async function rig(autoscale: AutoscaleSpec, replicas: number, start: number): Promise<Rig> {
  const store = SqliteStore.open(':memory:');
  await applyApp(store, 'default', { appkey: 'web', replicas, template: TEMPLATE, autoscale });
  const clock = { now: start };
  const load: { demand: number | undefined } = { demand: undefined };
  let current = replicas;
  const history = {
    appAverage: (_t: string, _a: string, resource: 'cpu' | 'memory') =>
      resource === 'cpu' && load.demand !== undefined ? { sets: current, value: load.demand / current, utilization: load.demand / current } : undefined,
  };
  const controller = new AutoscaleController(store, pino({ level: 'silent' }), { history, custom: new CustomMetrics({ now: () => clock.now }), now: () => clock.now });
  return {
    store, controller, clock, load,
    async step() {
      await controller.pass();
      current = (await getApp(store, 'default', 'web')).value.spec.replicas;
      return current;
    },
    async events() {
      return (await readAppEvents(store, 'default', 'web')).map((e) => `${e.reason}: ${e.message}`);
    },
  };
}

/** Passes every 15 s for `seconds`; the replicas after each. */
async function runFor(r: Rig, seconds: number): Promise<number[]> {
  const seen: number[] = [];
  for (let t = 0; t < seconds; t += 15) {
    r.clock.now += 15_000;
    seen.push(await r.step());
  }
  return seen;
}

test('CPU above the target scales up; when the load stops it comes back down after the stabilization window, without flapping', async () => {
  const T0 = Date.parse('2026-12-02T06:00:00Z');
  const r = await rig({ min: 2, max: 10, cpu: 60 }, 2, T0);
  try {
    r.load.demand = 2.4; // 2.4 cores' worth of limit: 4 sets at 60 %
    assert.equal(await r.step(), 4);
    assert.deepEqual(await r.events(), ['Autoscaled: cpu 120% of limit > target 60% over 2 sets: 2 → 4']);
    // Settled: at 60 % nothing changes.
    assert.deepEqual(new Set(await runFor(r, 600)), new Set([4]));

    r.load.demand = 0.2;
    const after = await runFor(r, 600);
    // Nothing in the first 300 s (the stabilization window), then one set per 120 s cooldown, down to min.
    assert.deepEqual(new Set(after.slice(0, 19)), new Set([4]));
    assert.equal(after.at(-1), 2);
    const downs = (await r.events()).slice(1);
    assert.deepEqual(downs, [
      'Autoscaled: cpu 5% of limit < target 60% over 4 sets (max step down 1): 4 → 3',
      'Autoscaled: cpu 7% of limit < target 60% over 3 sets (max step down 1): 3 → 2',
    ].map((s) => s.replace('cpu 7%', 'cpu 6.67%')));
    // Every change is one way: never up again after going down.
    for (let i = 1; i < after.length; i++) assert.ok((after[i] as number) <= (after[i - 1] as number));
  } finally {
    await r.store.close();
  }
});

test('noise around the target does not flap', async () => {
  const r = await rig({ min: 2, max: 20, cpu: 60 }, 4, Date.parse('2026-12-02T06:00:00Z'));
  try {
    const seen: number[] = [];
    for (let i = 0; i < 80; i++) {
      r.load.demand = i % 2 === 0 ? 2.76 : 2.04;
      r.clock.now += 15_000;
      seen.push(await r.step());
    }
    const changes = seen.filter((n, i) => i > 0 && n !== seen[i - 1]).length;
    assert.ok(changes <= 1, `replicas: ${seen.join(' ')}`);
  } finally {
    await r.store.close();
  }
});

test('a schedule raises min at 11:00 in its zone and lowers it after the window', async () => {
  const at = (hhmm: string) => Date.parse(`2026-12-02T${hhmm}:00+08:00`);
  const r = await rig({ min: 2, max: 40, schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 }] }, 2, at('10:59'));
  try {
    assert.equal(await r.step(), 2);
    r.clock.now = at('11:00');
    assert.equal(await r.step(), 20);
    r.clock.now = at('13:59');
    assert.equal(await r.step(), 20);
    r.clock.now = at('14:00');
    assert.equal(await r.step(), 2);
    assert.deepEqual(await r.events(), [
      "Autoscaled: schedule '0 11 * * *' (Asia/Shanghai) raises min to 20: 2 → 20",
      'Autoscaled: back to min 2: 20 → 2',
    ]);
  } finally {
    await r.store.close();
  }
});

test('with CPU targets too, the end of the window lets the metrics bring it down gradually', async () => {
  const at = (hhmm: string) => Date.parse(`2026-12-02T${hhmm}:00+08:00`);
  const r = await rig({ min: 2, max: 40, cpu: 60, scaleDownStabilizationSeconds: 60, schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 }] }, 4, at('10:59'));
  try {
    r.load.demand = 2.4;
    assert.equal(await r.step(), 4);
    r.clock.now = at('11:00');
    assert.equal(await r.step(), 20);
    r.clock.now = at('14:00') - 15_000;
    r.load.demand = 2.4;
    const after = await runFor(r, 900);
    // One set per cooldown from 14:00 on, never below what the load needs.
    assert.equal(after[0], 19);
    for (let i = 1; i < after.length; i++) assert.ok((after[i] as number) <= (after[i - 1] as number) && (after[i] as number) >= 4, after.join(' '));
    assert.equal(after.at(-1), 12);
  } finally {
    await r.store.close();
  }
});
