import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetEvent, SetObject } from '@wharf/types';
import { FakeEngine } from './docker/fake-engine.js';
import { ExitTracker } from './exits.js';
import { HealthBook } from './health/book.js';
import { Prober } from './health/prober.js';
import { ManualClock } from './testing/manual-clock.js';
import { SetReconciler, type ReportedStatus } from './reconciler.js';
import { DirDriver, testVolumes } from './testing/dir-volumes.js';
import { setObject as fixture } from './testing/fixtures.js';
import { beforeHardening } from './testing/before-hardening.js';

const INFRA = 'wharf/busybox:latest';

const setObject = (over: Partial<SetObject> = {}): SetObject =>
  fixture({
    appkey: 'app',
    id: 1,
    resources: { cpu: 1, memory: '256Mi' },
    containers: [
      { index: 0, image: 'web:1', options: { name: 'web', cpu: 50, mem: 50 } },
      { index: 1, image: 'db:1', options: { name: 'db', volumes: [{ path: '/var/lib/db' }] } },
    ],
  }, over);

async function setup(images = [INFRA, 'web:1', 'db:1']) {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-test-'));
  const engine = new FakeEngine(images);
  const { volumes, driver } = await testVolumes(dataDir);
  const health = new HealthBook(dataDir);
  const reconciler = new SetReconciler({ engine, host: 'h1', dataDir, infraImage: INFRA, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes, health });
  const events: SetEvent[] = [];
  const progress: ReportedStatus[] = [];
  const hooks = { onEvent: (e: SetEvent) => events.push(e), onProgress: (s: ReportedStatus) => progress.push(s) };
  const cleanup = async (): Promise<void> => {
    await health.flushed();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { dataDir, engine, reconciler, events, progress, hooks, volumes, driver, health, cleanup };
}

const ids = (st: ReportedStatus): (string | undefined)[] => st.containers.map((c) => c.containerId);

function statusOf(r: { report?: unknown }): ReportedStatus {
  const report = r.report as { status?: ReportedStatus };
  assert.ok(report?.status, 'a status report');
  return report.status;
}

test('reconciler: a fresh set comes up in order and a second run changes nothing', async () => {
  const s = await setup();
  try {
    const r1 = await s.reconciler.reconcile(setObject(), s.hooks);
    assert.equal(r1.ok, true);
    assert.deepEqual(s.engine.calls, ['create infra', 'start infra', 'create web', 'start web', 'create db', 'start db']);
    const st = statusOf(r1);
    assert.equal(st.phase, 'running');
    assert.equal(st.observedGeneration, 1);
    assert.equal(st.host, 'h1');
    assert.equal(st.volumePath, join(s.dataDir, 'volumes/t/app/1'));
    assert.ok((await stat(st.volumePath!)).isDirectory());
    assert.deepEqual(st.containers.map((c) => [c.name, c.role, c.index, c.state]), [['infra', 'infra', -1, 'running'], ['web', 'business', 0, 'running'], ['db', 'business', 1, 'running']]);
    assert.equal(st.containers[1]?.nanoCpus, 5e8);
    assert.equal(st.containers[1]?.memory, 128 * 1024 ** 2);
    assert.deepEqual(s.events.map((e) => e.reason), ['VolumeCreated', 'Created', 'Started', 'Created', 'Started', 'Created', 'Started']);
    assert.match(s.events[0]?.message ?? '', /hard limit 1Gi/);
    assert.deepEqual(s.driver.calls.filter((c) => c !== 'setup'), ['create t/app/1 1073741824']);
    assert.equal(s.progress[0]?.phase, 'starting');
    assert.equal(s.progress.at(-1)?.phase, 'running', 'the last start reports running at once');

    const ids = st.containers.map((c) => c.containerId);
    s.engine.calls.length = 0;
    const r2 = await s.reconciler.reconcile(setObject({ generation: 2 }), s.hooks);
    assert.deepEqual(r2.actions, []);
    assert.deepEqual(s.engine.calls, []);
    assert.deepEqual(statusOf(r2).containers.map((c) => c.containerId), ids);
    assert.equal(statusOf(r2).observedGeneration, 2);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: a missing image fails the set without touching running containers', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    s.engine.calls.length = 0;
    const spec = setObject().spec;
    spec.containers[0]!.image = 'web:2';
    const r = await s.reconciler.reconcile(setObject({ spec, generation: 2 }), s.hooks);
    assert.equal(r.ok, false);
    assert.deepEqual(s.engine.calls, ['pull web:2']);
    const st = statusOf(r);
    assert.equal(st.phase, 'failed');
    assert.equal(st.message, 'cannot pull image web:2: pull access denied for web:2: no such host');
    assert.equal(st.containers[1]?.state, 'running', 'the old web container still runs');
    const warn = s.events.at(-1);
    assert.equal(warn?.reason, 'ImagePullFailed');
    assert.equal(warn?.type, 'Warning');
    assert.equal(warn?.message, st.message);
    // The image is in its pull back-off: the set is woken when it ends, and a retry before that pulls nothing.
    assert.ok(r.wakeAt !== undefined && r.wakeAt > Date.now(), `wakeAt ${r.wakeAt}`);
    s.engine.calls.length = 0;
    const again = await s.reconciler.reconcile(setObject({ spec, generation: 2 }), s.hooks);
    assert.equal(again.ok, false);
    assert.deepEqual(s.engine.calls, []);
    assert.equal(statusOf(again).message, st.message);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: an image that can be pulled is pulled, its progress told in events and the status', async () => {
  const s = await setup([INFRA, 'db:1']);
  try {
    s.engine.registry.add('web:1');
    s.engine.imageSizes.set('web:1', 40 * 1024 ** 2);
    const r = await s.reconciler.reconcile(setObject(), s.hooks);
    assert.equal(statusOf(r).phase, 'running');
    const pulls = s.events.filter((e) => e.reason === 'Pulling' || e.reason === 'Pulled').map((e) => e.message);
    assert.equal(pulls.length, 4, pulls.join('\n'));
    assert.equal(pulls[0], 'Pulling image web:1');
    // The fake reports 10 %, 30 %, 60 %, 100 %: the 25 % and 50 % steps are told, 75 % is the end.
    assert.equal(pulls[1], 'Pulling image web:1: 30% (12Mi of 40Mi)');
    assert.equal(pulls[2], 'Pulling image web:1: 60% (24Mi of 40Mi)');
    assert.match(pulls[3] ?? '', /^Pulled image web:1 in \d+\.\ds \(40Mi, 40Mi downloaded\)$/);
    assert.ok(s.progress.some((p) => p.phase === 'starting' && p.message === 'pulling image web:1: 60% (24Mi of 40Mi)'), JSON.stringify(s.progress.map((p) => p.message)));
    assert.equal(statusOf(r).message, undefined);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: a create error is a failed set with a CreateFailed event', async () => {
  const s = await setup();
  try {
    s.engine.failNext.set('create', 'invalid mount config for type "bind"');
    const r = await s.reconciler.reconcile(setObject(), s.hooks);
    const st = statusOf(r);
    assert.equal(st.phase, 'failed');
    assert.equal(st.message, 'cannot create container infra: invalid mount config for type "bind"');
    assert.equal(s.events.at(-1)?.reason, 'CreateFailed');
    assert.equal(st.containers[0]?.message, st.message);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: a container that dies at start holds back the next ones (degraded)', async () => {
  const s = await setup();
  try {
    s.engine.crashOnStart.add('web');
    const r = await s.reconciler.reconcile(setObject(), s.hooks);
    assert.equal(r.ok, false);
    assert.deepEqual(s.engine.calls, ['create infra', 'start infra', 'create web', 'start web']);
    const st = statusOf(r);
    assert.equal(st.phase, 'degraded');
    assert.equal(st.message, 'back-off 1s restarting failed container web; db is missing');
    assert.equal(r.wakeAt !== undefined, true);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: business containers made before the hardening are kept by an upgraded agent; new ones are hardened', async () => {
  const s = await setup([INFRA, 'web:1', 'db:1', 'db:2']);
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    // What an agent before the hardening left running: Docker's defaults, the hash of then.
    const infraId = s.engine.byName('t_app_1_infra')!.id;
    for (const name of ['t_app_1_web', 't_app_1_db']) {
      const c = s.engine.byName(name)!;
      c.config = beforeHardening(c.config, infraId).config;
      assert.equal(c.config.securityOpt, undefined);
    }
    s.engine.calls.length = 0;
    const r = await s.reconciler.reconcile(setObject({ generation: 2 }), s.hooks);
    assert.deepEqual(r.actions, []);
    assert.deepEqual(s.engine.calls, []);
    // A spec change recreates the container it touches, hardened.
    const spec = setObject().spec;
    spec.containers[1]!.image = 'db:2';
    await s.reconciler.reconcile(setObject({ spec, generation: 3 }), s.hooks);
    assert.deepEqual(s.engine.calls, ['stop db', 'remove db', 'create db', 'start db']);
    assert.deepEqual(s.engine.byName('t_app_1_db')?.config.securityOpt, ['no-new-privileges:true']);
    assert.equal(s.engine.byName('t_app_1_web')?.config.securityOpt, undefined, 'the other one is left as it was');
  } finally {
    await s.cleanup();
  }
});

test('reconciler: changing one container recreates only it', async () => {
  const s = await setup([INFRA, 'web:1', 'db:1', 'db:2']);
  try {
    const first = statusOf(await s.reconciler.reconcile(setObject(), s.hooks));
    s.engine.calls.length = 0;
    const spec = setObject().spec;
    spec.containers[1]!.image = 'db:2';
    const st = statusOf(await s.reconciler.reconcile(setObject({ spec, generation: 2 }), s.hooks));
    assert.deepEqual(s.engine.calls, ['stop db', 'remove db', 'create db', 'start db']);
    assert.equal(st.phase, 'running');
    assert.equal(st.containers[1]?.containerId, first.containers[1]?.containerId);
    assert.notEqual(st.containers[2]?.containerId, first.containers[2]?.containerId);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: new CPU and memory apply in place; a refused resize is a warning and a retry; drift is put back', async () => {
  const s = await setup();
  try {
    const first = statusOf(await s.reconciler.reconcile(setObject(), s.hooks));
    const web = s.engine.byName('t_app_1_web')!;
    const pid = web.pid;
    const sized = (cpu: number, memory: string, generation: number): SetObject => {
      const set = setObject({ generation });
      set.spec = { ...set.spec, resources: { ...set.spec.resources, cpu, memory } };
      return set;
    };
    s.engine.calls.length = 0;
    const r = await s.reconciler.reconcile(sized(2, '512Mi', 2), s.hooks);
    assert.equal(r.ok, true);
    assert.deepEqual(r.actions, ['update web', 'update db']);
    assert.deepEqual(s.engine.calls, ['update web', 'update db'], 'no stop, no start');
    const st = statusOf(r);
    assert.deepEqual(ids(st), ids(first));
    assert.equal(st.phase, 'running');
    assert.equal(web.pid, pid, 'same process');
    assert.deepEqual([web.config.nanoCpus, web.config.memory, web.config.memorySwap], [1e9, 256 * 1024 ** 2, 256 * 1024 ** 2]);
    assert.deepEqual([st.containers[1]?.nanoCpus, st.containers[1]?.memory], [1e9, 256 * 1024 ** 2]);
    const resized = s.events.filter((e) => e.reason === 'Resized').map((e) => e.message);
    assert.deepEqual(resized, ['Resized container web: cpu 0.5 → 1 cores, memory 128Mi → 256Mi', 'Resized container db: cpu 0.5 → 1 cores, memory 128Mi → 256Mi']);

    // Docker refuses one (memory below usage): the other is still resized, the old limit stays, ok=false.
    s.engine.failNext.set('update', 'Cannot update container: device or resource busy');
    const refused = await s.reconciler.reconcile(sized(2, '64Mi', 3), s.hooks);
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.actions, ['update web', 'update db']);
    assert.equal(web.config.memory, 256 * 1024 ** 2);
    assert.equal(s.engine.byName('t_app_1_db')?.config.memory, 32 * 1024 ** 2);
    const warning = s.events.find((e) => e.reason === 'ResizeFailed');
    assert.equal(warning?.type, 'Warning');
    assert.equal(warning?.message, 'cannot resize container web (memory 256Mi → 32Mi): Cannot update container: device or resource busy');
    assert.equal(statusOf(refused).phase, 'running');
    assert.equal(statusOf(refused).containers[1]?.message, warning?.message);
    assert.equal((await s.reconciler.reconcile(sized(2, '64Mi', 3), s.hooks)).ok, true, 'the retry applies it');
    assert.equal(web.config.memory, 32 * 1024 ** 2);

    // Changed by hand: the next reconcile puts the spec's limits back.
    web.config = { ...web.config, nanoCpus: 3e9, memory: undefined };
    const back = await s.reconciler.reconcile(sized(2, '64Mi', 3), s.hooks);
    assert.deepEqual(back.actions, ['update web']);
    assert.deepEqual([web.config.nanoCpus, web.config.memory], [1e9, 32 * 1024 ** 2]);
    assert.equal(s.events.at(-1)?.message, 'Resized container web: cpu 3 → 1 cores, memory unlimited → 32Mi');
  } finally {
    await s.cleanup();
  }
});

test('reconciler: stop, then a restart request restarts once only', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    s.engine.calls.length = 0;
    const stopped = statusOf(await s.reconciler.reconcile(setObject({ desired: 'stopped' }), s.hooks));
    assert.deepEqual(s.engine.calls, ['stop db', 'stop web', 'stop infra']);
    assert.equal(stopped.phase, 'stopped');

    await s.reconciler.reconcile(setObject(), s.hooks);
    s.engine.calls.length = 0;
    // A restart stamped in the (host's) future: a skewed clock must not restart forever.
    const future = new Date(Date.parse('2030-01-01T00:00:00Z')).toISOString();
    await s.reconciler.reconcile(setObject({ restartRequestedAt: future }), s.hooks);
    assert.deepEqual(s.engine.calls, ['stop db', 'stop web', 'stop infra', 'start infra', 'start web', 'start db']);
    s.engine.calls.length = 0;
    const again = await s.reconciler.reconcile(setObject({ restartRequestedAt: future }), s.hooks);
    assert.deepEqual(again.actions, []);
    assert.ok(s.events.some((e) => e.reason === 'Restarted'));
  } finally {
    await s.cleanup();
  }
});

test('reconciler: deleting removes containers, recycles the volume and reports deleted', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    s.engine.calls.length = 0;
    const r = await s.reconciler.reconcile(setObject({ deleting: true }), s.hooks);
    assert.deepEqual(r.report, { deleted: true });
    assert.deepEqual(s.engine.calls, ['stop db', 'stop web', 'remove db', 'remove web', 'remove infra']);
    assert.equal(s.engine.containers.size, 0);
    const recycled = (await readdir(join(s.dataDir, 'recycle'))).filter((n) => !n.endsWith('.json'));
    assert.equal(recycled.length, 1);
    assert.match(recycled[0] ?? '', /^\d{8}T\d{6}\.\d{3}Z_t_app_1$/);
    assert.equal(s.events.at(-1)?.reason, 'Deleted');
    // Again: nothing left, still deleted, no second Deleted event.
    const before = s.events.length;
    assert.deepEqual((await s.reconciler.reconcile(setObject({ deleting: true }), s.hooks)).report, { deleted: true });
    assert.equal(s.events.length, before);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: an orphan set is removed by its labels', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    const r = await s.reconciler.removeOrphan('t/app/1', s.hooks);
    assert.equal(r.ok, true);
    assert.equal(r.report, undefined);
    assert.equal(s.engine.containers.size, 0);
    assert.equal((await readdir(join(s.dataDir, 'recycle'))).filter((n) => !n.endsWith('.json')).length, 1);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: an invalid spec is reported as failed and changes nothing', async () => {
  const s = await setup();
  try {
    const bad = setObject();
    (bad.spec.containers[0]!.options as { cpu?: number }).cpu = 90;
    (bad.spec.containers[1]!.options as { cpu?: number }).cpu = 90;
    const st = statusOf(await s.reconciler.reconcile(bad, s.hooks));
    assert.equal(st.phase, 'failed');
    assert.match(st.message ?? '', /^invalid spec: /);
    assert.deepEqual(s.engine.calls, []);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: the volume limit follows resources.disk online; below what it holds it is refused once', async () => {
  const s = await setup();
  try {
    const first = statusOf(await s.reconciler.reconcile(setObject(), s.hooks));
    const withDisk = (disk: string, generation: number): SetObject => {
      const set = setObject({ generation });
      set.spec = { ...set.spec, resources: { ...set.spec.resources, disk } };
      return set;
    };
    s.engine.calls.length = 0;
    const grown = await s.reconciler.reconcile(withDisk('2Gi', 2), s.hooks);
    assert.deepEqual(grown.actions, [], 'the limit is not in any container hash');
    assert.deepEqual(ids(statusOf(grown)), ids(first));
    assert.equal(s.driver.quotas.get('t/app/1'), 2 * 1024 ** 3);
    assert.equal(s.events.at(-1)?.reason, 'VolumeResized');
    assert.match(s.events.at(-1)?.message ?? '', /from 1Gi to 2Gi/);

    // Unchanged: nothing is done.
    const before = s.driver.calls.length;
    await s.reconciler.reconcile(withDisk('2Gi', 3), s.hooks);
    assert.equal(s.driver.calls.length, before);

    // It holds 3 KiB: a 1 KiB limit is refused (warned once), the limit stays.
    await writeFile(join(s.dataDir, 'volumes/t/app/1/data'), Buffer.alloc(3072));
    const n = s.events.length;
    const r = await s.reconciler.reconcile(withDisk('1Ki', 4), s.hooks);
    assert.equal(r.ok, true, 'the set keeps running');
    assert.equal(statusOf(r).phase, 'running');
    assert.equal(s.driver.quotas.get('t/app/1'), 2 * 1024 ** 3);
    assert.deepEqual(s.events.slice(n).map((e) => [e.type, e.reason]), [['Warning', 'VolumeResizeRefused']]);
    assert.match(s.events.at(-1)?.message ?? '', /holds 3Ki; the new size 1Ki is smaller/);
    await s.reconciler.reconcile(withDisk('1Ki', 4), s.hooks);
    assert.equal(s.events.length, n + 1, 'not repeated');
    // Above what it holds: shrunk.
    await s.reconciler.reconcile(withDisk('4Ki', 5), s.hooks);
    assert.equal(s.driver.quotas.get('t/app/1'), 4096);
  } finally {
    await s.cleanup();
  }
});

test('reconciler: an API resize wins over an older spec until the spec catches up', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject(), s.hooks);
    await s.volumes.resize({ tenant: 't', appkey: 'app', id: '1' }, 3 * 1024 ** 3);
    await s.reconciler.reconcile(setObject(), s.hooks);
    assert.equal(s.driver.quotas.get('t/app/1'), 3 * 1024 ** 3, 'the old spec (1Gi) does not undo it');
  } finally {
    await s.cleanup();
  }
});

