/**
 * Against the real dockerd (opt-in: WHARF_DOCKER_TESTS=1, needs wharf/busybox:latest).
 * Everything it creates carries tenant "wharftest" and is removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetEvent, SetObject, SetSpec, StatusReport } from '@wharf/types';
import { startAgent, type RunningAgent } from '../agent.js';
import { ExitTracker } from '../exits.js';
import { resolvePrivilege } from '../privilege.js';
import { restartDelay } from '../health/restart-policy.js';
import { SetReconciler, type ReconcileResult, type ReportedStatus } from '../reconciler.js';
import { DockerodeEngine } from './dockerode-engine.js';
import { setObject as fixture } from '../testing/fixtures.js';
import { DirDriver, testVolumes } from '../testing/dir-volumes.js';
import { FakeServer } from '../testing/fake-server.js';
import { tenantEngine } from '../testing/tenant-engine.js';
import type { VolumeManager } from '../volumes/manager.js';

const enabled = process.env.WHARF_DOCKER_TESTS === '1';
const IMAGE = 'wharf/busybox:latest';
const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
const engine = new DockerodeEngine(socket);
let dataDir = '';
let reconciler: SetReconciler;
let volumes: VolumeManager;
const infraPrivilege = resolvePrivilege('auto');
const events: SetEvent[] = [];
const hooks = { onEvent: (e: SetEvent) => events.push(e) };

/** Business commands that stop at once on SIGTERM (a sleeping PID 1 would take the 10 s stop timeout). */
const serve = (first: string): string[] => ['-c', `${first}; trap 'exit 0' TERM; sleep 100000 & wait`];

const setObject = (over: Partial<SetObject> = {}, webArgs = serve('echo web up; echo oops >&2')): SetObject =>
  fixture({
    appkey: 'demo',
    id: 1,
    resources: { cpu: 1, memory: '256Mi' },
    containers: [
      { index: 0, image: IMAGE, options: { name: 'web', cpu: 60, mem: 50, volumes: [{ path: '/data' }], command: { cmd: 'sh', args: webArgs }, env: { ROLE: 'web' } } },
      { index: 1, image: IMAGE, options: { name: 'side', cpu: 40, mem: 50, command: { cmd: 'sh', args: serve('true') } } },
    ],
  }, { tenant: 'wharftest', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), ...over });

async function cleanup(): Promise<void> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: ['wharf.tenant=wharftest'] } });
  await Promise.all(list.map((c) => engine.docker.getContainer(c.Id).remove({ force: true })));
}

async function exec(id: string, cmd: string[]): Promise<string> {
  const e = await engine.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.docker.modem.demuxStream(stream, out, out);
  await new Promise((r) => stream.on('end', r));
  return Buffer.concat(chunks).toString().trim();
}

const statusOf = (r: ReconcileResult): ReportedStatus => {
  assert.ok(r.report && 'status' in r.report);
  return r.report.status;
};
const ids = (s: ReportedStatus): (string | undefined)[] => s.containers.map((c) => c.containerId);

before(async () => {
  if (!enabled) return;
  await cleanup();
  dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-docker-'));
  // Plain directories: the real volume drivers have their own test (volumes/real-volumes.test.ts).
  ({ volumes } = await testVolumes(dataDir));
  reconciler = new SetReconciler({ engine, host: 'local', dataDir, infraImage: IMAGE, infraPrivilege, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes });
});

