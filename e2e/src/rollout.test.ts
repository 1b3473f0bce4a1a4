/**
 * Gray image updates on a 2-host cluster with platform IPs: 6 sets × 2 business
 * containers; a rollout changes only the named container, batch by batch, each
 * batch waiting for readiness, while the infra container, the other container and
 * the IPs stay; pause after the first batch and resume; a bad image stops the
 * rollout after its first batch and the automatic rollback restores the old image.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WharfClient } from '@wharf/client';
import type { Rollout, SetView } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { sleep, waitFor } from './harness/exec.js';
import { LOOP, VERSION_WEB as WEB, buildImage } from './harness/images.js';

const APP = 'gray';
const SETS = [1, 2, 3, 4, 5, 6];
const V1 = 'wharf/busybox:latest';
const V2 = 'wharf/gray:v2';
const V3 = 'wharf/gray:v3';
const MISSING = 'wharf/gray:missing';

function spec(id: number) {
  return {
    appkey: APP, id,
    resources: { cpu: 0.2, memory: '64Mi', disk: '64Mi' },
    containers: [
      { index: 1, image: V1, options: { name: 'web', command: { cmd: '/bin/sh', args: ['-c', WEB] }, readiness: { http: { port: 8080 }, periodSeconds: 1 } } },
      { index: 2, image: V1, options: { name: 'side', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } },
    ],
  };
}

/** What must not change in a set when one container is updated, and that container's ID and image. */
interface Snapshot {
  infra: string;
  other: string;
  target: string;
  image: string;
  ips: string;
}