test('reconciler: without a volume pool the set fails with VolumeFailed and no container is made', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-test-'));
  try {
    const driver = new DirDriver(dataDir);
    driver.failSetup = 'mkfs.btrfs: not found';
    const { volumes } = await testVolumes(dataDir, { driver });
    const engine = new FakeEngine([INFRA, 'web:1', 'db:1']);
    const reconciler = new SetReconciler({ engine, host: 'h1', dataDir, infraImage: INFRA, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes });
    const events: SetEvent[] = [];
    const r = await reconciler.reconcile(setObject(), { onEvent: (e) => events.push(e) });
    assert.equal(r.ok, false);
    assert.equal(statusOf(r).phase, 'failed');
    assert.match(statusOf(r).message ?? '', /volume pool of this host is not ready: mkfs.btrfs: not found/);
    assert.deepEqual(events.map((e) => e.reason), ['VolumeFailed']);
    assert.deepEqual(engine.calls, []);
    // Deleting cannot move a volume it cannot reach: it fails too (and is retried), rather than lose it.
    const d = await reconciler.reconcile(setObject({ deleting: true }), { onEvent: (e) => events.push(e) });
    assert.equal(d.ok, false);
    driver.failSetup = undefined;
    assert.equal(await volumes.setup(), true);
    assert.equal((await reconciler.reconcile(setObject(), { onEvent: (e) => events.push(e) })).ok, true);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('reconciler: restart policy, back-off, liveness kills, readiness', () => {
  const T0 = Date.parse('2026-06-01T00:00:00Z');
  async function healthSetup(prober?: (engine: FakeEngine, clock: ManualClock) => Prober) {
    const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-test-'));
    const engine = new FakeEngine([INFRA, 'web:1', 'db:1']);
    const { volumes } = await testVolumes(dataDir);
    const clock = new ManualClock(T0);
    const health = new HealthBook(dataDir, undefined, () => clock.now());
    const make = (book: HealthBook, p?: Prober) =>
      new SetReconciler({ engine, host: 'h1', dataDir, infraImage: INFRA, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes, health: book, now: () => clock.now(), ...(p ? { prober: p } : {}) });
    const reconciler = make(health, prober?.(engine, clock));
    const events: SetEvent[] = [];
    const hooks = { onEvent: (e: SetEvent) => events.push(e) };
    const cleanup = async (): Promise<void> => {
      await health.flushed();
      await rm(dataDir, { recursive: true, force: true });
    };
    return { dataDir, engine, clock, health, reconciler, make, events, hooks, cleanup };
  }
  const withHealth = (options: Record<string, unknown>, over: Partial<SetObject> = {}): SetObject => {
    const set = setObject(over);
    set.spec.containers[0]!.options = { ...set.spec.containers[0]!.options, ...options };
    return set;
  };

  test('a crash: back-off 1 s (shown, announced once), then started again and counted; the others untouched; 2 s next time', async () => {
    const s = await healthSetup();
    try {
      const set = withHealth({});
      await s.reconciler.reconcile(set, s.hooks);
      const webId = s.engine.byName('t_app_1_web')!.id;
      s.engine.kill('web', 1);
      s.engine.calls.length = 0;
      const held = await s.reconciler.reconcile(set, s.hooks);
      assert.deepEqual(held.actions, []);
      assert.equal(held.ok, true);
      assert.equal(held.wakeAt, T0 + 1_000);
      const st = statusOf(held);
      assert.equal(st.phase, 'degraded');
      assert.equal(st.ready, false);
      assert.equal(st.message, 'back-off 1s restarting failed container web');
      const web = st.containers[1]!;
      assert.equal(web.state, 'exited');
      assert.equal(web.backOffUntil, new Date(T0 + 1_000).toISOString());
      assert.deepEqual(web.lastTermination, { reason: 'Error', exitCode: 1, oomKilled: false, finishedAt: web.finishedAt });
      assert.deepEqual(s.events.filter((e) => e.reason === 'BackOff').map((e) => [e.type, e.message]), [['Warning', 'back-off 1s restarting failed container web (Error, exit code 1)']]);
      await s.reconciler.reconcile(set, s.hooks);
      assert.equal(s.events.filter((e) => e.reason === 'BackOff').length, 1, 'once per streak');

      await s.clock.advance(1_000);
      const restarted = await s.reconciler.reconcile(set, s.hooks);
      assert.deepEqual(restarted.actions, ['start web']);
      assert.deepEqual(s.engine.calls, ['start web'], 'db and infra are not touched');
      const after = statusOf(restarted);
      assert.equal(after.phase, 'running');
      assert.equal(after.ready, true);
      assert.equal(after.containers[1]?.containerId, webId, 'the same container');
      assert.equal(after.containers[1]?.restartCount, 1);
      assert.equal(after.containers[1]?.backOffUntil, undefined);
      assert.equal(after.containers[1]?.lastTermination?.reason, 'Error');
      assert.equal(s.events.at(-1)?.message, 'Restarted container web (restart policy always)');

      s.engine.kill('web', 137, true);
      const second = await s.reconciler.reconcile(set, s.hooks);
      assert.equal(second.wakeAt, T0 + 1_000 + 2_000);
      assert.equal(statusOf(second).containers[1]?.message, 'back-off 2s restarting failed container web');
      assert.equal(statusOf(second).containers[1]?.lastTermination?.reason, 'OOMKilled');
      assert.equal(s.events.filter((e) => e.reason === 'BackOff').length, 1);
    } finally {
      await s.cleanup();
    }
  });

  test('never: a completed container stays exited and the set degraded; on-failure restarts only failures', async () => {
    const s = await healthSetup();
    try {
      const never = withHealth({ restartPolicy: 'never' });
      await s.reconciler.reconcile(never, s.hooks);
      s.engine.kill('web', 0);
      const r = await s.reconciler.reconcile(never, s.hooks);
      assert.deepEqual(r.actions, []);
      assert.equal(r.wakeAt, undefined);
      const st = statusOf(r);
      assert.equal(st.phase, 'degraded');
      assert.equal(st.message, 'web completed (exit code 0; restart policy never)');
      assert.equal(st.containers[1]?.backOffUntil, undefined);
      await s.clock.advance(600_000);
      assert.deepEqual((await s.reconciler.reconcile(never, s.hooks)).actions, []);

      const onFailure = withHealth({ restartPolicy: 'on-failure' }, { generation: 2 });
      assert.deepEqual((await s.reconciler.reconcile(onFailure, s.hooks)).actions, [], 'exit code 0: not a failure');
      s.engine.byName('t_app_1_web')!.exitCode = 3;
      s.engine.byName('t_app_1_web')!.finishedAt = s.engine.tick();
      assert.deepEqual((await s.reconciler.reconcile(onFailure, s.hooks)).actions, [], 'a failure: back-off first');
      await s.clock.advance(1_000);
      assert.deepEqual((await s.reconciler.reconcile(onFailure, s.hooks)).actions, ['start web']);
    } finally {
      await s.cleanup();
    }
  });

  test('never: containers the agent stopped (set stopped, then started) start again', async () => {
    const s = await healthSetup();
    try {
      const never = withHealth({ restartPolicy: 'never' });
      await s.reconciler.reconcile(never, s.hooks);
      await s.reconciler.reconcile(withHealth({ restartPolicy: 'never' }, { desired: 'stopped' }), s.hooks);
      const st = statusOf(await s.reconciler.reconcile(never, s.hooks));
      assert.equal(st.phase, 'running');
      assert.equal(st.containers[1]?.restartCount, 0, 'not a restart of its own');
      assert.equal(st.containers[1]?.lastTermination?.reason, 'Stopped');
    } finally {
      await s.cleanup();
    }
  });

  test('a liveness kill stops the same container, records Unhealthy, and restarts it after the back-off; kept across a restart of the agent', async () => {
    const s = await healthSetup();
    try {
      const set = withHealth({ liveness: { exec: { command: ['true'] } } });
      await s.reconciler.reconcile(set, s.hooks);
      const web = s.engine.byName('t_app_1_web')!;
      const id = web.id;
      s.reconciler.requestKill('t/app/1', { name: 'web', id, startedAt: 'an earlier run', message: 'stale' });
      assert.deepEqual((await s.reconciler.reconcile(set, s.hooks)).actions, [], 'a kill of another run is ignored');
      s.reconciler.requestKill('t/app/1', { name: 'web', id, startedAt: web.startedAt!, message: 'liveness probe failed 3 times: no' });
      s.engine.calls.length = 0;
      const killed = await s.reconciler.reconcile(set, s.hooks);
      assert.deepEqual(killed.actions, ['stop web']);
      assert.equal(killed.wakeAt, T0 + 1_000);
      const st = statusOf(killed);
      assert.deepEqual(st.containers[1]?.lastTermination, { reason: 'Unhealthy', exitCode: 0, oomKilled: false, finishedAt: web.finishedAt, message: 'liveness probe failed 3 times: no' });
      assert.equal(st.containers[1]?.message, 'back-off 1s restarting failed container web');
      await s.clock.advance(1_000);
      const back = statusOf(await s.reconciler.reconcile(set, s.hooks));
      assert.deepEqual(s.engine.calls, ['stop web', 'start web']);
      assert.equal(back.containers[1]?.containerId, id);
      assert.equal(back.containers[1]?.restartCount, 1);

      // A new agent (new book, same data dir) knows the count and the termination.
      await s.health.flushed();
      const fresh = s.make(new HealthBook(s.dataDir, undefined, () => s.clock.now()));
      const adopted = statusOf(await fresh.reconcile(set, s.hooks));
      assert.equal(adopted.containers[1]?.restartCount, 1);
      assert.equal(adopted.containers[1]?.lastTermination?.reason, 'Unhealthy');

      // Deleting the set removes its records.
      await s.reconciler.reconcile({ ...set, deleting: true }, s.hooks);
      await s.health.flushed();
      assert.deepEqual(await readdir(join(s.dataDir, 'health')), []);
    } finally {
      await s.cleanup();
    }
  });

  test('readiness: not ready until the probe passes; the set is ready when every container is', async () => {
    let prober: Prober | undefined;
    const changes: string[] = [];
    const s = await healthSetup((engine, clock) => (prober = new Prober({ engine, log: pino({ level: 'silent' }), clock, onChange: (ref) => changes.push(ref), onLivenessFailure: () => undefined })));
    try {
      let ok = false;
      s.engine.execHandler = () => ({ exitCode: ok ? 0 : 1, output: ok ? '' : 'not yet' });
      const set = withHealth({ readiness: { exec: { command: ['test', '-f', '/ready'] }, periodSeconds: 1 } });
      const st = statusOf(await s.reconciler.reconcile(set, s.hooks));
      assert.equal(st.phase, 'running');
      assert.deepEqual(st.containers.map((c) => c.ready), [true, false, true]);
      assert.equal(st.ready, false);
      await s.clock.advance(0);
      assert.deepEqual(s.engine.execs.map((e) => [e.name, e.cmd.join(' ')]), [['web', 'test -f /ready']]);
      ok = true;
      await s.clock.advance(1_000);
      assert.deepEqual(changes, ['t/app/1']);
      const now = s.reconciler.withHealth(st);
      assert.equal(now.ready, true);
      assert.equal(now.containers[1]?.ready, true);
      assert.equal(statusOf(await s.reconciler.reconcile(set, s.hooks)).ready, true);
      // Stopped: no probes left running.
      await s.reconciler.reconcile(withHealth({ readiness: { exec: { command: ['true'] } } }, { desired: 'stopped' }), s.hooks);
      assert.equal(s.clock.pending, 0);
    } finally {
      prober?.close();
      await s.cleanup();
    }
  });
});
