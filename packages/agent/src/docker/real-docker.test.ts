/**
 * Against the real dockerd (opt-in: WHARF_DOCKER_TESTS=1, needs wharf/busybox:latest).
 * Everything it creates carries tenant "wharftest" and is removed at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetEvent, SetObject } from '@wharf/types';
import { ExitTracker } from '../exits.js';
import { resolvePrivilege } from '../privilege.js';
import { SetReconciler, type ReconcileResult, type ReportedStatus } from '../reconciler.js';
import { DockerodeEngine } from './dockerode-engine.js';
import { setObject as fixture } from '../testing/fixtures.js';
import { testVolumes } from '../testing/dir-volumes.js';
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
  for (const b of [web, side]) {
    assert.equal(b.HostConfig.NetworkMode, `container:${infra.Id}`);
    assert.equal(b.HostConfig.IpcMode, `container:${infra.Id}`);
    assert.equal(b.HostConfig.RestartPolicy?.Name, 'unless-stopped');
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
  assert.match(st.message ?? '', /^image not found: wharftest\/does-not-exist:1 \(.+\)$/);
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
