/**
 * Faults on a 2-host cluster (h1 z1, h2 z2) with the platform registry and a 1Gi
 * volume pool per host: agent SIGKILL, dockerd crash, server SIGKILL during a burst,
 * a network cut shorter than the heartbeat grace, a volume at its quota and a set
 * the pool cannot hold, the registry down during a scale-out, and a clock jump on a
 * host. After each fault: no running container was restarted or recreated unless it
 * had to be (ids and StartedAt before and after), no acknowledged change was lost,
 * no set runs on two hosts. The table in docs/reliability.md lists these with the
 * faults other files cover.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WharfError, type SetView } from '@wharf/types';
import type { WharfClient } from '@wharf/client';
import { Cluster } from './harness/cluster.js';
import { OWNER_FILE } from './harness/docker-host.js';
import { literal, run, sleep, waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';
import type { Platform } from './harness/platform.js';
import { assertRunsOnce, assertUntouched, runningContainers } from './harness/untouched.js';

const MiB = 1024 * 1024;
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

/** A small set (the pools are 1Gi): `zone` pins it to a host, `volume` gives it /data. */
function spec(appkey: string, id: number, o: { zone?: string; disk?: string; volume?: boolean; image?: string } = {}) {
  return {
    appkey, id,
    resources: { cpu: 0.1, memory: '32Mi', disk: o.disk ?? '16Mi' },
    containers: [{ index: 0, image: o.image ?? 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] }, ...(o.volume ? { volumes: [{ path: '/data' }] } : {}) } }],
    ...(o.zone ? { placement: { zones: [o.zone] } } : {}),
  };
}

