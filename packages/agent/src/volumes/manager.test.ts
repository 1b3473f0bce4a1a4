/** The manager's rules over the plain-directory test driver. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WharfError, type ErrorCode } from '@wharf/types';
import { testVolumes } from '../testing/dir-volumes.js';
import { treeChecksum } from './checksum.js';

const web = { tenant: 'default', appkey: 'web', id: '1' };
const db = { tenant: 'default', appkey: 'db', id: '2' };
const KiB = 1024;

const code = (c: ErrorCode, message?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof WharfError, String(e));
  assert.equal(e.code, c, e.message);
  if (message) assert.match(e.message, message);
  return true;
};

async function setup(over: Parameters<typeof testVolumes>[1] = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-volmgr-'));
  const running = new Set<string>();
  let now = new Date('2025-03-01T10:00:00Z');
  const { volumes, driver } = await testVolumes(dataDir, {
    inUse: async (s) => running.has(`${s.tenant}/${s.appkey}/${s.id}`),
    now: () => now,
    ...over,
  });
  return {
    dataDir, volumes, driver, running,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    write: (set: typeof web, file: string, bytes: number) => writeFile(join(dataDir, 'volumes', set.tenant, set.appkey, set.id, file), Buffer.alloc(bytes, 7)),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

test('volumes: ensure creates once, then only changes the limit; the path is under <data-dir>/volumes', async () => {
  const s = await setup();
  try {
    assert.deepEqual((await s.volumes.ensure(web, 64 * KiB)).map((e) => e.reason), ['VolumeCreated']);
    assert.deepEqual(await s.volumes.ensure(web, 64 * KiB), []);
    const u = await s.volumes.get(web);
    assert.deepEqual(u, { ...web, driver: 'btrfs', used: 0, quota: 64 * KiB, path: join(s.dataDir, 'volumes/default/web/1') });
    await assert.rejects(s.volumes.get(db), code('VOLUME_NOT_FOUND', /no volume of set default\/db\/2 on host h1/));
  } finally {
    await s.cleanup();
  }
});

test('volumes: a limit ensure set or read is trusted until something touches the volume (no quota read per reconcile)', async () => {
  const s = await setup();
  try {
    let reads = 0;
    const stats = s.driver.stats.bind(s.driver);
    s.driver.stats = async (set: typeof web) => {
      reads++;
      return stats(set);
    };
    await s.volumes.ensure(web, 64 * KiB);
    const afterCreate = reads;
    assert.deepEqual(await s.volumes.ensure(web, 64 * KiB), []);
    assert.deepEqual(await s.volumes.ensure(web, 64 * KiB), []);
    assert.equal(reads, afterCreate, 'unchanged: no quota read');
    // A different size is read and applied; the same size afterwards is trusted again.
    assert.deepEqual((await s.volumes.ensure(web, 96 * KiB)).map((e) => e.reason), ['VolumeResized']);
    const afterResize = reads;
    await s.volumes.ensure(web, 96 * KiB);
    assert.equal(reads, afterResize);
    // Any operation through the manager makes the next ensure look again.
    await s.volumes.get(web);
    const afterGet = reads;
    await s.volumes.ensure(web, 96 * KiB);
    assert.equal(reads, afterGet + 1);
    // A limit changed behind the agent's back: the next heartbeat's scan drops the trust.
    s.driver.quotas.set('default/web/1', 128 * KiB);
    await s.volumes.report();
    assert.deepEqual((await s.volumes.ensure(web, 96 * KiB)).map((e) => e.reason), ['VolumeResized']);
    assert.equal((await s.volumes.get(web)).quota, 96 * KiB);
    // Gone from the pool: created again, not trusted blindly.
    await rm(join(s.dataDir, 'volumes/default/web/1'), { recursive: true });
    assert.deepEqual((await s.volumes.ensure(web, 96 * KiB)).map((e) => e.reason), ['VolumeCreated']);
  } finally {
    await s.cleanup();
  }
});

test('volumes: the heartbeat report scans the pool again after a volume operation or reportMaxAgeMs, not at every call', async () => {
  const s = await setup();
  try {
    let scans = 0;
    const scan = s.driver.scan.bind(s.driver);
    s.driver.scan = async () => {
      scans++;
      return scan();
    };
    await s.volumes.ensure(web, 64 * KiB);
    assert.deepEqual((await s.volumes.report())?.volumes.map((v) => v.id), ['1']);
    await s.volumes.report();
    assert.equal(scans, 1);
    await s.volumes.ensure(db, 32 * KiB); // an operation: the next report sees the new volume
    assert.deepEqual((await s.volumes.report())?.volumes.map((v) => v.appkey).sort(), ['db', 'web']);
    assert.equal(scans, 2);
    s.advance(15_000);
    await s.volumes.report();
    assert.equal(scans, 3, 'older than 15 s');
  } finally {
    await s.cleanup();
  }
});

test('volumes: resize refuses below what is held, shrinks above it, and refuses growth beyond the free space', async () => {
  const s = await setup();
  try {
    await s.volumes.ensure(web, 64 * KiB);
    await s.write(web, 'data', 40 * KiB);
    await assert.rejects(s.volumes.resize(web, 32 * KiB), code('VOLUME_TOO_SMALL', /the volume of default\/web\/1 holds 40Ki; the new size 32Ki is smaller/));
    assert.equal((await s.volumes.resize(web, 48 * KiB)).quota, 48 * KiB);
    s.driver.free = 100 * KiB;
    await assert.rejects(s.volumes.resize(web, 200 * KiB), code('INSUFFICIENT_DISK', /by 152Ki needs more than the 100Ki free/));
    assert.equal((await s.volumes.resize(web, 148 * KiB)).quota, 148 * KiB);
    await assert.rejects(s.volumes.resize(db, 1), code('VOLUME_NOT_FOUND'));
    await assert.rejects(s.volumes.resize(web, -1), code('BAD_REQUEST'));
  } finally {
    await s.cleanup();
  }
});

test('volumes: deleted → recycle bin (metadata, retention) → restored into another set with its data', async () => {
  const s = await setup({ retentionMs: 3600_000 });
  try {
    await s.volumes.ensure(web, 64 * KiB);
    await s.write(web, 'data', 10 * KiB);
    const sum = await treeChecksum(s.volumes.path(web));
    const meta = await s.volumes.recycle(web);
    assert.ok(meta);
    assert.equal(meta.trashId, '20250301T100000.000Z_default_web_1');
    assert.equal(await s.volumes.recycle(web), undefined, 'nothing left to recycle');
    const [entry, ...more] = await s.volumes.trash();
    assert.equal(more.length, 0);
    assert.deepEqual(entry, { trashId: meta.trashId, host: 'h1', ...web, driver: 'btrfs', used: 10 * KiB, quota: 64 * KiB, deletedAt: '2025-03-01T10:00:00.000Z', purgeAt: '2025-03-01T11:00:00.000Z' });
    const json = JSON.parse(await readFile(join(s.dataDir, 'recycle', `${meta.trashId}.json`), 'utf8')) as Record<string, unknown>;
    assert.equal(json.reason, 'the set was deleted');
    const report = await s.volumes.report();
    assert.equal(report?.pool.trashCount, 1);
    assert.equal(report?.pool.trash, 10 * KiB);

    // Restore into db/2, which runs: refused. Stopped, with a volume of its own: that one goes to the bin first.
    await s.volumes.ensure(db, 32 * KiB);
    s.running.add('default/db/2');
    await assert.rejects(s.volumes.restoreTrash(meta.trashId, db), code('VOLUME_IN_USE', /set default\/db\/2 has running containers on host h1/));
    s.running.clear();
    s.advance(1000);
    const restored = await s.volumes.restoreTrash(meta.trashId, db);
    assert.equal(restored.used, 10 * KiB);
    assert.equal((await treeChecksum(s.volumes.path(db))).sha256, sum.sha256);
    const bin = await s.volumes.trash();
    assert.deepEqual(bin.map((e) => [e.tenant, e.appkey, e.id]), [['default', 'db', '2']], "db's own volume is in the bin now");
    await assert.rejects(s.volumes.restoreTrash(meta.trashId, db), code('TRASH_NOT_FOUND'));
    await assert.rejects(s.volumes.restoreTrash('../../etc', db), code('TRASH_NOT_FOUND'));

    // Retention: not yet, then purged.
    assert.equal(await s.volumes.purgeExpired(), 0);
    s.advance(3600_000);
    assert.equal(await s.volumes.purgeExpired(), 1);
    assert.deepEqual(await s.volumes.trash(), []);
    assert.deepEqual((await readdir(join(s.dataDir, 'recycle'))).length, 0);
  } finally {
    await s.cleanup();
  }
});

test('volumes: purge one entry, or all of them with the bytes they held', async () => {
  const s = await setup();
  try {
    for (const set of [web, db]) {
      await s.volumes.ensure(set, 64 * KiB);
      await s.write(set, 'data', 5 * KiB);
      await s.volumes.recycle(set);
    }
    const [first] = await s.volumes.trash();
    assert.ok(first);
    assert.equal(await s.volumes.purge(first.trashId), 5 * KiB);
    await assert.rejects(s.volumes.purge(first.trashId), code('TRASH_NOT_FOUND'));
    assert.deepEqual(await s.volumes.purgeAll(), { purged: 1, bytes: 5 * KiB });
    assert.deepEqual(await s.volumes.purgeAll(), { purged: 0, bytes: 0 });
  } finally {
    await s.cleanup();
  }
});

test('volumes: snapshots are taken, listed, restored (not under running containers, limit kept) and deleted', async () => {
  const s = await setup();
  try {
    await s.volumes.ensure(web, 64 * KiB);
    await s.write(web, 'note', 1);
    const snap = await s.volumes.createSnapshot(web, 'before');
    assert.equal(snap.name, 'before');
    assert.equal((await s.volumes.createSnapshot(web)).name, '20250301T100000Z', 'named by its UTC time');
    await assert.rejects(s.volumes.createSnapshot(web, 'before'), code('CONFLICT'));
    await assert.rejects(s.volumes.createSnapshot(web, '../x'), code('BAD_REQUEST'));
    await assert.rejects(s.volumes.createSnapshot(db), code('VOLUME_NOT_FOUND'));
    assert.deepEqual((await s.volumes.snapshots(web)).map((x) => x.name), ['20250301T100000Z', 'before']);

    await s.write(web, 'note', 2);
    s.running.add('default/web/1');
    await assert.rejects(s.volumes.restoreSnapshot(web, 'before'), code('VOLUME_IN_USE'));
    s.running.clear();
    await assert.rejects(s.volumes.restoreSnapshot(web, 'nope'), code('SNAPSHOT_NOT_FOUND'));
    const u = await s.volumes.restoreSnapshot(web, 'before');
    assert.equal(u.quota, 64 * KiB);
    assert.equal((await readFile(join(s.volumes.path(web), 'note'))).length, 1);
    assert.deepEqual((await s.volumes.snapshots(web)).map((x) => x.name), ['20250301T100000Z', 'before'], 'snapshots stay with the volume');
    assert.match((await s.volumes.trash())[0]?.trashId ?? '', /_default_web_1$/, 'the replaced volume went to the bin');

    await s.volumes.deleteSnapshot(web, 'before');
    await assert.rejects(s.volumes.deleteSnapshot(web, 'before'), code('SNAPSHOT_NOT_FOUND'));
    // Snapshots go to the bin with their volume and come back with it.
    const latest = await s.volumes.recycle(web);
    assert.match(latest?.trashId ?? '', /_default_web_1-2$/, 'a second entry of the same moment gets a suffix');
    assert.deepEqual(await s.volumes.snapshots(db).catch((e: unknown) => (e as Error).message), 'no volume of set default/db/2 on host h1');
    await s.volumes.restoreTrash(latest?.trashId ?? '', web);
    assert.deepEqual((await s.volumes.snapshots(web)).map((x) => x.name), ['20250301T100000Z']);
  } finally {
    await s.cleanup();
  }
});

test('volumes: checksums see paths, modes and contents, follow no links and skip sockets', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-sum-'));
  try {
    await writeFile(join(dir, 'a'), 'hello');
    await writeFile(join(dir, 'b'), 'world');
    await symlink('/etc/passwd', join(dir, 'link'));
    const one = await treeChecksum(dir);
    assert.deepEqual({ files: one.files, bytes: one.bytes }, { files: 2, bytes: 10 });
    assert.match(one.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(await treeChecksum(dir), one, 'stable');
    const sock = createServer();
    await new Promise<void>((r) => sock.listen(join(dir, 'sock'), r));
    assert.deepEqual(await treeChecksum(dir), one, 'sockets are skipped');
    sock.close();
    await chmod(join(dir, 'a'), 0o600);
    const moded = await treeChecksum(dir);
    assert.notEqual(moded.sha256, one.sha256);
    await writeFile(join(dir, 'a'), 'hellp');
    assert.notEqual((await treeChecksum(dir)).sha256, moded.sha256);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('volumes: while the pool is not ready every operation says why; setup is retried', async () => {
  const s = await setup();
  try {
    s.driver.failSetup = 'cannot mount /data/pool.img: no loop device';
    assert.equal(await s.volumes.setup(), false);
    assert.equal(s.volumes.ready, false);
    await assert.rejects(s.volumes.ensure(web, KiB), code('INTERNAL', /the volume pool of this host is not ready: cannot mount/));
    await assert.rejects(s.volumes.list(), code('INTERNAL'));
    assert.equal(await s.volumes.report(), undefined);
    s.driver.failSetup = undefined;
    assert.equal(await s.volumes.setup(), true);
    assert.deepEqual(await s.volumes.list(), []);
  } finally {
    await s.cleanup();
  }
});