after(async () => {
  if (!enabled) return;
  await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

test('real docker: a 2-container set comes up in order, shares net/IPC/volume, has its limits, and is stable', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const t0 = performance.now();
  const r = await reconciler.reconcile(setObject(), hooks);
  const ms = performance.now() - t0;
  const st = statusOf(r);
  assert.equal(st.phase, 'running', st.message);
  console.log(`# fresh set (infra + 2) running in ${ms.toFixed(0)} ms`);
  const [infra, web, side] = await Promise.all(st.containers.map((c) => engine.docker.getContainer(c.containerId!).inspect()));
  assert.ok(infra && web && side);
  assert.equal(infra.Name, '/wharftest_demo_1_infra');
  assert.equal(infra.HostConfig.Privileged, infraPrivilege.privileged);
  if (!infraPrivilege.privileged) console.log(`# this host cannot run privileged containers; infra has CapAdd=ALL CapDrop=${infraPrivilege.capDrop?.join(',')}`);
  assert.equal(infra.HostConfig.IpcMode, 'shareable');
  assert.equal(infra.HostConfig.RestartPolicy?.Name, 'unless-stopped');
  for (const b of [web, side]) {
    assert.equal(b.HostConfig.NetworkMode, `container:${infra.Id}`);
    assert.equal(b.HostConfig.IpcMode, `container:${infra.Id}`);
    assert.equal(b.HostConfig.RestartPolicy?.Name, 'no', 'business containers are restarted by the agent');
    assert.equal(b.HostConfig.MemorySwap, b.HostConfig.Memory);
  }
  assert.equal(web.HostConfig.NanoCpus, 0.6e9);
  assert.equal(side.HostConfig.NanoCpus, 0.4e9);
  assert.equal(web.HostConfig.Memory, 128 * 1024 ** 2);
  assert.equal(web.Config.Labels['wharf.set'], 'wharftest/demo/1');
  assert.equal(web.Config.Labels['wharf.index'], '0');
  assert.equal(infra.Config.Labels['wharf.index'], '-1');
  assert.ok(infra.State.StartedAt < web.State.StartedAt && web.State.StartedAt < side.State.StartedAt, 'start order');

  const ns = async (id: string): Promise<string> => exec(id, ['sh', '-c', 'readlink /proc/self/ns/net /proc/self/ns/ipc']);
  const [nsInfra, nsWeb, nsSide] = await Promise.all([ns(infra.Id), ns(web.Id), ns(side.Id)]);
  assert.equal(nsWeb, nsInfra);
  assert.equal(nsSide, nsInfra);
  await exec(web.Id, ['sh', '-c', 'echo shared > /data/hello']);
  assert.equal(await exec(infra.Id, ['cat', '/volume/hello']), 'shared');
  assert.equal(await readFile(join(st.volumePath!, 'hello'), 'utf8'), 'shared\n');

  const again = await reconciler.reconcile(setObject({ generation: 2 }), hooks);
  assert.deepEqual(again.actions, []);
  assert.deepEqual(ids(statusOf(again)), ids(st));

  // Reconciling from a new reconciler (an agent restart) adopts everything by labels.
  const fresh = new SetReconciler({ engine, host: 'local', dataDir, infraImage: IMAGE, infraPrivilege, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes });
  const adopted = await fresh.reconcile(setObject(), hooks);
  assert.deepEqual(adopted.actions, []);
  assert.deepEqual(ids(statusOf(adopted)), ids(st));
});

test('real docker: logs are demultiplexed to plain text', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const stream = await engine.logs('wharftest_demo_1_web', { follow: false, timestamps: false });
  assert.ok(stream);
  let text = '';
  for await (const c of stream) text += String(c);
  // stdout and stderr are copied separately by Docker: their relative order is not kept.
  assert.deepEqual(text.split('\n').sort(), ['', 'oops', 'web up']);
  assert.equal(await engine.logs('no-such-container-here', { follow: false, timestamps: false }), undefined);
});

test('real docker: a changed business spec recreates only that container', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const before = statusOf(await reconciler.reconcile(setObject(), hooks));
  const r = await reconciler.reconcile(setObject({ generation: 3 }, serve('echo v2')), hooks);
  assert.deepEqual(r.actions, ['ensureImage wharf/busybox:latest', 'stop web', 'remove web', 'create web', 'start web']);
  const after = statusOf(r);
  assert.equal(after.phase, 'running');
  assert.equal(after.containers[0]?.containerId, before.containers[0]?.containerId, 'infra kept');
  assert.notEqual(after.containers[1]?.containerId, before.containers[1]?.containerId, 'web recreated');
  assert.equal(after.containers[2]?.containerId, before.containers[2]?.containerId, 'side kept');
});