describe('faults on a 2-host cluster', () => {
  let cluster: Cluster;
  let p: Platform;
  let c: WharfClient;
  let registry: string;
  const scratch = mkdtempSync('/tmp/wharf-e2e-faults-');
  writeFileSync(join(scratch, OWNER_FILE), `${process.pid}\n`);

  before(async () => {
    cluster = await Cluster.start({
      hosts: [{ name: 'h1', zone: 'z1', rack: 'r1' }, { name: 'h2', zone: 'z2', rack: 'r2' }],
      platform: { registry: true, agentArgs: ['--pool-size', '1Gi'] },
    });
    p = cluster.platform;
    c = p.client;
    registry = p.registryAddress!;
    // An image only the registry has: pushed from h1, then untagged there.
    const docker = (args: string[], input?: string) => run('docker', ['--config', join(scratch, 'docker-cli'), '-H', `unix://${cluster.host('h1').socket}`, ...args], input !== undefined ? { input } : {});
    await waitFor("the registry's CA on h1", async () => (await docker(['login', registry, '--username', 'someone', '--password-stdin'], p.adminToken)).code === 0, 30_000, 500);
    assert.equal((await docker(['tag', 'wharf/busybox:latest', `${registry}/default/fault:1`])).code, 0);
    const push = await docker(['push', `${registry}/default/fault:1`]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(['rmi', `${registry}/default/fault:1`])).code, 0);
    // Long-running sets on both hosts, watched by every test.
    await c.applySet(spec('e2e.steady', 1, { zone: 'z1', volume: true }));
    await c.applySet(spec('e2e.steady', 2, { zone: 'z2', volume: true }));
    await allRunning();
  });

  after(async () => {
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Every running Wharf container on both hosts. */
  const snapshot = () => runningContainers(cluster.hosts);

  /** Every set (but `except`) running at its generation; resolves with them all. */
  async function allRunning(except: (s: SetView) => boolean = () => false, timeoutMs = 90_000): Promise<SetView[]> {
    let last: SetView[] = [];
    try {
      return await waitFor('every set running', async () => {
        last = await c.listSets();
        return last.every((s) => except(s) || (s.status === 'running' && s.observedGeneration >= s.generation)) ? last : undefined;
      }, timeoutMs, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}; not running: ${JSON.stringify(last.filter((s) => s.status !== 'running').map((s) => [s.appkey, s.id, s.host, s.status, s.message]))}`);
    }
  }

  async function deleteAll(appkey: string): Promise<void> {
    for (const s of await c.listSets({ appkey })) await c.deleteSet(appkey, s.id);
    await waitFor(`the sets of ${appkey} gone`, async () => (await c.listSets({ appkey })).length === 0, 120_000, 500);
  }

  async function readyAgain(host: string, since: number): Promise<void> {
    await waitFor(`${host} ready with a heartbeat after ${new Date(since).toISOString()}`, async () => {
      const h = await c.getHost(host);
      return h.state === 'ready' && Date.parse(h.lastHeartbeat) > since;
    }, 60_000, 200);
  }

  it('agent SIGKILL and restart: no container recreated; a create and a delete made while it was down are applied after', async () => {
    await c.applySet(spec('e2e.doomed', 1, { zone: 'z1' }));
    await allRunning();
    const before = await snapshot();
    await p.stopAgent('h1', 'SIGKILL');
    await c.applySet(spec('e2e.while-down', 1, { zone: 'z1' }));
    await c.deleteSet('e2e.doomed', 1);
    const since = Date.now();
    await p.startAgent('h1');
    await readyAgain('h1', since);
    assert.equal((await p.waitRunning('e2e.while-down', 1, 60_000)).host, 'h1');
    await waitFor('e2e.doomed/1 removed', async () => (await c.listSets({ appkey: 'e2e.doomed' })).length === 0 && (await cluster.host('h1').containerIds('label=wharf.app=e2e.doomed')).length === 0, 60_000, 250);
    await allRunning();
    const now = await snapshot();
    assertUntouched(before, now, ['default/e2e.doomed/1']);
    assertRunsOnce(now);
    await deleteAll('e2e.while-down');
  });

  it('dockerd SIGKILL and restart (live-restore): the sets run on, none recreated or restarted; a set created meanwhile runs after', async () => {
    const h2 = cluster.host('h2');
    const before = await snapshot();
    await h2.stopDockerd('SIGKILL');
    try {
      await c.applySet(spec('e2e.while-crashed', 1, { zone: 'z2' }));
      // The agent tries the new set and fails: the engine does not answer.
      await waitFor("h2's agent failing to reconcile the new set", async () => p.logs('agent-h2').split('\n').some((l) => l.includes('"msg":"reconcile failed"') && l.includes('"set":"default/e2e.while-crashed/1"')), 60_000, 250);
    } finally {
      await h2.startDockerd();
    }
    assert.equal((await p.waitRunning('e2e.while-crashed', 1, 60_000)).host, 'h2');
    await allRunning();
    const now = await snapshot();
    assertUntouched(before, now);
    assertRunsOnce(now);
    assert.equal((await c.getHost('h2')).state, 'ready');
    await deleteAll('e2e.while-crashed');
  });

  it('server SIGKILL during a burst of creates and scales: every acknowledged create and the last acknowledged scale hold; no set runs twice', async () => {
    const APP = 'e2e.burst-app';
    const template = { resources: { cpu: 0.1, memory: '32Mi', disk: '16Mi' }, containers: spec(APP, 0).containers };
    await c.createApp({ appkey: APP, replicas: 1, template });
    await allRunning();
    const before = await snapshot();
    const created: number[] = [];
    const scaled: number[] = [];
    let tried: number | undefined;
    let stop = false;
    let killing = false;
    /** Calls that failed before the server was killed: none may. */
    const failedEarly: string[] = [];
    /** Whether `call` was acknowledged; a call that fails ends the caller's loop. */
    const acked = async (call: () => Promise<unknown>): Promise<boolean> => {
      try {
        await call();
        return true;
      } catch (err) {
        if (!killing) failedEarly.push(String(err));
        return false;
      }
    };
    const creates = (async () => {
      for (let i = 1; i <= 16 && !stop; i++) {
        if (!(await acked(() => c.applySet(spec('e2e.burst', i))))) return;
        created.push(i);
      }
    })();
    const scales = (async () => {
      const sizes = [3, 2, 4, 1, 3, 2];
      for (let k = 0; !stop; k++) {
        const size = sizes[k % sizes.length] as number;
        tried = size;
        if (!(await acked(() => c.scaleApp(APP, size)))) return;
        scaled.push(size);
      }
    })();
    await waitFor('acknowledged creates and scales', async () => (created.length >= 4 && scaled.length >= 3) || failedEarly.length > 0, 20_000, 5);
    assert.deepEqual(failedEarly, [], 'no call failed before the server was killed');
    killing = true;
    await p.stopServer('SIGKILL');
    stop = true;
    await Promise.all([creates, scales]);
    await p.startServer();
    c = p.client;

    const ids = new Set((await c.listSets({ appkey: 'e2e.burst' })).map((s) => Number(s.id)));
    for (const i of created) assert.ok(ids.has(i), `acknowledged set e2e.burst/${i} exists`);
    const app = await c.getApp(APP);
    // The scale in flight when the server died may have been written before the reply was lost.
    assert.ok(app.replicas === scaled.at(-1) || app.replicas === tried, `replicas ${app.replicas}; last acknowledged ${scaled.at(-1)}, in flight ${tried}`);
    await waitFor(`${APP} at ${app.replicas} sets`, async () => {
      const a = await c.getApp(APP);
      return a.current === app.replicas && a.leaving === 0;
    }, 120_000, 500);
    await allRunning(undefined, 180_000);
    const now = await snapshot();
    // Scale-ins in the burst may have removed the app's first set; everything else ran on.
    assertUntouched(before, now, [...before.values()].filter((r) => r.set.startsWith(`default/${APP}/`)).map((r) => r.set));
    assertRunsOnce(now);
    process.stderr.write(`faults: server killed after ${created.length} creates and ${scaled.length} scales were acknowledged\n`);
    await c.deleteApp(APP);
    await deleteAll('e2e.burst');
    await waitFor(`${APP} gone`, async () => (await c.listSets({ appkey: APP })).length === 0, 120_000, 500);
  });

  it('a network cut of h2 shorter than the heartbeat grace, then healed: h2 stays ready, nothing restarts or moves', async () => {
    assert.ok(await cluster.ping('h1', 'h2'), 'h1 reaches h2 before the cut');
    const placedBefore = (await c.listSets()).map((s) => [s.appkey, s.id, s.host]);
    const before = await snapshot();
    const states = new Set<string>();
    await cluster.cutNetwork('h2');
    try {
      await waitFor('h2 cut off', async () => !(await cluster.ping('h1', 'h2')), 10_000, 200);
      // The heartbeat grace is 20 s: watch the host for 8 s of the cut.
      const end = Date.now() + 8_000;
      while (Date.now() < end) {
        states.add((await c.getHost('h2')).state);
        await sleep(500);
      }
    } finally {
      await cluster.healNetwork('h2');
    }
    await waitFor('h1 reaches h2 again', () => cluster.ping('h1', 'h2'), 30_000, 200);
    assert.deepEqual([...states], ['ready']);
    assert.equal((await c.getHost('h2')).state, 'ready');
    assert.deepEqual((await allRunning()).map((s) => [s.appkey, s.id, s.host]), placedBefore);
    const now = await snapshot();
    assertUntouched(before, now);
    assertRunsOnce(now);
  });

  it('a volume filled to its quota fails the write with EDQUOT and nothing else; a set the pool cannot hold waits, a grow past it is a 409', async () => {
    await c.applySet(spec('e2e.full', 1, { zone: 'z1', disk: '64Mi', volume: true }));
    await allRunning();
    const before = await snapshot();
    const dd = await cluster.host('h1').docker(['exec', 'default_e2e.full_1_app', 'sh', '-c', 'dd if=/dev/zero of=/data/fill bs=1M count=100 2>&1; sync']);
    assert.match(dd.stdout, /Disk quota exceeded|No space left on device/);
    const v = await waitFor('the full volume reported', async () => {
      const x = await c.getVolume('e2e.full', 1);
      return (x.used ?? 0) > 32 * MiB ? x : undefined;
    }, 60_000, 500);
    assert.ok((v.used ?? 0) <= 64 * MiB + MiB, `used ${v.used} of a 64Mi quota`);
    const full = await waitFor('a VolumeFull event on the set', async () => (await c.setEvents('e2e.full', 1)).find((e) => e.reason === 'VolumeFull'), 30_000, 500);
    assert.equal(full.type, 'Warning');
    assert.match(full.message, /^volume is full: \S+ of 64Mi used \(\d+%\)/);
    // The steady set on the same host still writes to its own volume.
    const other = await cluster.host('h1').docker(['exec', 'default_e2e.steady_1_app', 'sh', '-c', 'echo ok > /data/ok && cat /data/ok']);
    assert.equal(other.stdout.trim(), 'ok', other.stderr);

    // More disk than the pool has: accepted, and pending with the reason (not a 500).
    const big = await c.applySet(spec('e2e.too-big', 1, { zone: 'z1', disk: '2Gi' }));
    assert.equal(big.created, true);
    const pending = await p.waitForSet('e2e.too-big', 1, 'unschedulable', (s) => /insufficient disk/.test(s.message ?? ''));
    assert.equal(pending.status, 'pending');
    assert.equal(pending.host, undefined);
    await assert.rejects(c.resizeVolume('e2e.full', 1, '4Gi'), (err: unknown) => {
      assert.ok(err instanceof WharfError, String(err));
      assert.equal(err.code, 'INSUFFICIENT_DISK');
      assert.equal(err.status, 409);
      assert.match(err.message, /h1/);
      return true;
    });
    assert.equal((await c.getVolume('e2e.full', 1)).size, 64 * MiB, 'the refused grow changed nothing');
    const now = await snapshot();
    assertUntouched(before, now);
    assertRunsOnce(now);
    await allRunning((s) => s.appkey === 'e2e.too-big');
    await deleteAll('e2e.too-big');
    await deleteAll('e2e.full');
  });

  it('the registry down during a scale-out: the new sets say which pull failed and run once it is back; the old set is untouched', async () => {
    const APP = 'e2e.pull';
    const image = `${registry}/default/fault:1`;
    const [address, port] = registry.split(':') as [string, string];
    // Docker's answer when the registry does not answer: "connection refused".
    const block = (op: '-I' | '-D') => cluster.exec('h2', 'iptables', [op, 'OUTPUT', '-p', 'tcp', '-d', address, '--dport', port, '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    let blocked = false;
    // The first set on h1 (which pulls the image), the scale-out on h2, whose dockerd never had it.
    await c.hostAction('h2', 'cordon');
    try {
      await c.createApp({ appkey: APP, replicas: 1, template: { resources: { cpu: 0.1, memory: '32Mi', disk: '16Mi' }, containers: spec(APP, 0, { image }).containers } });
      await allRunning(undefined, 120_000);
      await c.hostAction('h2', 'uncordon');
      await c.hostAction('h1', 'cordon');
      assert.notEqual((await cluster.host('h2').docker(['image', 'inspect', image])).code, 0, 'h2 does not have the image');
      const before = await snapshot();
      const r = await block('-I');
      assert.equal(r.code, 0, r.stderr);
      blocked = true;
      await c.scaleApp(APP, 3);
      const failed = await waitFor('a pull failure on each new set', async () => {
        const sets = (await c.listSets({ appkey: APP })).filter((s) => s.host === 'h2');
        if (sets.length !== 2) return undefined;
        const events = await Promise.all(sets.map((s) => c.setEvents(APP, s.id)));
        const warnings = events.map((ev) => ev.find((e) => e.type === 'Warning' && e.reason === 'ImagePullFailed'));
        return warnings.every(Boolean) ? { sets, warnings } : undefined;
      }, 90_000, 500);
      for (const w of failed.warnings) assert.match(w?.message ?? '', new RegExp(`^cannot pull image ${literal(image)}: .*${literal(address)}`));
      for (const s of failed.sets) assert.notEqual(s.status, 'running');
      await block('-D');
      blocked = false;
      for (const s of failed.sets) await p.waitRunning(APP, s.id, 120_000);
      await allRunning();
      const now = await snapshot();
      assertUntouched(before, now);
      assertRunsOnce(now);
    } finally {
      if (blocked) await block('-D');
      await c.hostAction('h1', 'uncordon').catch(() => undefined);
      await c.hostAction('h2', 'uncordon').catch(() => undefined);
    }
    await c.deleteApp(APP);
    await waitFor(`${APP} gone`, async () => (await c.listSets({ appkey: APP })).length === 0, 120_000, 500);
  });

  it("a clock jump on h1 (its agent's wall clock 2 h ahead, then back): h1 stays ready, changes are applied, nothing restarts", { skip: existsSync(LIBFAKETIME) ? false : `no ${LIBFAKETIME} (scripts/install-test-deps.sh installs it)` }, async () => {
    const offset = join(scratch, 'faketime');
    writeFileSync(offset, '+0\n');
    // libfaketime re-reads the offset every second; timers (the monotonic clock) are left alone, as with a real clock step.
    p.setAgentEnv('h1', { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offset, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    try {
      await p.restartAgent('h1');
      await allRunning();
      const before = await snapshot();
      for (const [step, jump] of [[1, '+2h'], [2, '+0']] as const) {
        writeFileSync(offset, `${jump}\n`);
        const since = Date.now();
        await c.applySet(spec('e2e.clock', step, { zone: 'z1' }));
        if (step === 2) await c.deleteSet('e2e.clock', 1);
        await readyAgain('h1', since + 2000);
        await p.waitRunning('e2e.clock', step, 60_000);
        // Watch the host for a while after the jump: heartbeats go on, it stays ready.
        const end = Date.now() + 5_000;
        while (Date.now() < end) {
          assert.equal((await c.getHost('h1')).state, 'ready', `h1 after the jump to ${jump}`);
          await sleep(500);
        }
      }
      await waitFor('e2e.clock/1 removed', async () => (await cluster.host('h1').containerIds('label=wharf.set=default/e2e.clock/1')).length === 0, 60_000, 250);
      await allRunning();
      const now = await snapshot();
      assertUntouched(before, now, ['default/e2e.clock/1']);
      assertRunsOnce(now);
    } finally {
      p.setAgentEnv('h1', {});
      await p.restartAgent('h1');
    }
    await deleteAll('e2e.clock');
  });
});
