/**
 * Volumes for real (opt-in: WHARF_DOCKER_TESTS=1, root, btrfs-progs, xfsprogs, loop
 * devices; run under e2e/dist/harness/with-docker.js, needs wharf/busybox:latest).
 * Pools are loop files in a temporary directory; everything is unmounted, detached
 * and removed at the end (containers carry tenant "wharfvol").
 *
 *   btrfs: the quota is enforced inside a real container (EDQUOT) and the host disk
 *   is untouched; it grows online while the container writes (no restart); shrinking
 *   is refused below what is held; delete → recycle bin → restore keeps the data;
 *   purge frees the pool; snapshot and restore; export/import between two pools.
 *   xfs: the quota is the image size (ENOSPC past it), grown online; a btrfs volume
 *   imported into it as tar.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { setRef, WharfError, type SetEvent, type SetObject } from '@wharf/types';
import { DockerodeEngine } from '../docker/dockerode-engine.js';
import { ExitTracker } from '../exits.js';
import { createHttpServer } from '../http.js';
import { resolvePrivilege } from '../privilege.js';
import { SetReconciler, type ReconcileResult, type ReportedStatus } from '../reconciler.js';
import { setObject as fixture } from '../testing/fixtures.js';
import { BtrfsDriver, isSubvolume } from './btrfs.js';
import { treeChecksum } from './checksum.js';
import { Commands } from './commands.js';
import { VolumeManager } from './manager.js';
import { XfsDriver } from './xfs.js';

const enabled = process.env.WHARF_DOCKER_TESTS === '1' && process.getuid?.() === 0;
const skip = !enabled && 'set WHARF_DOCKER_TESTS=1 and run as root (e2e/dist/harness/with-docker.js)';
const IMAGE = 'wharf/busybox:latest';
const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
const engine = new DockerodeEngine(socket);
const MiB = 1024 ** 2;
const TOKEN = 'voltest';
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

let base = '';
const servers: Server[] = [];

function sh(cmd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** Unmounts everything below `dir` (deepest first) and detaches loop devices of files below it. */
function release(dir: string): void {
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout.split('\n').filter((m) => m.startsWith(`${dir}/`)).sort().reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  for (const line of spawnSync('losetup', ['-nO', 'NAME,BACK-FILE', '--raw'], { encoding: 'utf8' }).stdout.split('\n')) {
    const [dev, file] = line.split(' ');
    if (dev && file?.startsWith(`${dir}/`)) spawnSync('losetup', ['-d', dev]);
  }
}

async function manager(name: string, driver: 'btrfs' | 'xfs'): Promise<{ volumes: VolumeManager; dataDir: string; url: string }> {
  const dataDir = join(base, name);
  const cmd = new Commands();
  const d = driver === 'btrfs' ? new BtrfsDriver(cmd, { dataDir, sizeBytes: 1024 * MiB }) : new XfsDriver(cmd, { dataDir });
  const volumes = new VolumeManager({
    driver: d, dataDir, host: name, retentionMs: 86400_000, log, token: TOKEN,
    inUse: async (s) => (await engine.listSet(setRef(s))).some((c) => c.state === 'running'),
  });
  assert.equal(await volumes.setup(), true, volumes.error);
  const server = createHttpServer({ engine, token: TOKEN, log, volumes });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { volumes, dataDir, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function cleanupContainers(): Promise<void> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: ['wharf.tenant=wharfvol'] } });
  await Promise.all(list.map((c) => engine.docker.getContainer(c.Id).remove({ force: true })));
}

async function exec(name: string, script: string): Promise<{ code: number; out: string }> {
  const e = await engine.docker.getContainer(name).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.docker.modem.demuxStream(stream, out, out);
  await new Promise((r) => stream.on('end', r));
  const info = await e.inspect();
  return { code: info.ExitCode ?? -1, out: Buffer.concat(chunks).toString() };
}

const setObject = (id: number, disk: string, over: Partial<SetObject> = {}): SetObject => {
  const s = fixture({
    appkey: 'vol',
    id,
    resources: { cpu: 0.5, memory: '64Mi', disk },
    containers: [{ index: 0, image: IMAGE, options: { name: 'app', volumes: [{ path: '/data' }], command: { cmd: 'sh', args: ['-c', "trap 'exit 0' TERM; sleep 100000 & wait"] } } }],
  }, { tenant: 'wharfvol', ...over });
  return s;
};

