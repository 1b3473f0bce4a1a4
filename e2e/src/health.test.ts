/**
 * Online resize and container health on a real dockerd: CPU, memory and disk of a
 * running set change in place (same container, same process) and stay through a
 * dockerd restart, an agent restart and a hand-made drift; a resize the host cannot
 * hold is refused with the reason; liveness and readiness probes restart and mark
 * containers; restart policies with the agent's back-off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SetView } from '@wharf/types';
import type { DockerHost } from './harness/docker-host.js';
import { Platform } from './harness/platform.js';
import { waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';

const MiB = 1024 ** 2;

function sh(name: string, index: number, script: string, options: Record<string, unknown> = {}) {
  return { index, image: 'wharf/busybox:latest', options: { name, command: { cmd: '/bin/sh', args: ['-c', script] }, ...options } };
}

function dockerName(s: { appkey: string; id: string | number }, name: string): string {
  return `default_${s.appkey}_${s.id}_${name}`;
}

function status(s: SetView, name: string) {
  const c = s.containers.find((x) => x.name === name);
  assert.ok(c, `container ${name} in ${JSON.stringify(s.containers)}`);
  return c;
}

describe('online resize and health on a real Docker engine', () => {
  let host: DockerHost;
  let wharf: Platform;

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    host = wharf.host('h1');
  });

  after(() => wharf?.stop());

  /** NanoCpus, Memory, ID and main PID of a container, from Docker itself. */
  async function limits(s: { appkey: string; id: string | number }, name: string) {
    const info = await host.inspect(dockerName(s, name));
    return { nanoCpus: info.HostConfig.NanoCpus as number, memory: info.HostConfig.Memory as number, id: info.Id as string, pid: info.State.Pid as number };
  }

  it('resizes CPU, memory and disk of a running set without restarting anything', async () => {
    await wharf.client.applySet({
      appkey: 'rz', id: 1,
      resources: { cpu: 1, memory: '128Mi', disk: '1Gi' },
      containers: [sh('web', 1, LOOP, { cpu: 50, mem: 50, volumes: [{ path: '/data' }] }), sh('side', 2, LOOP)],
    });
    await wharf.waitRunning('rz', 1);
    const web0 = await limits({ appkey: 'rz', id: 1 }, 'web');
    const side0 = await limits({ appkey: 'rz', id: 1 }, 'side');
    const infra0 = await limits({ appkey: 'rz', id: 1 }, 'infra');
    assert.deepEqual([web0.nanoCpus, web0.memory], [0.5e9, 64 * MiB]);

    const r = await wharf.cli(['resize', 'rz/1', '--cpu', '2', '--memory', '256Mi', '--wait', '--timeout', '60s']);
    assert.equal(r.code, 0, r.stderr);
    const web1 = await limits({ appkey: 'rz', id: 1 }, 'web');
    const side1 = await limits({ appkey: 'rz', id: 1 }, 'side');
    assert.deepEqual([web1.nanoCpus, web1.memory], [1e9, 128 * MiB]);
    assert.deepEqual([side1.nanoCpus, side1.memory], [1e9, 128 * MiB]);
    // In place: the same containers, the same processes.
    assert.deepEqual([web1.id, web1.pid, side1.id, side1.pid], [web0.id, web0.pid, side0.id, side0.pid]);
    assert.equal((await limits({ appkey: 'rz', id: 1 }, 'infra')).id, infra0.id);

    // One container's share of the set.
    const pct = await wharf.cli(['resize', 'rz/1', '--container', 'web', '--cpu-pct', '60', '--mem-pct', '40', '--wait', '--timeout', '60s']);
    assert.equal(pct.code, 0, pct.stderr);
    const web2 = await limits({ appkey: 'rz', id: 1 }, 'web');
    assert.deepEqual([web2.nanoCpus, web2.memory, web2.pid], [1.2e9, Math.floor(256 * MiB * 0.4), web0.pid]);
    assert.equal((await limits({ appkey: 'rz', id: 1 }, 'side')).nanoCpus, 0.8e9);

    // Disk: the volume's hard limit grows online.
    const disk = await wharf.cli(['resize', 'rz/1', '--disk', '2Gi', '--wait', '--timeout', '60s']);
    assert.equal(disk.code, 0, disk.stderr);
    // The limit in force arrives with the host's next heartbeat.
    await waitFor('the volume reports its new limit', async () => (await wharf.client.getVolume('rz', 1)).quota === 2 * 1024 ** 3 || undefined, 20_000, 250);
    assert.equal((await limits({ appkey: 'rz', id: 1 }, 'web')).pid, web0.pid);
    const set = await wharf.client.getSet('rz', 1);
    assert.deepEqual(set.resources, { cpu: 2, memory: 256 * MiB, disk: 2 * 1024 ** 3 });
  });

  it('keeps the new limits through a container restart, a dockerd restart, an agent restart and a drift', async () => {
    const want = { nanoCpus: 1.2e9, memory: Math.floor(256 * MiB * 0.4) };
    const before = await limits({ appkey: 'rz', id: 1 }, 'web');
    assert.equal((await host.docker(['restart', '-t', '1', dockerName({ appkey: 'rz', id: 1 }, 'web')])).code, 0);
    await wharf.waitRunning('rz', 1);
    assert.deepEqual(await limits({ appkey: 'rz', id: 1 }, 'web').then((l) => ({ nanoCpus: l.nanoCpus, memory: l.memory })), want);

    await host.restartDockerd();
    await wharf.waitRunning('rz', 1, 60_000);
    const afterDockerd = await limits({ appkey: 'rz', id: 1 }, 'web');
    assert.equal(afterDockerd.id, before.id);
    assert.deepEqual({ nanoCpus: afterDockerd.nanoCpus, memory: afterDockerd.memory }, want);

    // Someone changes the limits by hand while the agent is away: the agent puts the desired ones back.
    await wharf.stopAgent('h1');
    assert.equal((await host.docker(['update', '--cpus', '0.3', dockerName({ appkey: 'rz', id: 1 }, 'web')])).code, 0);
    assert.equal((await limits({ appkey: 'rz', id: 1 }, 'web')).nanoCpus, 0.3e9);
    await wharf.startAgent('h1');
    const restored = await waitFor('the agent restores the desired CPU limit', async () => {
      const l = await limits({ appkey: 'rz', id: 1 }, 'web');
      return l.nanoCpus === want.nanoCpus ? l : undefined;
    }, 30_000, 200);
    assert.equal(restored.id, before.id);
    assert.equal(restored.memory, want.memory);
  });

  it('refuses a resize the host cannot hold, naming the resource, and changes nothing', async () => {
    const before = await wharf.client.getSet('rz', 1);
    const r = await wharf.cli(['resize', 'rz/1', '--memory', '100Ti']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /memory/);
    assert.match(r.stderr, /h1/);
    const after = await wharf.client.getSet('rz', 1);
    assert.equal(after.generation, before.generation);
    assert.deepEqual(after.resources, before.resources);
    // Percentages over 100 name the field.
    const bad = await wharf.cli(['resize', 'rz/1', '--container', 'web', '--cpu-pct', '100']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /cpu/);
  });

  it('marks a container ready only once its readiness probe passes and restarts it when its liveness probe fails', async () => {
    const script = 'touch /tmp/alive; sleep 4; mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www';
    await wharf.client.applySet({
      appkey: 'hp', id: 1,
      resources: { cpu: 0.5, memory: '64Mi' },
      containers: [sh('web', 1, script, {
        readiness: { http: { port: 8080, path: '/index.html' }, periodSeconds: 1 },
        liveness: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 },
      })],
    });
    const notReady = await wharf.waitForSet('hp', 1, 'running but not ready', (s) => s.status === 'running' && !s.ready && status(s, 'web').ready === false, 30_000);
    const id = status(notReady, 'web').containerId;
    const ready = await wharf.waitForSet('hp', 1, 'ready', (s) => s.ready && status(s, 'web').ready === true, 30_000);
    assert.equal(status(ready, 'web').containerId, id);
    assert.equal(status(ready, 'web').restartCount, 0);

    assert.equal((await host.docker(['exec', dockerName({ appkey: 'hp', id: 1 }, 'web'), 'rm', '/tmp/alive'])).code, 0);
    const restarted = await wharf.waitForSet('hp', 1, 'restarted by its liveness probe', (s) => status(s, 'web').restartCount >= 1, 30_000);
    const web = status(restarted, 'web');
    assert.equal(web.containerId, id, 'restarted, not recreated');
    assert.equal(web.lastTermination?.reason, 'Unhealthy');
    const events = await wharf.client.setEvents('hp', 1);
    assert.ok(events.some((e) => e.reason === 'Unhealthy' && /liveness/.test(e.message)), JSON.stringify(events));
    // The restart ran the command again: the file is back and the container becomes ready again.
    await wharf.waitForSet('hp', 1, 'ready again', (s) => s.ready, 30_000);
    const describe = await wharf.cli(['describe', 'set', 'hp/1']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Unhealthy/);
    assert.match(describe.stdout, /liveness exec test -f \/tmp\/alive/);
  });

  it('restarts crashed containers by their restart policy, with back-off, and leaves the others alone', async () => {
    await wharf.client.applySet({
      appkey: 'rp', id: 1,
      resources: { cpu: 0.5, memory: '96Mi' },
      containers: [
        sh('keep', 1, LOOP),
        sh('once', 2, 'sleep 1; exit 1', { restartPolicy: 'never' }),
        sh('crash', 3, 'sleep 1; exit 2', { restartPolicy: 'always' }),
        sh('done', 4, 'sleep 1; exit 0', { restartPolicy: 'on-failure' }),
      ],
    });
    const first = await wharf.waitForSet('rp', 1, 'started', (s) => s.containers.length === 5 && status(s, 'keep').state === 'running', 30_000);
    const keepId = status(first, 'keep').containerId;
    const s = await wharf.waitForSet('rp', 1, 'crash restarted twice', (x) => status(x, 'crash').restartCount >= 2, 40_000);
    const once = status(s, 'once');
    assert.equal(once.state, 'exited');
    assert.equal(once.exitCode, 1);
    assert.equal(once.restartCount, 0);
    const done = status(s, 'done');
    assert.equal(done.state, 'exited');
    assert.equal(done.restartCount, 0);
    assert.equal(status(s, 'crash').lastTermination?.reason, 'Error');
    assert.equal(status(s, 'crash').lastTermination?.exitCode, 2);
    assert.equal(status(s, 'keep').containerId, keepId);
    assert.equal(status(s, 'keep').restartCount, 0);
    assert.equal(s.ready, false);
    const events = await wharf.client.setEvents('rp', 1);
    assert.ok(events.some((e) => e.reason === 'BackOff'), JSON.stringify(events.map((e) => e.reason)));
    // Back-off grows: each start of `crash` waits longer after its exit than the one before.
    const r = await host.docker(['events', '--since', String(Math.floor(Date.parse(first.createdAt) / 1000) - 1), '--until', String(Math.ceil(Date.now() / 1000)),
      '--filter', `container=${dockerName({ appkey: 'rp', id: 1 }, 'crash')}`, '--filter', 'event=start', '--format', '{{.TimeNano}}']);
    const starts = r.stdout.split('\n').filter(Boolean).map((t) => Number(BigInt(t) / 1_000_000n));
    assert.ok(starts.length >= 3, `three starts of crash: ${r.stdout} ${r.stderr}`);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    assert.ok((gaps[1] as number) > (gaps[0] as number) + 500, `gaps between starts grow: ${gaps.join(', ')} ms`);
    await wharf.client.deleteSet('rp', 1);
  });
});
