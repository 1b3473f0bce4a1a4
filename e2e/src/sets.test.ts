/**
 * Sets on a real dockerd: the seed's example, shared namespaces, business containers'
 * hardening, start/stop order, limits, restarts of agent, dockerd and server, bad
 * input, unknown images, logs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LINUX_CAPABILITIES, WharfError, type SetView } from '@wharf/types';
import type { DockerHost } from './harness/docker-host.js';
import { Platform } from './harness/platform.js';
import { waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';
import { assertUntouched, runningContainers } from './harness/untouched.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SEED = JSON.parse(readFileSync(join(ROOT, 'docs/examples/seed-set.json'), 'utf8')) as { appkey: string; id: number };

function container(index: number, name: string, extra: Record<string, unknown> = {}) {
  return { index, image: 'wharf/busybox:latest', options: { name, command: { cmd: '/bin/sh', args: ['-c', LOOP] }, ...extra } };
}

/** The status of a container's main process: effective capabilities (CapEff's bits are LINUX_CAPABILITIES), no-new-privileges, seccomp mode. */
async function processStatus(host: DockerHost, id: string): Promise<{ has: (cap: (typeof LINUX_CAPABILITIES)[number]) => boolean; noNewPrivs: string; seccomp: string }> {
  const r = await host.docker(['exec', id, 'cat', '/proc/1/status']);
  assert.equal(r.code, 0, r.stderr);
  const field = (name: string): string => {
    const v = new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(r.stdout)?.[1];
    assert.ok(v !== undefined, `${name} in ${r.stdout}`);
    return v;
  };
  const eff = BigInt(`0x${field('CapEff')}`);
  return { has: (cap) => ((eff >> BigInt(LINUX_CAPABILITIES.indexOf(cap))) & 1n) === 1n, noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp') };
}

function byName(s: SetView, name: string) {
  const c = s.containers.find((x) => x.name === name);
  assert.ok(c?.containerId, `container ${name} has an id in ${JSON.stringify(s.containers)}`);
  return c as typeof c & { containerId: string };
}

describe('sets on a real Docker engine', () => {
  let host: DockerHost;
  let wharf: Platform;

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    host = wharf.host('h1');
  });

  after(() => wharf?.stop());

  it('runs the seed example set from `wharf apply -f` and lists it as JSON', async () => {
    const r = await wharf.cli(['apply', '-f', join(ROOT, 'docs/examples/seed-set.json'), '--wait', '--timeout', '60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /com\.sankuai\.inf\.hulk\.test\/1 created/);
    const list = await wharf.cli(['get', 'sets', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const sets = JSON.parse(list.stdout) as SetView[];
    const seed = sets.find((s) => s.appkey === SEED.appkey && s.id === String(SEED.id));
    assert.ok(seed, list.stdout);
    assert.equal(seed.status, 'running');
    assert.deepEqual(seed.containers.map((c) => [c.name, c.role, c.state]), [['infra', 'infra', 'running'], ['test', 'business', 'running']]);
    for (const c of seed.containers) assert.match(c.containerId ?? '', /^[0-9a-f]{64}$/);
    // The volume is shared: the business container wrote into it, the infra container sees it.
    const infra = byName(seed, 'infra');
    const cat = await host.docker(['exec', infra.containerId, 'cat', '/volume/hello']);
    assert.equal(cat.stdout.trim(), 'hello from the set');
  });

  it('business containers share the infra container\'s network and IPC namespaces', async () => {
    const s = await wharf.client.getSet(SEED.appkey, SEED.id);
    const infra = await host.inspect(byName(s, 'infra').containerId);
    const test = await host.inspect(byName(s, 'test').containerId);
    // Privileged, or — where dockerd lacks a capability (as on some sandboxes) — every capability it has.
    assert.ok(infra.HostConfig.Privileged === true || (infra.HostConfig.CapAdd ?? []).includes('ALL'), JSON.stringify(infra.HostConfig.CapAdd));
    assert.equal(infra.HostConfig.IpcMode, 'shareable');
    assert.equal(test.HostConfig.NetworkMode, `container:${infra.Id}`);
    assert.equal(test.HostConfig.IpcMode, `container:${infra.Id}`);
    const netns = async (id: string) => (await host.docker(['exec', id, 'readlink', '/proc/self/ns/net'])).stdout.trim();
    assert.equal(await netns(infra.Id), await netns(test.Id));
    assert.equal(infra.Config.Labels['wharf.role'], 'infra');
    assert.equal(test.Config.Labels['wharf.set'], `default/${SEED.appkey}/${SEED.id}`);
    assert.equal(test.Config.Labels['wharf.app'], SEED.appkey);
    assert.equal(test.Config.Labels['wharf.index'], '0');
    assert.equal(test.Config.Labels['wharf.generation'], '1');
  });

  it('business containers run hardened; a spec adds a capability back only where its tenant allows it', async () => {
    const s = await wharf.client.getSet(SEED.appkey, SEED.id);
    const id = byName(s, 'test').containerId;
    const info = await host.inspect(id);
    assert.equal(info.HostConfig.Privileged, false);
    assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges:true']);
    assert.deepEqual(info.HostConfig.CapDrop, ['AUDIT_WRITE', 'MKNOD', 'NET_RAW', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT']);
    const hardened = await processStatus(host, id);
    assert.equal(hardened.noNewPrivs, '1');
    assert.ok(!hardened.has('NET_RAW') && !hardened.has('MKNOD'), 'NET_RAW and MKNOD are dropped');
    assert.ok(hardened.has('CHOWN') && hardened.has('SETUID'), 'what package managers need stays');
    const daemon = await host.docker(['info', '--format', '{{json .SecurityOptions}}']);
    if (daemon.stdout.includes('seccomp')) assert.equal(hardened.seccomp, '2', "Docker's default seccomp profile filters the container");
    const mknod = await host.docker(['exec', id, 'mknod', '/tmp/null', 'c', '1', '3']);
    assert.notEqual(mknod.code, 0);
    assert.match(mknod.stderr, /Operation not permitted/);

    const spec = { id: 'raw', appkey: 'e2e.caps', containers: [container(0, 'pinger', { security: { capAdd: ['NET_RAW'] } })] };
    await assert.rejects(wharf.client.applySet(spec), (err: unknown) => {
      assert.ok(err instanceof WharfError && err.status === 403, String(err));
      assert.match(err.message, /^tenant "default" may not add capability NET_RAW \(containers\[0\]\.options\.security\.capAdd\)/);
      return true;
    });
    await wharf.client.request('PUT', '/v1/tenants/default', { allowedCapabilities: ['NET_RAW'] });
    try {
      await wharf.client.applySet(spec);
      const raw = await wharf.waitRunning('e2e.caps', 'raw');
      const pinger = await processStatus(host, byName(raw, 'pinger').containerId);
      assert.ok(pinger.has('NET_RAW'), 'NET_RAW added back');
      assert.ok(!pinger.has('MKNOD'));
      assert.equal(pinger.noNewPrivs, '1');
    } finally {
      await wharf.client.request('PUT', '/v1/tenants/default', { allowedCapabilities: [] });
      const d = await wharf.cli(['delete', 'set', 'e2e.caps/raw', '--wait']);
      assert.ok(d.code === 0 || /not found/i.test(d.stderr), d.stderr);
    }
  });

  it('applies CPU and memory limits as percentages of the set', async () => {
    const spec = {
      id: 'limits', appkey: 'e2e.limits',
      resources: { cpu: 2, memory: '512Mi' },
      containers: [container(0, 'a', { cpu: 80, mem: 20 }), container(1, 'b', { cpu: 10, mem: 50 })],
    };
    await wharf.client.applySet(spec);
    const s = await wharf.waitRunning('e2e.limits', 'limits');
    const a = await host.inspect(byName(s, 'a').containerId);
    const b = await host.inspect(byName(s, 'b').containerId);
    assert.equal(a.HostConfig.NanoCpus, 1_600_000_000);
    assert.equal(a.HostConfig.Memory, Math.floor((512 * 1024 * 1024 * 20) / 100));
    assert.equal(b.HostConfig.NanoCpus, 200_000_000);
    assert.equal(b.HostConfig.Memory, 256 * 1024 * 1024);
  });

  it('starts containers strictly in index order and stops them in reverse', async () => {
    // Listed out of order on purpose: index decides, not position.
    const spec = { id: 1, appkey: 'e2e.order', containers: [container(2, 'third'), container(0, 'first'), container(1, 'second')] };
    await wharf.client.applySet(spec);
    const s = await wharf.waitRunning('e2e.order', 1);
    const names = ['infra', 'first', 'second', 'third'];
    const started = await Promise.all(names.map(async (n) => Date.parse((await host.inspect(byName(s, n).containerId)).State.StartedAt)));
    for (let i = 1; i < started.length; i++) assert.ok((started[i - 1] as number) <= (started[i] as number), `${names[i - 1]} started before ${names[i]}: ${started}`);

    const stop = await wharf.cli(['stop', 'set', 'e2e.order/1', '--wait']);
    assert.equal(stop.code, 0, stop.stderr);
    const stopped = await wharf.client.getSet('e2e.order', 1);
    assert.equal(stopped.status, 'stopped');
    const finished = await Promise.all(names.map(async (n) => Date.parse((await host.inspect(byName(stopped, n).containerId)).State.FinishedAt)));
    for (let i = 1; i < finished.length; i++) assert.ok((finished[i] as number) <= (finished[i - 1] as number), `${names[i]} stopped before ${names[i - 1]}: ${finished}`);

    const start = await wharf.cli(['start', 'set', 'e2e.order/1', '--wait']);
    assert.equal(start.code, 0, start.stderr);
    assert.equal((await wharf.client.getSet('e2e.order', 1)).status, 'running');
  });

  it('restarting the agent re-adopts the containers and recreates none', async () => {
    const before = await host.containerIds();
    const s1 = await wharf.waitRunning(SEED.appkey, SEED.id);
    const running = await runningContainers([host]);
    await wharf.stopAgent('h1', 'SIGKILL');
    await wharf.startAgent('h1');
    // The new agent registers (a second "registered" line in its log), then reconciles what it finds.
    await waitFor('agent back', async () => wharf.logs('agent-h1').split('"msg":"registered"').length - 1 >= 2, 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    const s2 = await wharf.waitRunning(SEED.appkey, SEED.id);
    assert.deepEqual(await host.containerIds(), before);
    assert.deepEqual(s2.containers.map((c) => c.containerId), s1.containers.map((c) => c.containerId));
    assertUntouched(running, await runningContainers([host]));
  });

  it('restarting dockerd (live-restore) restarts no container', async () => {
    const s1 = await wharf.waitRunning(SEED.appkey, SEED.id);
    const pids = await Promise.all(s1.containers.map(async (c) => (await host.inspect(c.containerId as string)).State.Pid));
    await host.restartDockerd();
    const s2 = await wharf.waitRunning(SEED.appkey, SEED.id);
    const after = await Promise.all(s2.containers.map(async (c) => (await host.inspect(c.containerId as string)).State));
    assert.deepEqual(after.map((st) => st.Pid), pids);
    assert.ok(after.every((st) => st.Running));
    assert.deepEqual(s2.containers.map((c) => c.restartCount), s1.containers.map((c) => c.restartCount));
  });

  it('rejects bad specs with 400 naming the field', async () => {
    const bad = { id: 2, appkey: 'e2e.bad', containers: [container(0, 'a', { cpu: 150 })] };
    await assert.rejects(wharf.client.applySet(bad), (err: unknown) => {
      assert.ok(err instanceof WharfError);
      assert.equal(err.code, 'VALIDATION_FAILED');
      assert.equal(err.status, 400);
      assert.match(err.message, /^containers\[0\]\.options\.cpu: must be 1\.\.100/);
      return true;
    });
    const over = { id: 2, appkey: 'e2e.bad', containers: [container(0, 'a', { mem: 70 }), container(1, 'b', { mem: 40 })] };
    await assert.rejects(wharf.client.applySet(over), /mem.*sum to 110/);
    const file = join(wharf.dir, 'bad.yaml');
    writeFileSync(file, 'appkey: e2e.bad\nid: 3\ncontainers:\n  - index: 0\n    image: wharf/busybox\n    options: {name: Bad_Name}\n');
    const r = await wharf.cli(['apply', '-f', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /containers\[0\]\.options\.name/);
    // A raw malformed body is a 400 too, never a 500.
    const res = await fetch(`${wharf.url}/v1/sets/e2e.bad/4`, { method: 'PUT', headers: { authorization: `Bearer ${wharf.adminToken}`, 'content-type': 'application/json' }, body: '{"id": 4,' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    await assert.rejects(wharf.client.getSet('e2e.bad', 2), (e: unknown) => e instanceof WharfError && e.code === 'SET_NOT_FOUND');
  });

  it('an unknown image gives a failed set with an event saying so', async () => {
    await wharf.client.applySet({ id: 1, appkey: 'e2e.noimage', containers: [{ index: 0, image: 'wharf/does-not-exist:1', options: { name: 'x' } }] });
    const s = await wharf.waitForSet('e2e.noimage', 1, 'failed', (v) => v.status === 'failed', 90_000);
    assert.match(s.message ?? '', /wharf\/does-not-exist:1/);
    const events = await wharf.client.setEvents('e2e.noimage', 1);
    // The pull goes to the image's registry (Docker Hub, unreachable here): the event carries Docker's reason.
    assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'ImagePullFailed' && /cannot pull image wharf\/does-not-exist:1: \S/.test(e.message)), JSON.stringify(events));
    const d = await wharf.cli(['describe', 'set', 'e2e.noimage/1']);
    assert.match(d.stdout, /cannot pull image wharf\/does-not-exist:1/);
  });

  it('streams a container\'s logs through the agent', async () => {
    const spec = { id: 1, appkey: 'e2e.logs', containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'talker', command: { cmd: '/bin/sh', args: ['-c', "trap 'exit 0' TERM; for i in 1 2 3; do echo line-$i; done; echo oops >&2; while :; do sleep 1; done"] } } }] };
    await wharf.client.applySet(spec);
    await wharf.waitRunning('e2e.logs', 1);
    const r = await waitFor('log lines', async () => {
      const out = await wharf.cli(['logs', 'e2e.logs/1', '--tail', '10']);
      return out.code === 0 && out.stdout.includes('oops') ? out : undefined;
    }, 15_000);
    // stdout keeps its order; stderr ("oops") is a separate stream that Docker may interleave anywhere.
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('line-')), ['line-1', 'line-2', 'line-3']);
    const missing = await wharf.cli(['logs', 'e2e.logs/1', '-c', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no container "nope"/);
  });

  it('restart restarts every container in order; delete removes them and recycles the volume', async () => {
    const s1 = await wharf.waitRunning('e2e.logs', 1);
    const t0 = Date.now();
    const r = await wharf.cli(['restart', 'set', 'e2e.logs/1', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const s2 = await wharf.waitRunning('e2e.logs', 1);
    assert.deepEqual(s2.containers.map((c) => c.containerId), s1.containers.map((c) => c.containerId));
    for (const c of s2.containers) assert.ok(Date.parse(c.startedAt ?? '') >= t0 - 1000, `${c.name} restarted`);

    const ids = s2.containers.map((c) => c.containerId as string);
    const d = await wharf.cli(['delete', 'set', 'e2e.logs/1', '--wait']);
    assert.equal(d.code, 0, d.stderr);
    await assert.rejects(wharf.client.getSet('e2e.logs', 1), (e: unknown) => e instanceof WharfError && e.code === 'SET_NOT_FOUND');
    const left = await host.containerIds();
    for (const id of ids) assert.ok(!left.includes(id), `container ${id} removed`);
    const volume = join(wharf.agentDataDir('h1'), 'volumes', 'default', 'e2e.logs', '1');
    assert.ok(!existsSync(volume), 'volume directory moved away');
    assert.ok(readdirSync(join(wharf.agentDataDir('h1'), 'recycle')).some((n) => n.includes('e2e.logs')), 'volume in the recycle bin');
  });

  it('killing the server with SIGKILL loses no acknowledged write', async () => {
    const acked: number[] = [];
    const burst = (async () => {
      for (let i = 0; i < 200; i++) {
        try {
          await wharf.client.applySet({ id: i, appkey: 'e2e.durable', containers: [container(0, 'a')] });
          acked.push(i);
        } catch {
          return;
        }
      }
    })();
    await waitFor('some acknowledged writes', async () => acked.length >= 5, 20_000, 5);
    await wharf.stopServer('SIGKILL');
    await burst;
    await wharf.startServer();
    const ids = new Set((await wharf.client.listSets({ appkey: 'e2e.durable' })).map((s) => Number(s.id)));
    for (const i of acked) assert.ok(ids.has(i), `acknowledged set ${i} survived`);
    assert.ok(acked.length >= 5);
    // Clean up: the sets were placed and are running on h1.
    for (const i of ids) await wharf.client.deleteSet('e2e.durable', i);
    await waitFor('durable sets gone', async () => (await wharf.client.listSets({ appkey: 'e2e.durable' })).length === 0, 120_000, 500);
  });
});