const statusOf = (r: ReconcileResult): ReportedStatus => {
  assert.ok(r.report && 'status' in r.report, JSON.stringify(r));
  return r.report.status;
};

let a: Awaited<ReturnType<typeof manager>>;
let b: Awaited<ReturnType<typeof manager>>;
let reconciler: SetReconciler;
const events: SetEvent[] = [];
const hooks = { onEvent: (e: SetEvent) => events.push(e) };
const set1 = { tenant: 'wharfvol', appkey: 'vol', id: '1' };

before(async () => {
  if (!enabled) return;
  await cleanupContainers();
  base = await mkdtemp(join(tmpdir(), 'wharf-realvol-'));
  // If this run dies, the e2e harness's cleanupScratch() unmounts and removes it.
  await writeFile(join(base, 'owner.pid'), `${process.pid}\n`);
  a = await manager('a', 'btrfs');
  b = await manager('b', 'btrfs');
  reconciler = new SetReconciler({ engine, host: 'a', dataDir: a.dataDir, infraImage: IMAGE, infraPrivilege: resolvePrivilege('auto'), log, exits: new ExitTracker(), volumes: a.volumes });
});

after(async () => {
  if (!enabled) return;
  await cleanupContainers();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  release(base);
  await rm(base, { recursive: true, force: true });
  assert.ok(!spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout.includes(base), 'nothing left mounted');
});

test('btrfs: the volume is a subvolume whose quota holds inside the container (EDQUOT); the host disk is untouched', { skip }, async () => {
  const st = statusOf(await reconciler.reconcile(setObject(1, '64Mi'), hooks));
  assert.equal(st.phase, 'running', st.message);
  assert.equal(st.volumePath, join(a.dataDir, 'volumes/wharfvol/vol/1'));
  assert.ok(await isSubvolume(join(a.dataDir, 'pool/volumes/wharfvol/vol/1')));
  const infra = await engine.docker.getContainer('wharfvol_vol_1_infra').inspect();
  assert.ok(infra.HostConfig.Binds?.includes(`${st.volumePath}:/volume`));

  const hostFree = (): number => Number(statfsSync(base).bavail) * Number(statfsSync(base).bsize);
  const before = hostFree();
  const r = await exec('wharfvol_vol_1_app', 'dd if=/dev/urandom of=/data/big bs=1M count=100 2>&1; ls -l /data/big');
  assert.match(r.out, /Disk quota exceeded/);
  const size = Number(/\s(\d+)\s+\w{3}\s+\d/.exec(r.out)?.[1]);
  assert.ok(size <= 64 * MiB && size > 32 * MiB, `wrote ${size} bytes into a 64Mi volume`);
  assert.ok(before - hostFree() < 96 * MiB, `the host lost ${(before - hostFree()) / MiB} MiB`);
  const u = await a.volumes.get(set1);
  assert.equal(u.quota, 64 * MiB);
  assert.ok(u.used > 32 * MiB);
  const hb = await a.volumes.report();
  assert.equal(hb?.pool.driver, 'btrfs');
  assert.ok((hb?.pool.size ?? 0) > 900 * MiB);
  assert.deepEqual(hb?.volumes.map((v) => [v.appkey, v.id, v.quota]), [['vol', '1', 64 * MiB]]);
});