describe('gray updates on a 2-host cluster', () => {
  let cluster: Cluster;
  let c: WharfClient;

  before(async () => {
    cluster = await Cluster.start(2);
    c = cluster.platform.client;
    await cluster.addLan();
    for (const h of cluster.hosts) {
      await buildImage(h, V2, ['RUN echo v2 > /version']);
      await buildImage(h, V3, ['RUN echo v3 > /version']);
    }
    for (const id of SETS) await c.applySet(spec(id));
    await waitFor('6 sets ready', async () => (await c.listSets({ appkey: APP })).filter((s) => s.ready).length === SETS.length || undefined, 120_000, 250);
  });

  after(async () => {
    await cluster?.stop();
  });

  async function snapshot(target: 'web' | 'side'): Promise<Map<string, Snapshot>> {
    const out = new Map<string, Snapshot>();
    for (const s of await c.listSets({ appkey: APP })) {
      const id = (name: string) => s.containers.find((x) => x.name === name)?.containerId ?? '?';
      out.set(s.id, {
        infra: id('infra'),
        other: id(target === 'web' ? 'side' : 'web'),
        target: id(target),
        image: s.containers.find((x) => x.name === target)?.image ?? '?',
        ips: s.ips.map((x) => x.ip).join(','),
      });
    }
    return out;
  }

  /** The page a set's web container serves, fetched from inside its namespace. */
  async function page(s: SetView): Promise<string> {
    const r = await cluster.host(s.host as string).docker(['exec', `default_${APP}_${s.id}_side`, 'timeout', '3', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/']);
    return r.stdout.trim();
  }

  async function finished(number: number, timeoutMs = 180_000): Promise<Rollout> {
    return waitFor(`rollout ${number} finished`, async () => {
      const r = await c.getRollout(APP, number);
      return ['succeeded', 'failed', 'rolled-back'].includes(r.state) ? r : undefined;
    }, timeoutMs, 250);
  }

  it('replaces only the named container, batch by batch, keeping infra, the other container and the IPs', async () => {
    const before = await snapshot('side');
    assert.ok([...before.values()].every((s) => s.ips !== ''), 'every set has a platform IP');
    // Readiness gates each batch: never more than one batch (2 sets) of the app is not ready at a time.
    let worst = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const sets = await c.listSets({ appkey: APP });
        worst = Math.max(worst, sets.filter((s) => !s.ready).length);
        await sleep(100);
      }
    })();
    let r;
    try {
      r = await cluster.platform.cli(['rollout', 'start', APP, '--container', 'side', '--image', V2, '--batch', '25%', '--wait', '--timeout', '3m']);
    } finally {
      watching = false;
      await watcher;
    }
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rollout = await c.getRollout(APP, 'current');
    assert.equal(rollout.state, 'succeeded');
    assert.equal(rollout.batchSize, 2);
    assert.equal(rollout.batches, 3);
    assert.ok(worst <= 2, `at most one batch not ready at a time (saw ${worst})`);
    const after = await snapshot('side');
    for (const [id, b] of before) {
      const a = after.get(id);
      assert.ok(a, `set ${id} still there`);
      assert.equal(a.infra, b.infra, `set ${id}: infra container unchanged`);
      assert.equal(a.other, b.other, `set ${id}: web container unchanged`);
      assert.equal(a.ips, b.ips, `set ${id}: IPs unchanged`);
      assert.notEqual(a.target, b.target, `set ${id}: side container replaced`);
      assert.equal(a.image, V2);
    }
    const s1 = await c.getSet(APP, 1);
    const v = await cluster.host(s1.host as string).docker(['exec', `default_${APP}_1_side`, 'cat', '/version']);
    assert.equal(v.stdout.trim(), 'v2');
    const history = await cluster.platform.cli(['rollout', 'history', APP]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /succeeded/);
  });

  it('pauses after the first batch and goes on when resumed', async () => {
    const start = await cluster.platform.cli(['rollout', 'start', APP, '--container', 'web', '--image', V3, '--batch', '2', '--pause-after-first']);
    assert.equal(start.code, 0, start.stderr);
    const paused = await waitFor('paused after the first batch', async () => {
      const r = await c.getRollout(APP, 'current');
      return r.state === 'paused' ? r : undefined;
    }, 120_000, 250);
    assert.equal(paused.targets.filter((t) => t.state === 'updated').length, 2);
    // Paused means it stays so: nothing moves in the next 2 s.
    await sleep(2000);
    const still = await c.getRollout(APP, paused.number);
    assert.equal(still.state, 'paused');
    assert.equal((await c.listSets({ appkey: APP })).filter((s) => s.spec.containers.some((x) => x.options.name === 'web' && x.image === V3)).length, 2);
    const status = await cluster.platform.cli(['rollout', 'status', APP]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /paused/);
    const resume = await cluster.platform.cli(['rollout', 'resume', APP]);
    assert.equal(resume.code, 0, resume.stderr);
    const done = await finished(paused.number);
    assert.equal(done.state, 'succeeded', done.message);
    // The service answers from the new image in every set.
    for (const s of await c.listSets({ appkey: APP })) assert.equal(await page(s), 'v3', `set ${s.id}`);
  });

  it('stops a rollout to a bad image after its first batch and rolls it back', async () => {
    const before = await snapshot('side');
    const r = await cluster.platform.cli(['rollout', 'start', APP, '--container', 'side', '--image', MISSING, '--batch', '25%', '--auto-rollback-on-failure', '--wait', '--timeout', '3m']);
    assert.notEqual(r.code, 0, 'a rolled-back rollout is a failure for the CLI');
    const rollout = await c.getRollout(APP, 'current');
    assert.equal(rollout.state, 'rolled-back', rollout.message);
    assert.ok(rollout.message, 'says why');
    const touched = rollout.targets.filter((t) => t.batch !== undefined);
    assert.ok(touched.length <= 2, `only the first batch was changed: ${JSON.stringify(rollout.targets)}`);
    const sets = await c.listSets({ appkey: APP });
    for (const s of sets) {
      assert.equal(s.spec.containers.find((x) => x.options.name === 'side')?.image, V2, `set ${s.id} back on ${V2}`);
    }
    await waitFor('every set ready again', async () => (await c.listSets({ appkey: APP })).every((s) => s.ready) || undefined, 60_000, 250);
    const after = await snapshot('side');
    for (const [id, b] of before) {
      const a = after.get(id);
      assert.equal(a?.infra, b.infra, `set ${id}: infra container unchanged`);
      assert.equal(a?.ips, b.ips, `set ${id}: IPs unchanged`);
      // A missing image is found out before the old container is stopped: nothing was replaced.
      assert.equal(a?.target, b.target, `set ${id}: side container never stopped`);
    }
  });
});
