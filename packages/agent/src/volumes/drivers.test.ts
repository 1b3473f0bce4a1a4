/** The drivers' pure parts and the commands they run, against a recording runner (no root, no btrfs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WharfError } from '@wharf/types';
import { RecordingRunner } from '../testing/recording-runner.js';
import { BtrfsDriver, classify, parseQgroups, parseSubvolumes } from './btrfs.js';
import { Commands } from './commands.js';
import { linkDataDir } from './layout.js';
import { setupBtrfsPool } from './pool.js';
import { XfsDriver, XFS_MIN_BYTES } from './xfs.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const QGROUPS = `Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path
--------    ----------    ---------  --------------  -------------   ----
0/5              16384        16384            none           none   <toplevel>
0/256         20987904     20987904        52428800           none   volumes/default/web/1
0/257            16384        16384            none           none   volumes/t/db/2
0/258          5259264      5259264            none           none   trash/20250101T000000.000Z_t_db_3
0/259          5259264        16384            none           none   trash/20250101T000000.000Z_t_db_3.snapshots/s1
0/260         20987904        16384        52428800           none   snapshots/default/web/1/nightly
0/261          1000000      1000000            none           none   <stale>
0/262          1000000      1000000            none           none   incoming/import-0a0b
1/100          1000000      1000000            none           none   <0 member qgroups>
`;

test('btrfs: qgroup lines parse, with limits and paths; stale and higher-level groups are left out', () => {
  const rows = parseQgroups(QGROUPS);
  assert.deepEqual(rows.map((r) => r.id), [5, 256, 257, 258, 259, 260, 261, 262]);
  assert.deepEqual(rows[1], { id: 256, referenced: 20987904, exclusive: 20987904, maxReferenced: 52428800, path: 'volumes/default/web/1' });
  assert.equal(rows[2]?.maxReferenced, undefined);
  assert.equal(rows[0]?.path, undefined, '<toplevel>');
  assert.equal(rows[6]?.path, undefined, '<stale>');
  // Old btrfs-progs print no path column.
  assert.deepEqual(parseQgroups('0/256 100 50 none none\n'), [{ id: 256, referenced: 100, exclusive: 50 }]);
});

test('btrfs: pool paths are classified', () => {
  assert.deepEqual(classify('volumes/t/a/1'), { kind: 'volume', set: { tenant: 't', appkey: 'a', id: '1' } });
  assert.deepEqual(classify('trash/x_1'), { kind: 'trash', trashId: 'x_1' });
  assert.deepEqual(classify('trash/x_1.snapshots/s'), { kind: 'trashSnapshot', trashId: 'x_1' });
  assert.deepEqual(classify('snapshots/t/a/1/s'), { kind: 'snapshot', set: { tenant: 't', appkey: 'a', id: '1' }, name: 's' });
  for (const p of ['incoming/import-1', 'volumes/t/a', 'volumes/t/a/1/nested', 'volumes/t/../1', 'other']) assert.equal(classify(p), undefined, p);
});

test('btrfs: subvolume lists parse with creation times (TZ=UTC)', () => {
  const text = 'ID 257 gen 9 cgen 9 top level 5 otime 2025-11-22 07:00:51 path snapshots/t/a/1/s1\nID 258 gen 9 top level 5 path volumes/t/a/1\n';
  assert.deepEqual(parseSubvolumes(text), [
    { id: 257, path: 'snapshots/t/a/1/s1', createdAt: '2025-11-22T07:00:51Z' },
    { id: 258, path: 'volumes/t/a/1' },
  ]);
});

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wharf-vol-'));
}

test('btrfs pool: a fresh loop file is made sparse, formatted, mounted and gets quotas', async () => {
  const dir = await tmp();
  try {
    const r = new RecordingRunner().answer(/^findmnt/, { code: 1 }).answer(/^blkid/, { code: 2 });
    const notes = await setupBtrfsPool(new Commands(r.run), { dataDir: dir, sizeBytes: 4 * GiB });
    const img = join(dir, 'pool.img');
    assert.deepEqual(r.lines(), [
      `findmnt -n -o SOURCE,FSTYPE --mountpoint ${dir}/pool`,
      `blkid -p -o value -s TYPE ${img}`,
      `mkfs.btrfs -q -L wharf-pool ${img}`,
      `mount -t btrfs -o loop,commit=5 ${img} ${dir}/pool`,
      `btrfs quota enable ${dir}/pool`,
    ]);
    const s = await stat(img);
    assert.equal(s.size, 4 * GiB);
    assert.ok(s.blocks * 512 < MiB, 'sparse');
    assert.equal(notes.length, 3);

    // The next start: the file holds btrfs and is mounted already.
    const again = new RecordingRunner().answer(/^findmnt/, { stdout: '/dev/loop3 btrfs\n' });
    await setupBtrfsPool(new Commands(again.run), { dataDir: dir, sizeBytes: 4 * GiB });
    assert.deepEqual(again.lines(), [`findmnt -n -o SOURCE,FSTYPE --mountpoint ${dir}/pool`, `btrfs quota enable ${dir}/pool`]);

    // After a reboot: not mounted, btrfs on it: mounted, not formatted. A larger --pool-size grows it online.
    const boot = new RecordingRunner().answer(/^findmnt/, { code: 1 }).answer(/^blkid/, { stdout: 'btrfs\n' }).answer(/^losetup -j/, { stdout: `/dev/loop7: []: (${img})\n` });
    await setupBtrfsPool(new Commands(boot.run), { dataDir: dir, sizeBytes: 6 * GiB });
    assert.deepEqual(boot.lines().slice(2), [
      `mount -t btrfs -o loop,commit=5 ${img} ${dir}/pool`,
      `losetup -j ${img}`,
      'losetup -c /dev/loop7',
      `btrfs filesystem resize max ${dir}/pool`,
      `btrfs quota enable ${dir}/pool`,
    ]);
    assert.equal((await stat(img)).size, 6 * GiB);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('btrfs pool: a device is formatted only when empty; another filesystem or mount is an error that says so', async () => {
  const dir = await tmp();
  try {
    const dev = join(dir, 'fake-dev');
    await writeFile(dev, '');
    const empty = new RecordingRunner().answer(/^findmnt/, { code: 1 }).answer(/^blkid/, { code: 2 });
    await setupBtrfsPool(new Commands(empty.run), { dataDir: dir, sizeBytes: GiB, device: dev });
    assert.ok(empty.lines().includes(`mkfs.btrfs -q -L wharf-pool ${dev}`));
    assert.ok(empty.lines().includes(`mount -t btrfs -o commit=5 ${dev} ${dir}/pool`));

    const ext4 = new RecordingRunner().answer(/^findmnt/, { code: 1 }).answer(/^blkid/, { stdout: 'ext4\n' });
    await assert.rejects(setupBtrfsPool(new Commands(ext4.run), { dataDir: dir, sizeBytes: GiB, device: dev }), /holds a ext4 filesystem: the agent formats only an empty device/);
    assert.ok(!ext4.lines().some((l) => l.startsWith('mkfs')));

    const mounted = new RecordingRunner().answer(/^findmnt/, { stdout: '/dev/vdb ext4\n' });
    await assert.rejects(setupBtrfsPool(new Commands(mounted.run), { dataDir: dir, sizeBytes: GiB }), /is a mounted ext4 filesystem, not the btrfs pool/);

    await assert.rejects(setupBtrfsPool(new Commands(new RecordingRunner().answer(/^findmnt/, { code: 1 }).run), { dataDir: dir, sizeBytes: GiB, device: '/dev/nope-wharf' }), /--pool-device \/dev\/nope-wharf does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('layout: volumes and recycle become links into the pool; an old volumes directory is kept as volumes.legacy', async () => {
  const dir = await tmp();
  try {
    await mkdir(join(dir, 'volumes/t/a/1'), { recursive: true });
    await mkdir(join(dir, 'recycle'));
    const notes = await linkDataDir(dir);
    assert.equal(await readlink(join(dir, 'volumes')), 'pool/volumes');
    assert.equal(await readlink(join(dir, 'recycle')), 'pool/trash');
    assert.ok((await stat(join(dir, 'volumes.legacy/t/a/1'))).isDirectory());
    assert.equal(notes.length, 1);
    assert.deepEqual(await linkDataDir(dir), [], 'idempotent');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('btrfs driver: a volume is a subvolume with a qgroup limit; resizing is one command; the scan is one command', async () => {
  const dir = await tmp();
  try {
    const r = new RecordingRunner().answer(/qgroup show -re --raw \S+$/, { stdout: QGROUPS });
    const d = new BtrfsDriver(new Commands(r.run), { dataDir: dir, sizeBytes: GiB });
    await mkdir(join(dir, 'pool'), { recursive: true });
    const set = { tenant: 'default', appkey: 'web', id: '1' };
    assert.equal(await d.create(set, 64 * MiB), 64 * MiB);
    await d.setQuota(set, 256 * MiB);
    const vol = join(dir, 'pool/volumes/default/web/1');
    assert.deepEqual(r.lines(), [`btrfs subvolume create ${vol}`, `btrfs qgroup limit ${64 * MiB} ${vol}`, `btrfs qgroup limit ${256 * MiB} ${vol}`]);
    assert.equal(d.quotaFor(10), MiB);

    r.clear();
    const scan = await d.scan();
    assert.deepEqual(r.lines(), [`btrfs qgroup show -re --raw ${dir}/pool`]);
    assert.deepEqual([...scan.volumes.values()], [
      { tenant: 'default', appkey: 'web', id: '1', used: 20987904, quota: 52428800 },
      { tenant: 't', appkey: 'db', id: '2', used: 16384, quota: 0 },
    ]);
    assert.deepEqual([...scan.trash], [['20250101T000000.000Z_t_db_3', 5259264 + 16384]]);
    assert.equal(scan.snapshots.get('default/web/1')?.get('nightly'), 20987904);
    assert.ok(scan.pool.size > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('xfs driver: an image per volume (at least 300Mi), grown online, never shrunk, no snapshots', async () => {
  const dir = await tmp();
  try {
    const r = new RecordingRunner();
    const d = new XfsDriver(new Commands(r.run), { dataDir: dir });
    await d.setup();
    const set = { tenant: 't', appkey: 'a', id: '1' };
    const img = join(dir, 'pool/images/t/a/1.img');
    const mnt = join(dir, 'pool/volumes/t/a/1');
    assert.equal(await d.create(set, 64 * MiB), XFS_MIN_BYTES, 'rounded up to the smallest XFS');
    assert.deepEqual(r.lines(), [`mkfs.xfs -q ${img}`, `mount -t xfs -o loop ${img} ${mnt}`]);
    assert.equal((await stat(img)).size, XFS_MIN_BYTES);
    assert.deepEqual(await d.stats(set), { used: 0, quota: XFS_MIN_BYTES }, 'not really mounted here: nothing used');

    r.clear();
    r.answer(/^losetup -j/, { stdout: `/dev/loop4: []: (${img})\n` });
    assert.equal(await d.setQuota(set, 512 * MiB), 512 * MiB);
    assert.deepEqual(r.lines(), [`losetup -j ${img}`, 'losetup -c /dev/loop4', `xfs_growfs ${mnt}`]);
    assert.equal((await stat(img)).size, 512 * MiB);
    await assert.rejects(d.setQuota(set, 400 * MiB), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_OP_UNSUPPORTED' && /XFS cannot shrink: the volume of t\/a\/1 stays at 512Mi \(asked for 400Mi\)/.test(e.message));
    await assert.rejects(d.snapshot(), (e: unknown) => e instanceof WharfError && e.code === 'VOLUME_OP_UNSUPPORTED');
    assert.deepEqual(await d.snapshots(), []);

    const scan = await d.scan();
    assert.deepEqual([...scan.volumes.values()], [{ tenant: 't', appkey: 'a', id: '1', used: 0, quota: 512 * MiB }]);
    await d.toTrash(set, 'x_1');
    assert.equal(await d.exists(set), false);
    assert.equal((await d.scan()).trash.has('x_1'), true);
    await d.fromTrash('x_1', set);
    assert.equal(await d.exists(set), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
