/**
 * The autoscaler on a real Docker engine: an app of busybox sets limited to 0.1
 * core each, autoscaled between 1 and 4 sets at a CPU target of 25 % (a loaded
 * set reads about 100 %, or less when the test machine is busy; an idle one
 * about 0 %: the target sits well inside that gap). The web
 * container spins while /tmp/load exists in it; the test creates that file in
 * every set (new ones too) with `docker exec`, so each set runs at its limit:
 * the app scales up to 4 from the agent's CPU figures (collector every second →
 * heartbeat → the server's history → the autoscaler's 1-minute average). Then the
 * files go, and the app scales back to 1. Every decision is an `Autoscaled` app
 * event with its reason; the replica count changes direction once (up, then
 * down), not back and forth.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AppEvent } from '@wharf/types';
import { Platform } from './harness/platform.js';
import { waitFor } from './harness/exec.js';

const APP = 'com.example.busy';
const LOAD_FILE = '/tmp/load';
/** Spins while the load file exists, idles otherwise. */
const SPIN_ON_FILE = `while :; do while [ -e ${LOAD_FILE} ]; do :; done; sleep 1; done`;

const autoscale = {
  min: 1,
  max: 4,
  cpu: 25,
  scaleUpCooldownSeconds: 5,
  scaleDownCooldownSeconds: 5,
  // Longer than the dip a new, not yet loaded set makes in the average.
  scaleDownStabilizationSeconds: 30,
  maxStepDown: 2,
};

const appSpec = {
  appkey: APP,
  replicas: 1,
  template: {
    resources: { cpu: 0.1, memory: '32Mi' },
    containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'web', command: { cmd: '/bin/sh', args: ['-c', SPIN_ON_FILE] } } }],
  },
  scaleIn: { drainSeconds: 1 },
  autoscale,
};

/** `replicas a → b` of an Autoscaled event's reason. */
function change(e: AppEvent): { from: number; to: number } {
  const m = /: (\d+) → (\d+)$/.exec(e.message);
  assert.ok(m, `an autoscale reason ends with "from → to": ${e.message}`);
  return { from: Number(m[1]), to: Number(m[2]) };
}

describe('autoscaler: CPU load inside the containers scales the app up, and back down when it stops', () => {
  let wharf: Platform;
  let loading = false;
  /** Containers given the load file. */
  const loaded = new Set<string>();

  /** The running web containers of the app's sets, by container id. */
  const webContainers = async (): Promise<string[]> =>
    (await wharf.client.listSets({ appkey: APP })).flatMap((s) =>
      s.status === 'running' ? s.containers.filter((x) => x.role === 'business' && x.name === 'web' && x.state === 'running' && x.containerId).map((x) => x.containerId as string) : [],
    );

  /** While `loading`: gives every running web container (new ones as they come) the load file. */
  const loader = async (): Promise<void> => {
    while (loading) {
      for (const id of await webContainers().catch(() => [])) {
        if (loaded.has(id)) continue;
        const r = await wharf.host('h1').docker(['exec', id, 'touch', LOAD_FILE]);
        if (r.code === 0) loaded.add(id);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  const replicas = async () => (await wharf.client.getApp(APP)).replicas;
  const decisions = async () => (await wharf.client.appEvents(APP)).filter((e) => e.reason === 'Autoscaled');
  /** Waits for the app's replicas; a timeout says what the autoscaler saw. */
  const replicasReach = async (n: number, what: string, timeoutMs: number) => {
    try {
      await waitFor(what, async () => (await replicas()) === n, timeoutMs, 1000);
    } catch (err) {
      const status = await wharf.client.autoscaleStatus(APP).catch(() => undefined);
      throw new Error(`${(err as Error).message}; autoscaler: ${JSON.stringify({ current: status?.current, desired: status?.desired, signals: status?.signals, decisions: status?.decisions })}`);
    }
  };

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    // The collector measures every second (default 10 s), so the average moves within the test's patience.
    await wharf.restartAgent('h1', ['--metrics-interval', '1s']);
  });

  after(async () => {
    loading = false;
    await wharf?.stop();
  });

  it('scales 1 → 4 under load and back to 1 after it, each decision with its reason, without flapping', async () => {
    await wharf.client.createApp(appSpec);
    await wharf.waitRunning(APP, 1);

    loading = true;
    const loaderDone = loader();
    try {
      await replicasReach(autoscale.max, 'the app scaled up to max (4)', 240_000);
      // Every set of the app runs, loaded.
      await waitFor('4 sets running under load', async () => {
        const ids = await webContainers();
        return ids.length === autoscale.max && ids.every((id) => loaded.has(id));
      }, 120_000, 500);
    } finally {
      loading = false;
      await loaderDone;
    }
    const ups = await decisions();
    assert.ok(ups.length >= 1, 'scaled up by decisions');
    // The CPU figure against the target, and the bound when it capped the step.
    for (const e of ups) assert.match(e.message, /^cpu \d+(\.\d+)?% of limit > target 25% over \d+ sets?( \(max step up \d+\))?(, capped by max 4)?: \d+ → \d+$/);

    for (const id of await webContainers()) {
      const r = await wharf.host('h1').docker(['exec', id, 'rm', '-f', LOAD_FILE]);
      assert.equal(r.code, 0, `load stopped in ${id}: ${r.stderr}`);
    }
    await replicasReach(autoscale.min, 'the app back at min (1)', 300_000);
    await waitFor('one set left', async () => (await wharf.client.getApp(APP)).sets.length === 1, 60_000, 500);

    const all = await decisions();
    const steps = all.map(change);
    console.log(`autoscale decisions: ${all.map((e) => `${e.time} ${e.message}`).join(' | ')}`);
    for (let i = 1; i < steps.length; i++) assert.equal(steps[i]?.from, steps[i - 1]?.to, 'each decision starts where the one before ended');
    assert.equal(steps[0]?.from, 1);
    assert.equal(steps.at(-1)?.to, 1);
    assert.ok(steps.some((s) => s.to === autoscale.max), 'reached max');
    const directions = steps.map((s) => Math.sign(s.to - s.from));
    const turns = directions.filter((d, i) => i > 0 && d !== directions[i - 1]).length;
    assert.equal(turns, 1, `up, then down, once: ${steps.map((s) => `${s.from}→${s.to}`).join(', ')}`);
    for (const e of all.filter((_, i) => (directions[i] ?? 0) < 0)) assert.match(e.message, /^(cpu \d+(\.\d+)?% of limit < target 25% over \d+ sets?( \(max step down \d+\))?|min 1): \d+ → \d+$/);
  });
});