test('btrfs: grows online while the container writes (no container restarted); shrinks only above what it holds', { skip }, async () => {
  const before = statusOf(await reconciler.reconcile(setObject(1, '64Mi'), hooks));
  await exec('wharfvol_vol_1_app', 'rm -f /data/big');
  const writer = exec('wharfvol_vol_1_app', 'i=0; while [ $i -lt 120 ]; do dd if=/dev/zero of=/data/w$i bs=1M count=1 2>/dev/null || exit 1; i=$((i+1)); sleep 0.01; done');
  await new Promise((r) => setTimeout(r, 150));
  const grown = await reconciler.reconcile(setObject(1, '256Mi', { generation: 2 }), hooks);
  assert.deepEqual(grown.actions, []);
  assert.equal((await writer).code, 0, 'every write went through');
  assert.deepEqual(statusOf(grown).containers.map((c) => [c.containerId, c.startedAt]), before.containers.map((c) => [c.containerId, c.startedAt]));
  assert.equal((await exec('wharfvol_vol_1_app', 'ls /data | grep -c "^w"')).out.trim(), '120');
  assert.equal((await a.volumes.get(set1)).quota, 256 * MiB);
  assert.ok(events.some((e) => e.reason === 'VolumeResized' && /from 64Mi to 256Mi/.test(e.message)));

  await assert.rejects(a.volumes.resize(set1, 64 * MiB), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_TOO_SMALL' && /holds 120\.\dMi; the new size 64Mi is smaller/.test(e.message));
  assert.equal((await a.volumes.resize(set1, 200 * MiB)).quota, 200 * MiB);
  await assert.rejects(a.volumes.resize(set1, 4096 * MiB), (e: unknown) => e instanceof WharfError && e.code === 'INSUFFICIENT_DISK');
});

test('btrfs: a snapshot is restored only while the set is stopped, with the same limit', { skip }, async () => {
  await exec('wharfvol_vol_1_app', 'echo before > /data/note');
  await a.volumes.createSnapshot(set1, 'snap1');
  assert.deepEqual((await a.volumes.snapshots(set1)).map((s) => s.name), ['snap1']);
  assert.ok(((await a.volumes.snapshots(set1))[0]?.used ?? 0) > 100 * MiB);
  await exec('wharfvol_vol_1_app', 'echo after > /data/note');
  await assert.rejects(a.volumes.restoreSnapshot(set1, 'snap1'), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_IN_USE');
  assert.equal(statusOf(await reconciler.reconcile(setObject(1, '200Mi', { generation: 3, desired: 'stopped' }), hooks)).phase, 'stopped');
  const u = await a.volumes.restoreSnapshot(set1, 'snap1');
  assert.equal(u.quota, 200 * MiB);
  assert.equal(statusOf(await reconciler.reconcile(setObject(1, '200Mi', { generation: 4 }), hooks)).phase, 'running');
  assert.equal((await exec('wharfvol_vol_1_app', 'cat /data/note')).out.trim(), 'before');
  // The quota still holds on the restored subvolume.
  assert.match((await exec('wharfvol_vol_1_app', 'dd if=/dev/zero of=/data/more bs=1M count=150 2>&1')).out, /Disk quota exceeded/);
  await exec('wharfvol_vol_1_app', 'rm -f /data/more');
});

test('btrfs: export/import between two pools (btrfs send) keeps the data and sets the limit', { skip }, async () => {
  await exec('wharfvol_vol_1_app', 'mkdir -p /data/tree && for i in 1 2 3; do dd if=/dev/urandom of=/data/tree/f$i bs=64k count=$i 2>/dev/null; done; ln -s tree/f1 /data/link; chmod 600 /data/tree/f2');
  statusOf(await reconciler.reconcile(setObject(1, '200Mi', { generation: 5, desired: 'stopped' }), hooks));
  const sum = await treeChecksum(a.volumes.path(set1));
  const u = await b.volumes.importVolume(set1, a.url, 300 * MiB);
  assert.equal(u.quota, 300 * MiB);
  assert.deepEqual(await treeChecksum(b.volumes.path(set1)), sum);
  assert.ok(await isSubvolume(join(b.dataDir, 'pool/volumes/wharfvol/vol/1')));
  assert.deepEqual(readdirSync(join(a.dataDir, 'pool/incoming')), [], 'the export snapshot is gone');
  assert.deepEqual(readdirSync(join(b.dataDir, 'pool/incoming')), []);
  await assert.rejects(b.volumes.importVolume(set1, a.url, 10 * MiB), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_TOO_SMALL');
  // The export the importer walked away from is stopped and its snapshot removed.
  for (let i = 0; i < 100 && readdirSync(join(a.dataDir, 'pool/incoming')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(readdirSync(join(a.dataDir, 'pool/incoming')), []);
});

test('btrfs: delete → recycle bin → restore with equal checksum; purge frees the pool', { skip }, async () => {
  const sum = await treeChecksum(a.volumes.path(set1));
  const deleted = await reconciler.reconcile(setObject(1, '200Mi', { generation: 6, deleting: true }), hooks);
  assert.deepEqual(deleted.report, { deleted: true });
  assert.ok(!existsSync(a.volumes.path(set1)));
  const bin = await a.volumes.trash();
  assert.equal(bin.length, 2, 'the volume the snapshot restore replaced, and this one');
  const entry = bin.at(-1);
  assert.ok(entry && entry.appkey === 'vol' && entry.used > 100 * MiB, JSON.stringify(bin));
  assert.ok(readdirSync(join(a.dataDir, 'recycle')).includes(entry.trashId), 'recycle/ shows the bin');
  const set2 = { ...set1, id: '2' };
  await a.volumes.restoreTrash(entry.trashId, set2);
  assert.deepEqual(await treeChecksum(a.volumes.path(set2)), sum);
  assert.deepEqual((await a.volumes.snapshots(set2)).map((s) => s.name), ['snap1'], 'its snapshots came along');

  await a.volumes.recycle(set2);
  const binned = await a.volumes.report();
  assert.ok((binned?.pool.trash ?? 0) > 100 * MiB, JSON.stringify(binned?.pool));
  const usedBefore = binned?.pool.used ?? 0;
  const purged = await a.volumes.purgeAll();
  assert.ok(purged.purged >= 1 && purged.bytes > 100 * MiB, JSON.stringify(purged));
  const after = await a.volumes.report();
  assert.deepEqual([after?.pool.trash, after?.pool.trashCount], [0, 0]);
  assert.ok((after?.pool.used ?? 0) < usedBefore - 50 * MiB, `pool used ${after?.pool.used} after purge, ${usedBefore} before`);
  // No stale quota group is left behind.
  assert.doesNotMatch(sh(`btrfs qgroup show -re --raw ${join(a.dataDir, 'pool')}`).out, /<stale>/);
});

test('xfs: the quota is the image size (ENOSPC past it, at least 300Mi) and it grows online; a btrfs volume imports as tar', { skip }, async () => {
  const x = await manager('x', 'xfs');
  const set = { ...set1, id: '7' };
  const created = await x.volumes.ensure(set, 64 * MiB);
  assert.match(created[0]?.message ?? '', /64Mi rounded up to 300Mi, the smallest xfs volume/);
  const path = x.volumes.path(set);
  assert.equal((await x.volumes.get(set)).quota, 300 * MiB);
  const full = sh(`dd if=/dev/zero of=${path}/big bs=1M count=400 2>&1`);
  assert.notEqual(full.code, 0);
  assert.match(full.out, /No space left on device/);
  await assert.rejects(x.volumes.resize(set, 350 * MiB).then(() => x.volumes.resize(set, 320 * MiB)), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_OP_UNSUPPORTED' && /xfs cannot shrink/.test(e.message));
  assert.equal((await x.volumes.resize(set, 512 * MiB)).quota, 512 * MiB);
  const more = sh(`dd if=/dev/zero of=${path}/more bs=1M count=100 2>&1`);
  assert.equal(more.code, 0, more.out);
  await assert.rejects(x.volumes.createSnapshot(set, 's'), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_OP_UNSUPPORTED');

  // Into XFS from btrfs: tar.
  const src = { ...set1, id: '8' };
  await b.volumes.ensure(src, 64 * MiB);
  sh(`mkdir -p ${b.volumes.path(src)}/d && echo hi > ${b.volumes.path(src)}/d/f && dd if=/dev/urandom of=${b.volumes.path(src)}/r bs=1k count=300 2>/dev/null`);
  const u = await x.volumes.importVolume(src, b.url, 64 * MiB);
  assert.equal(u.driver, 'xfs');
  assert.deepEqual(await treeChecksum(x.volumes.path(src)), await treeChecksum(b.volumes.path(src)));

  // Recycle bin: the image moves and is unmounted; restored, mounted again.
  const meta = await x.volumes.recycle(set);
  assert.ok(meta);
  assert.ok(!existsSync(join(path, 'more')));
  await x.volumes.restoreTrash(meta.trashId, set);
  assert.ok(existsSync(join(path, 'more')));
});
