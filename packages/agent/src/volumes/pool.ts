/**
 * Setting up the btrfs pool: on a block device (`--pool-device`, formatted only when
 * it holds no filesystem) or on a sparse loop file `<data-dir>/pool.img` of
 * `--pool-size`; mounted at `<data-dir>/pool` (again after a reboot), quotas on. A
 * loop file smaller than `--pool-size` is grown online; a pool never shrinks.
 */
import { mkdir, open, stat, statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes } from '@wharf/types';
import type { Commands } from './commands.js';
import { POOL_IMAGE, poolDir } from './layout.js';
import type { PoolStats } from './driver.js';

export interface BtrfsPoolOptions {
  dataDir: string;
  /** Size of the loop file (ignored with a device). */
  sizeBytes: number;
  /** A block device to hold the pool instead of the loop file. */
  device?: string;
}

/** What is mounted at `dir` (exactly there), if anything. */
export async function mountedAt(cmd: Commands, dir: string): Promise<{ source: string; fstype: string } | undefined> {
  const r = await cmd.probe(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', dir]);
  if (r.code !== 0) return undefined;
  const [source, fstype] = r.stdout.trim().split('\n')[0]?.trim().split(/\s+/) ?? [];
  return source && fstype ? { source, fstype } : undefined;
}

/** The filesystem type on a device or image file; undefined when it holds none. */
export async function fsTypeOf(cmd: Commands, source: string): Promise<string | undefined> {
  const r = await cmd.probe(['blkid', '-p', '-o', 'value', '-s', 'TYPE', source]);
  // blkid exits 2 when it finds nothing to identify.
  if (r.code === 2) return undefined;
  if (r.code !== 0) throw new Error(`cannot probe ${source}: ${(r.stderr || r.stdout).trim() || `blkid exit code ${r.code}`}`);
  return r.stdout.trim() || undefined;
}

/** The loop device backing `file` (`losetup -j`), if any. */
export async function loopOf(cmd: Commands, file: string): Promise<string | undefined> {
  const out = await cmd.read(['losetup', '-j', file]);
  return /^(\/dev\/loop\d+):/m.exec(out)?.[1];
}

/** Creates a sparse file of `bytes` (no blocks written). */
export async function createSparse(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

/** Grows a sparse file to `bytes`. */
export async function growSparse(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

export async function fsStats(dir: string): Promise<PoolStats> {
  const s = await statfs(dir);
  const size = Number(s.blocks) * Number(s.bsize);
  return { size, used: (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize), free: Number(s.bavail) * Number(s.bsize) };
}

/** Formats (when empty), mounts and turns quotas on; resolves with what it did. */
export async function setupBtrfsPool(cmd: Commands, o: BtrfsPoolOptions): Promise<string[]> {
  const pool = poolDir(o.dataDir);
  const image = join(o.dataDir, POOL_IMAGE);
  const notes: string[] = [];
  await mkdir(pool, { recursive: true });
  const mounted = await mountedAt(cmd, pool);
  if (mounted && mounted.fstype !== 'btrfs') throw new Error(`${pool} is a mounted ${mounted.fstype} filesystem, not the btrfs pool: unmount it`);
  if (!mounted) {
    const source = o.device ?? image;
    if (o.device) {
      if (!existsSync(o.device)) throw new Error(`--pool-device ${o.device} does not exist`);
    } else if (!existsSync(image)) {
      await createSparse(image, o.sizeBytes);
      notes.push(`created the sparse pool file ${image} (${formatBytes(o.sizeBytes)})`);
    }
    const type = await fsTypeOf(cmd, source);
    if (!type) {
      await cmd.run(['mkfs.btrfs', '-q', '-L', 'wharf-pool', source]);
      notes.push(`formatted ${source} with btrfs`);
    } else if (type !== 'btrfs') {
      throw new Error(`${source} holds a ${type} filesystem: the agent formats only an empty ${o.device ? 'device' : 'file'} (use another --pool-device, or clear it yourself)`);
    }
    // commit=5: usage figures (qgroups) are at most 5 s old instead of 30.
    await cmd.run(['mount', '-t', 'btrfs', '-o', o.device ? 'commit=5' : 'loop,commit=5', source, pool]);
    notes.push(`mounted ${source} at ${pool}`);
  }
  if (!o.device && existsSync(image)) {
    const size = (await stat(image)).size;
    if (size < o.sizeBytes) {
      await growSparse(image, o.sizeBytes);
      const loop = await loopOf(cmd, image);
      if (loop) await cmd.run(['losetup', '-c', loop]);
      await cmd.run(['btrfs', 'filesystem', 'resize', 'max', pool]);
      notes.push(`grew the pool from ${formatBytes(size)} to ${formatBytes(o.sizeBytes)}`);
    } else if (size > o.sizeBytes) {
      notes.push(`the pool file is ${formatBytes(size)}, more than --pool-size ${formatBytes(o.sizeBytes)}: a pool never shrinks`);
    }
  }
  await cmd.run(['btrfs', 'quota', 'enable', pool]);
  return notes;
}
