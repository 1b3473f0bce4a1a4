import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetEvent, SetObject } from '@wharf/types';
import { FakeEngine } from './docker/fake-engine.js';
import { ExitTracker } from './exits.js';
import { SetReconciler, type ReportedStatus } from './reconciler.js';
import { DirDriver, testVolumes } from './testing/dir-volumes.js';
import { setObject as fixture } from './testing/fixtures.js';

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
  const reconciler = new SetReconciler({ engine, host: 'h1', dataDir, infraImage: INFRA, log: pino({ level: 'silent' }), exits: new ExitTracker(), volumes });
  const events: SetEvent[] = [];
  const progress: ReportedStatus[] = [];
  const hooks = { onEvent: (e: SetEvent) => events.push(e), onProgress: (s: ReportedStatus) => progress.push(s) };
  return { dataDir, engine, reconciler, events, progress, hooks, volumes, driver, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
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
    assert.match(st.message ?? '', /^image not found: web:2 \(pull access denied/);
    assert.equal(st.containers[1]?.state, 'running', 'the old web container still runs');
    const warn = s.events.at(-1);
    assert.equal(warn?.reason, 'ImagePullFailed');
    assert.equal(warn?.type, 'Warning');
  } finally {
    await s.cleanup();
  }
});

test('reconciler: an image that can be pulled is pulled', async () => {
  const s = await setup([INFRA, 'db:1']);
  try {
    s.engine.registry.add('web:1');
    const r = await s.reconciler.reconcile(setObject(), s.hooks);
    assert.equal(statusOf(r).phase, 'running');
    assert.ok(s.events.some((e) => e.reason === 'Pulled' && e.message === 'Pulled image web:1'));
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
    assert.match(st.message ?? '', /web did not stay up/);
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