test('real docker: an infra container restarted behind our back gets its business containers restarted into its namespace', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const spec = setObject({ generation: 3 }, serve('echo v2'));
  const st = statusOf(await reconciler.reconcile(spec, hooks));
  await engine.docker.getContainer(st.containers[0]!.containerId!).restart({ t: 1 });
  const r = await reconciler.reconcile(spec, hooks);
  assert.deepEqual(r.actions, ['stop side', 'stop web', 'restart web', 'restart side']);
  const ip = await exec(st.containers[1]!.containerId!, ['sh', '-c', 'ip -4 addr show eth0 | grep -c inet']);
  assert.equal(ip, '1', 'web has the network again');
});

test('real docker: restartRequestedAt restarts everything once; stop; delete recycles the volume', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const spec = (over: Partial<SetObject>) => setObject({ generation: 3, ...over }, serve('echo v2'));
  const now = new Date().toISOString();
  const r = await reconciler.reconcile(spec({ restartRequestedAt: now }), hooks);
  assert.deepEqual(r.actions, ['stop side', 'stop web', 'stop infra', 'restart infra', 'restart web', 'restart side']);
  assert.equal(statusOf(r).phase, 'running');
  assert.deepEqual((await reconciler.reconcile(spec({ restartRequestedAt: now }), hooks)).actions, []);

  const t0 = performance.now();
  const stopped = statusOf(await reconciler.reconcile(spec({ desired: 'stopped' }), hooks));
  console.log(`# set stopped in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(stopped.phase, 'stopped');
  assert.ok(stopped.containers.every((c) => c.state === 'exited'));

  const deleted = await reconciler.reconcile(spec({ deleting: true }), hooks);
  assert.deepEqual(deleted.report, { deleted: true });
  assert.equal((await engine.docker.listContainers({ all: true, filters: { label: ['wharf.set=wharftest/demo/1'] } })).length, 0);
  const bin = (await readdir(join(dataDir, 'recycle'))).filter((n) => !n.endsWith('.json'));
  assert.equal(bin.length, 1);
  assert.equal(await readFile(join(dataDir, 'recycle', bin[0]!, 'hello'), 'utf8'), 'shared\n');
});

test('real docker: a missing image fails fast with ImagePullFailed', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const set = setObject({ id: '2' });
  set.spec = { ...set.spec, id: 2 };
  set.spec.containers[1]!.image = 'wharftest/does-not-exist:1';
  const t0 = performance.now();
  const r = await reconciler.reconcile(set, hooks);
  const st = statusOf(r);
  assert.equal(st.phase, 'failed');
  assert.match(st.message ?? '', /^cannot pull image wharftest\/does-not-exist:1: .+$/);
  console.log(`# pull failure after ${(performance.now() - t0).toFixed(0)} ms: ${st.message}`);
  assert.equal(events.at(-1)?.reason, 'ImagePullFailed');
  assert.equal((await engine.docker.listContainers({ all: true, filters: { label: ['wharf.set=wharftest/demo/2'] } })).length, 0);
});

test('real docker: a create error (a mount Docker refuses) is a failed set with CreateFailed', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const set = setObject({ id: '3' });
  set.spec = { ...set.spec, id: 3 };
  set.spec.containers[0]!.options.volumes = [{ path: '/data:/etc:bogus' }];
  const st = statusOf(await reconciler.reconcile(set, hooks));
  assert.equal(st.phase, 'failed');
  assert.match(st.message ?? '', /^cannot create container web: /);
  console.log(`# ${st.message}`);
  assert.equal(events.at(-1)?.reason, 'CreateFailed');
  assert.deepEqual(st.containers.map((c) => c.state), ['running', 'missing', 'missing']);
  const deleted = await reconciler.reconcile({ ...set, deleting: true }, hooks);
  assert.deepEqual(deleted.report, { deleted: true });
});

