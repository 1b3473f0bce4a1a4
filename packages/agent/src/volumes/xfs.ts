/**
 * The XFS driver (`--volume-driver xfs`), for hosts without btrfs: one sparse image
 * per volume under `<pool>/images/`, formatted with mkfs.xfs and loop-mounted at the
 * volume's path. The quota is the image's size (at least 300 MiB, the smallest XFS);
 * writing past it fails with ENOSPC. Grown online (truncate, `losetup -c`,
 * `xfs_growfs`); XFS cannot shrink, and there are no snapshots. Export is tar.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { formatBytes, setRef, WharfError } from '@wharf/types';
import type { SetIdentity } from '../containers.js';
import type { Commands } from './commands.js';
import type { ExportStream, PoolScan, SnapshotInfo, Staged, StreamFormat, VolumeDriver, VolumeStats } from './driver.js';
import { ensureDirs, linkDataDir, parseRef, poolDir, volumeRel } from './layout.js';
import { createSparse, fsStats, growSparse, loopOf } from './pool.js';
import { tarFrom, tarInto } from './tar.js';

export const XFS_MIN_BYTES = 300 * 1024 * 1024;
const BLOCK = 4096;

const unsupported = (what: string): WharfError =>
  new WharfError('VOLUME_OP_UNSUPPORTED', `${what}: this host's volumes are XFS images (--volume-driver xfs), which have no snapshots; use btrfs for that`);

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A mount point differs in device from its parent directory. */
async function isMounted(dir: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(dir), stat(dirname(dir))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

export class XfsDriver implements VolumeDriver {
  readonly name = 'xfs' as const;
  readonly minBytes = XFS_MIN_BYTES;
  readonly canShrink = false;
  readonly formats: StreamFormat[] = ['tar'];
  readonly pool: string;

  constructor(
    private readonly cmd: Commands,
    private readonly opts: { dataDir: string },
  ) {
    this.pool = poolDir(opts.dataDir);
  }

  private abs(rel: string): string {
    return join(this.pool, rel);
  }

  private image(set: SetIdentity): string {
    volumeRel(set);
    return this.abs(join('images', set.tenant, set.appkey, `${set.id}.img`));
  }

  private mountPoint(set: SetIdentity): string {
    return this.abs(volumeRel(set));
  }

  quotaFor(bytes: number): number {
    return this.size(bytes);
  }

  /** Requests rounded up to the smallest XFS and to whole blocks. */
  private size(bytes: number): number {
    return Math.ceil(Math.max(bytes, this.minBytes) / BLOCK) * BLOCK;
  }

  private async mount(image: string, dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (await isMounted(dir)) return;
    await this.cmd.run(['mount', '-t', 'xfs', '-o', 'loop', image, dir]);
  }

  private async unmount(dir: string): Promise<void> {
    if (await isMounted(dir)) await this.cmd.run(['umount', dir]);
  }

  private async images(): Promise<SetIdentity[]> {
    const out: SetIdentity[] = [];
    const base = this.abs('images');
    for (const tenant of await readdir(base).catch(() => [] as string[])) {
      for (const appkey of await readdir(join(base, tenant)).catch(() => [] as string[])) {
        for (const file of await readdir(join(base, tenant, appkey)).catch(() => [] as string[])) {
          const set = file.endsWith('.img') ? parseRef(`${tenant}/${appkey}/${file.slice(0, -4)}`) : undefined;
          if (set) out.push(set);
        }
      }
    }
    return out;
  }

  async setup(): Promise<string[]> {
    await ensureDirs(this.pool, ['images', 'volumes', 'trash', 'incoming']);
    const notes = await linkDataDir(this.opts.dataDir);
    for (const set of await this.images()) {
      if (await isMounted(this.mountPoint(set))) continue;
      await this.mount(this.image(set), this.mountPoint(set));
      notes.push(`mounted the volume of ${setRef(set)}`);
    }
    for (const name of await readdir(this.abs('incoming'))) {
      const path = this.abs(join('incoming', name));
      if (name.endsWith('.img')) await unlink(path);
      else {
        await this.unmount(path);
        await rmdir(path).catch(() => undefined);
      }
      notes.push(`removed incoming/${name}, left by an earlier run`);
    }
    return notes;
  }

  async scan(): Promise<PoolScan> {
    const scan: PoolScan = { pool: await fsStats(this.opts.dataDir), volumes: new Map(), trash: new Map(), snapshots: new Map() };
    for (const set of await this.images()) {
      const s = await this.stats(set);
      if (s) scan.volumes.set(setRef(set), { ...set, ...s });
    }
    for (const name of await readdir(this.abs('trash')).catch(() => [] as string[])) {
      if (name.endsWith('.json')) continue;
      const s = await stat(this.abs(join('trash', name))).catch(() => undefined);
      if (s?.isFile()) scan.trash.set(name, s.blocks * 512);
    }
    return scan;
  }

  async exists(set: SetIdentity): Promise<boolean> {
    return exists(this.image(set));
  }

  async stats(set: SetIdentity): Promise<VolumeStats | undefined> {
    let quota: number;
    try {
      quota = (await stat(this.image(set))).size;
    } catch {
      return undefined;
    }
    const dir = this.mountPoint(set);
    const used = (await isMounted(dir)) ? (await fsStats(dir)).used : 0;
    return { used, quota };
  }

  async create(set: SetIdentity, bytes: number): Promise<number> {
    const image = this.image(set);
    if (await exists(image)) return this.setQuota(set, bytes);
    const size = this.size(bytes);
    const dir = this.mountPoint(set);
    await mkdir(dirname(image), { recursive: true });
    await mkdir(dirname(dir), { recursive: true });
    // A plain directory in the way (Docker makes a missing bind source): its content moves in.
    let aside: string | undefined;
    if ((await exists(dir)) && !(await isMounted(dir)) && (await readdir(dir)).length > 0) {
      aside = this.abs(join('incoming', `plain-${randomBytes(4).toString('hex')}`));
      await rename(dir, aside);
    }
    await createSparse(image, size);
    try {
      await this.cmd.run(['mkfs.xfs', '-q', image]);
      await this.mount(image, dir);
    } catch (err) {
      await unlink(image).catch(() => undefined);
      throw err;
    }
    if (aside) {
      await this.cmd.run(['cp', '-a', `${aside}/.`, `${dir}/`], { timeoutMs: 30 * 60_000 });
      await this.cmd.run(['rm', '-rf', '--one-file-system', aside], { timeoutMs: 30 * 60_000 });
    }
    return size;
  }

  async setQuota(set: SetIdentity, bytes: number): Promise<number> {
    const image = this.image(set);
    const current = (await stat(image)).size;
    const size = this.size(bytes);
    if (size === current) return current;
    if (size < current) {
      throw new WharfError('VOLUME_OP_UNSUPPORTED', `XFS cannot shrink: the volume of ${setRef(set)} stays at ${formatBytes(current)} (asked for ${formatBytes(size)})`);
    }
    await growSparse(image, size);
    const loop = await loopOf(this.cmd, image);
    if (!loop) throw new Error(`the image ${image} is not attached to a loop device (is the volume mounted?)`);
    await this.cmd.run(['losetup', '-c', loop]);
    await this.cmd.run(['xfs_growfs', this.mountPoint(set)]);
    return size;
  }

  async toTrash(set: SetIdentity, trashId: string): Promise<void> {
    const dir = this.mountPoint(set);
    await this.unmount(dir);
    await rename(this.image(set), this.abs(join('trash', trashId)));
    await rmdir(dir).catch(() => undefined);
  }

  async fromTrash(trashId: string, set: SetIdentity): Promise<void> {
    const image = this.image(set);
    await mkdir(dirname(image), { recursive: true });
    await rename(this.abs(join('trash', trashId)), image);
    await this.mount(image, this.mountPoint(set));
  }

  async trashExists(trashId: string): Promise<boolean> {
    return exists(this.abs(join('trash', trashId)));
  }

  async purge(trashId: string): Promise<void> {
    await unlink(this.abs(join('trash', trashId))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    return [];
  }

  async snapshot(): Promise<void> {
    throw unsupported('cannot take a snapshot');
  }

  async deleteSnapshot(): Promise<void> {
    throw unsupported('no snapshot to delete');
  }

  async stageSnapshot(): Promise<Staged> {
    throw unsupported('cannot restore a snapshot');
  }

  async exportStream(set: SetIdentity, format: StreamFormat): Promise<ExportStream> {
    if (format !== 'tar') throw unsupported(`cannot export as ${format}`);
    const used = (await this.stats(set))?.used ?? 0;
    const proc = tarFrom(this.mountPoint(set));
    return { format, stream: proc.stdout, used, done: proc.done, abort: () => proc.kill() };
  }

  async stageImport(input: Readable, format: StreamFormat, bytes: number): Promise<Staged> {
    if (format !== 'tar') throw unsupported(`cannot import a ${format} stream`);
    const place = join('incoming', `import-${randomBytes(4).toString('hex')}`);
    const image = this.abs(`${place}.img`);
    await createSparse(image, this.size(bytes));
    try {
      await this.cmd.run(['mkfs.xfs', '-q', image]);
      await this.mount(image, this.abs(place));
      await tarInto(input, this.abs(place)).done;
      return { place };
    } catch (err) {
      await this.discard({ place });
      throw err;
    }
  }

  async install(staged: Staged, set: SetIdentity, bytes: number): Promise<number> {
    const image = this.image(set);
    if (await exists(image)) throw new WharfError('CONFLICT', `${image} exists: it must go to the recycle bin first`);
    await this.unmount(this.abs(staged.place));
    await rmdir(this.abs(staged.place)).catch(() => undefined);
    await mkdir(dirname(image), { recursive: true });
    await rename(this.abs(`${staged.place}.img`), image);
    await this.mount(image, this.mountPoint(set));
    const size = (await stat(image)).size;
    return this.size(bytes) > size ? this.setQuota(set, bytes) : size;
  }

  async discard(staged: Staged): Promise<void> {
    await this.unmount(this.abs(staged.place)).catch(() => undefined);
    await rmdir(this.abs(staged.place)).catch(() => undefined);
    await unlink(this.abs(`${staged.place}.img`)).catch(() => undefined);
  }
}