test('real docker: a resize applies in place (same container, same process); a refusal is a warning; drift by hand is put back', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const sized = (cpu: number, memory: string): SetObject => {
    const set = setObject({ id: '4' });
    set.spec = { ...set.spec, id: 4, resources: { cpu, memory } };
    return set;
  };
  const st = statusOf(await reconciler.reconcile(sized(1, '256Mi'), hooks));
  assert.equal(st.phase, 'running', st.message);
  const webId = st.containers[1]!.containerId!;
  const web = engine.docker.getContainer(webId);
  const before = await web.inspect();
  assert.deepEqual([before.HostConfig.NanoCpus, before.HostConfig.Memory], [0.6e9, 128 * 1024 ** 2]);

  const r = await reconciler.reconcile(sized(2, '512Mi'), hooks);
  assert.equal(r.ok, true);
  assert.deepEqual(r.actions, ['update web', 'update side']);
  assert.deepEqual(ids(statusOf(r)), ids(st), 'same containers');
  const after = await web.inspect();
  assert.equal(after.State.Pid, before.State.Pid, 'the process kept running');
  assert.equal(after.State.StartedAt, before.State.StartedAt);
  assert.deepEqual([after.HostConfig.NanoCpus, after.HostConfig.Memory, after.HostConfig.MemorySwap], [1.2e9, 256 * 1024 ** 2, 256 * 1024 ** 2]);
  assert.equal(await exec(webId, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']), String(256 * 1024 ** 2), 'the cgroup has it');
  assert.equal(events.filter((e) => e.reason === 'Resized').at(-1)?.message, 'Resized container side: cpu 0.4 → 0.8 cores, memory 128Mi → 256Mi');

  // Changed by hand: the next reconcile puts the spec back.
  await web.update({ NanoCpus: 0.3e9, Memory: 300 * 1024 ** 2, MemorySwap: 300 * 1024 ** 2 });
  const back = await reconciler.reconcile(sized(2, '512Mi'), hooks);
  assert.deepEqual(back.actions, ['update web']);
  const restored = await web.inspect();
  assert.deepEqual([restored.HostConfig.NanoCpus, restored.HostConfig.Memory], [1.2e9, 256 * 1024 ** 2]);
  assert.equal(restored.State.Pid, before.State.Pid);

  // Below what it uses (30 MB held by a shell, no swap): Docker refuses, the limit stays, the set keeps running.
  // Engine.exec gives up waiting after 2 s; the shell goes on holding its memory.
  const hog = await engine.exec(webId, ['sh', '-c', 'x=$(head -c 30000000 /dev/zero | tr "\\0" a); touch /tmp/held; sleep 60; echo ${#x}'], 2_000);
  assert.deepEqual(hog, { exitCode: -1, output: '', timedOut: true });
  for (let i = 0; i < 100 && (await exec(webId, ['sh', '-c', 'test -f /tmp/held && echo yes'])) !== 'yes'; i++) await new Promise((res) => setTimeout(res, 100));
  const refused = await reconciler.reconcile(sized(2, '20Mi'), hooks);
  assert.equal(refused.ok, false);
  const warning = events.filter((e) => e.reason === 'ResizeFailed').at(-1);
  console.log(`# ${warning?.message}`);
  assert.match(warning?.message ?? '', /^cannot resize container web \(memory 256Mi → 10Mi\): .+/);
  assert.equal(statusOf(refused).phase, 'running');
  assert.equal((await web.inspect()).HostConfig.Memory, 256 * 1024 ** 2);
  assert.equal((await engine.docker.getContainer(st.containers[2]!.containerId!).inspect()).HostConfig.Memory, 10 * 1024 ** 2, 'side was resized');
  await reconciler.reconcile({ ...sized(2, '20Mi'), deleting: true }, hooks);
});

test('real docker: exec gives exit code and output, gives up after its timeout, and says when a command is missing', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, async () => {
  const c = await engine.docker.createContainer({ Image: IMAGE, Cmd: serve('true'), Entrypoint: ['sh'], Labels: { 'wharf.tenant': 'wharftest' } });
  await c.start();
  try {
    const r = await engine.exec(c.id, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 5_000);
    assert.equal(r.exitCode, 3);
    // stdout and stderr come through separate copies: their order is not kept.
    assert.deepEqual(r.output.split('\n').sort(), ['', 'err', 'out']);
    const t0 = performance.now();
    assert.deepEqual(await engine.exec(c.id, ['sleep', '5'], 500), { exitCode: -1, output: '', timedOut: true });
    // Given up on after its 500 ms, not the 5 s the command runs (room for a loaded host).
    assert.ok(performance.now() - t0 < 4_000, `exec returned after ${performance.now() - t0} ms`);
    const missing = await engine.exec(c.id, ['no-such-command'], 5_000);
    console.log(`# a missing command: exit code ${missing.exitCode}, ${missing.output.trim()}`);
    assert.notEqual(missing.exitCode, 0);
  } finally {
    await c.remove({ force: true });
  }
});

describe('real docker: health (the whole agent against a fake server)', { skip: !enabled && 'set WHARF_DOCKER_TESTS=1' }, () => {
  let server: FakeServer;
  let agent: RunningAgent;
  let agentDir = '';
  const set = (id: number, name: string, args: string[], options: Partial<SetSpec['containers'][number]['options']>): SetObject => {
    const s = fixture({ appkey: 'health', id, resources: { cpu: 1, memory: '128Mi' }, containers: [{ index: 0, image: IMAGE, options: { name, command: { cmd: 'sh', args }, ...options } }] }, { tenant: 'wharftest' });
    return s;
  };
  const of = (r: StatusReport, id: string) => r.sets.find((s) => s.id === id);
  const container = (r: StatusReport, id: string) => of(r, id)?.status?.containers.find((c) => c.role === 'business');

  before(async () => {
    if (!enabled) return;
    agentDir = await mkdtemp(join(tmpdir(), 'wharf-agent-health-'));
    server = await new FakeServer().start();
    server.sets = [
      set(10, 'job', ['-c', 'exit 1'], { restartPolicy: 'never' }),
      set(11, 'crash', ['-c', 'exit 1'], { restartPolicy: 'always' }),
      set(12, 'web', ['-c', "mkdir -p /www && echo ok > /www/index.html && sleep 2 && exec httpd -f -p 8080 -h /www"], {
        readiness: { http: { port: 8080, path: '/' }, periodSeconds: 1 },
        liveness: { tcp: { port: 8080 }, initialDelaySeconds: 4, periodSeconds: 1, failureThreshold: 2 },
      }),
      set(13, 'app', serve('touch /tmp/ok'), { liveness: { exec: { command: ['test', '-f', '/tmp/ok'] }, periodSeconds: 1, failureThreshold: 2 } }),
    ];
    agent = await startAgent({ server: server.url, name: 'local', dataDir: agentDir, listen: '127.0.0.1:0', engine: tenantEngine(engine, 'wharftest'), logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), heartbeatIntervalSeconds: 1, volumes: new DirDriver(agentDir) });
  });

  after(async () => {
    if (!enabled) return;
    await agent.stop();
    await server.close();
    await cleanup();
    await rm(agentDir, { recursive: true, force: true });
  });

  test('restart policy never: a container that exits 1 stays exited, the set degraded', async () => {
    const r = await server.waitForReport((x) => container(x, '10')?.state === 'exited' && of(x, '10')?.status?.phase === 'degraded', 10_000);
    assert.equal(of(r, '10')?.status?.message, 'job failed (exit code 1; restart policy never)');
    const id = container(r, '10')!.containerId!;
    const first = await engine.docker.getContainer(id).inspect();
    await new Promise((res) => setTimeout(res, 3_000));
    const later = await engine.docker.getContainer(id).inspect();
    assert.equal(later.State.Status, 'exited');
    assert.equal(later.State.StartedAt, first.State.StartedAt, 'never started again');
    assert.equal(later.HostConfig.RestartPolicy?.Name, 'no');
  });

  test('restart policy always: the agent restarts a crashing container with growing delays; restartCount grows; one BackOff event', async () => {
    const starts = new Set<string>();
    const r = await server.waitForReport((x) => {
      const c = container(x, '11');
      if (c?.startedAt) starts.add(c.startedAt);
      return (c?.restartCount ?? 0) >= 3;
    }, 30_000);
    const c = container(r, '11')!;
    assert.equal(c.lastTermination?.reason, 'Error');
    assert.equal(c.lastTermination?.exitCode, 1);
    const info = await engine.docker.getContainer(c.containerId!).inspect();
    const times = [...starts].map((t) => Date.parse(t)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    console.log(`# restarts of a crashing container after ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(', ')}; Docker's own RestartCount ${info.RestartCount}`);
    assert.ok(gaps.length >= 2, `saw ${starts.size} starts`);
    // Start-to-start gaps are the back-off plus the container's run and the exit's detection,
    // which vary with the machine's load; the back-off alone is a floor that doubles: 1 s, 2 s, 4 s.
    for (let i = 0; i < gaps.length; i++) assert.ok(gaps[i]! >= restartDelay(i + 1) - 100, `restart ${i + 1} waits at least ${restartDelay(i + 1)} ms: ${gaps.join(', ')}`);
    const backOffs = server.reports.flatMap((x) => of(x, '11')?.events ?? []).filter((e) => e.reason === 'BackOff');
    assert.equal(new Set(backOffs.map((e) => e.time)).size, 1, 'one BackOff event for the streak');
  });

  test('an http readiness probe flips ready when httpd answers; a tcp liveness probe keeps it healthy', async () => {
    const notReady = await server.waitForReport((x) => container(x, '12')?.state === 'running', 10_000);
    assert.equal(container(notReady, '12')?.ready, false);
    assert.equal(of(notReady, '12')?.status?.ready, false);
    const ready = await server.waitForReport((x) => of(x, '12')?.status?.ready === true, 10_000);
    assert.equal(container(ready, '12')?.ready, true);
    assert.ok(server.reports.indexOf(ready) > server.reports.indexOf(notReady));
    await new Promise((res) => setTimeout(res, 4_000));
    const latest = [...server.reports].reverse().find((x) => container(x, '12'));
    assert.equal(container(latest!, '12')?.healthy, true);
    assert.equal(container(latest!, '12')?.restartCount, 0, 'the tcp probe passes');
  });

  test('a failing liveness exec probe restarts the same container: restartCount 1, lastTermination Unhealthy', async () => {
    const running = await server.waitForReport((x) => container(x, '13')?.state === 'running' && container(x, '13')?.healthy === true, 10_000);
    const id = container(running, '13')!.containerId!;
    await exec(id, ['rm', '/tmp/ok']);
    const restarted = await server.waitForReport((x) => container(x, '13')?.restartCount === 1 && container(x, '13')?.state === 'running', 15_000);
    const c = container(restarted, '13')!;
    assert.equal(c.containerId, id, 'not recreated');
    assert.equal(c.lastTermination?.reason, 'Unhealthy');
    assert.match(c.lastTermination?.message ?? '', /^liveness probe failed 2 times: exit code 1$/);
    const events = server.reports.flatMap((x) => of(x, '13')?.events ?? []);
    assert.ok(events.some((e) => e.reason === 'Unhealthy' && e.message === 'container app: liveness probe failed 2 times: exit code 1'));
    await server.waitForReport((x) => container(x, '13')?.healthy === true && container(x, '13')?.restartCount === 1, 10_000);
  });
});
