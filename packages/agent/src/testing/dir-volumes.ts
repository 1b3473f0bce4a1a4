/**
 * A volume driver for tests: plain directories in the same layout as the real
 * drivers, limits kept in memory (not enforced), snapshots as copies, tar streams.
 * Lets the manager, the reconciler, the HTTP API and the agent be tested without
 * root, btrfs or loop devices. `testVolumes` gives a ready manager over it.
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { setRef } from '@wharf/types';
import type { SetIdentity } from '../containers.js';
import type { ExportStream, PoolScan, SnapshotInfo, Staged, StreamFormat, VolumeDriver, VolumeStats } from '../volumes/driver.js';
import { ensureDirs, linkDataDir, parseRef, poolDir, snapshotsRel, volumeRel } from '../volumes/layout.js';
import { VolumeManager, type VolumeManagerOptions } from '../volumes/manager.js';
import { fsStats } from '../volumes/pool.js';
import { tarFrom, tarInto } from '../volumes/tar.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of the regular files below `dir`. */
export async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

export class DirDriver implements VolumeDriver {
  readonly name = 'btrfs' as const;
  readonly minBytes = 1;
  readonly canShrink = true;
  readonly formats: StreamFormat[] = ['tar'];
  readonly pool: string;
  readonly quotas = new Map<string, number>();
  /** Every call, e.g. "create t/app/1 1048576". */
  readonly calls: string[] = [];
  /** When set, setup fails with this message. */
  failSetup: string | undefined;
  /** Pretends this much is free in the pool. */
  free: number | undefined;

  constructor(private readonly dataDir: string) {
    this.pool = poolDir(dataDir);
  }

  quotaFor(bytes: number): number {
    return bytes;
  }

  private abs(rel: string): string {
    return join(this.pool, rel);
  }

  async setup(): Promise<string[]> {
    this.calls.push('setup');
    if (this.failSetup) throw new Error(this.failSetup);
    await ensureDirs(this.pool, ['volumes', 'trash', 'snapshots', 'incoming']);
    return linkDataDir(this.dataDir);
  }

  async scan(): Promise<PoolScan> {
    const fs = await fsStats(this.dataDir);
    const scan: PoolScan = { pool: { ...fs, free: this.free ?? fs.free }, volumes: new Map(), trash: new Map(), snapshots: new Map() };
    const base = this.abs('volumes');
    for (const t of await readdir(base).catch(() => [] as string[])) {
      for (const a of await readdir(join(base, t)).catch(() => [] as string[])) {
        for (const id of await readdir(join(base, t, a)).catch(() => [] as string[])) {
          const set = parseRef(`${t}/${a}/${id}`);
          const s = set && (await this.stats(set));
          if (set && s) scan.volumes.set(setRef(set), { ...set, ...s });
        }
      }
    }
    for (const name of await readdir(this.abs('trash')).catch(() => [] as string[])) {
      if (!name.endsWith('.json') && !name.endsWith('.snapshots')) scan.trash.set(name, await du(this.abs(join('trash', name))));
    }
    return scan;
  }

  async exists(set: SetIdentity): Promise<boolean> {
    return exists(this.abs(volumeRel(set)));
  }

  async stats(set: SetIdentity): Promise<VolumeStats | undefined> {
    if (!(await this.exists(set))) return undefined;
    return { used: await du(this.abs(volumeRel(set))), quota: this.quotas.get(setRef(set)) ?? 0 };
  }

  async create(set: SetIdentity, bytes: number): Promise<number> {
    this.calls.push(`create ${setRef(set)} ${bytes}`);
    await mkdir(this.abs(volumeRel(set)), { recursive: true });
    this.quotas.set(setRef(set), bytes);
    return bytes;
  }

  async setQuota(set: SetIdentity, bytes: number): Promise<number> {
    this.calls.push(`limit ${setRef(set)} ${bytes}`);
    this.quotas.set(setRef(set), bytes);
    return bytes;
  }

  async toTrash(set: SetIdentity, trashId: string, withSnapshots = true): Promise<void> {
    this.calls.push(`trash ${setRef(set)} ${trashId}`);
    await rename(this.abs(volumeRel(set)), this.abs(join('trash', trashId)));
    if (withSnapshots && (await exists(this.abs(snapshotsRel(set))))) await rename(this.abs(snapshotsRel(set)), this.abs(join('trash', `${trashId}.snapshots`)));
    this.quotas.set(`trash:${trashId}`, this.quotas.get(setRef(set)) ?? 0);
    this.quotas.delete(setRef(set));
  }

  async fromTrash(trashId: string, set: SetIdentity): Promise<void> {
    this.calls.push(`untrash ${trashId} ${setRef(set)}`);
    await mkdir(dirname(this.abs(volumeRel(set))), { recursive: true });
    await rename(this.abs(join('trash', trashId)), this.abs(volumeRel(set)));
    const snaps = this.abs(join('trash', `${trashId}.snapshots`));
    if (await exists(snaps)) {
      await rm(this.abs(snapshotsRel(set)), { recursive: true, force: true });
      await mkdir(dirname(this.abs(snapshotsRel(set))), { recursive: true });
      await rename(snaps, this.abs(snapshotsRel(set)));
    }
    this.quotas.set(setRef(set), this.quotas.get(`trash:${trashId}`) ?? 0);
  }

  async trashExists(trashId: string): Promise<boolean> {
    return exists(this.abs(join('trash', trashId)));
  }

  async purge(trashId: string): Promise<void> {
    this.calls.push(`purge ${trashId}`);
    await rm(this.abs(join('trash', trashId)), { recursive: true, force: true });
    await rm(this.abs(join('trash', `${trashId}.snapshots`)), { recursive: true, force: true });
  }

  async snapshots(set: SetIdentity): Promise<SnapshotInfo[]> {
    const dir = this.abs(snapshotsRel(set));
    const out: SnapshotInfo[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      out.push({ name, createdAt: (await stat(join(dir, name))).mtime.toISOString(), used: await du(join(dir, name)) });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async snapshot(set: SetIdentity, name: string): Promise<void> {
    this.calls.push(`snapshot ${setRef(set)} ${name}`);
    await mkdir(this.abs(snapshotsRel(set)), { recursive: true });
    await cp(this.abs(volumeRel(set)), this.abs(join(snapshotsRel(set), name)), { recursive: true });
  }

  async deleteSnapshot(set: SetIdentity, name: string): Promise<void> {
    this.calls.push(`unsnapshot ${setRef(set)} ${name}`);
    await rm(this.abs(join(snapshotsRel(set), name)), { recursive: true, force: true });
  }

  async stageSnapshot(set: SetIdentity, name: string): Promise<Staged> {
    const place = join('incoming', `restore-${randomBytes(4).toString('hex')}`);
    await cp(this.abs(join(snapshotsRel(set), name)), this.abs(place), { recursive: true });
    return { place };
  }

  async exportStream(set: SetIdentity, format: StreamFormat): Promise<ExportStream> {
    const proc = tarFrom(this.abs(volumeRel(set)));
    return { format, stream: proc.stdout, used: await du(this.abs(volumeRel(set))), done: proc.done, abort: () => proc.kill() };
  }

  async stageImport(input: Readable): Promise<Staged> {
    const place = join('incoming', `import-${randomBytes(4).toString('hex')}`);
    await mkdir(this.abs(place));
    try {
      await tarInto(input, this.abs(place)).done;
    } catch (err) {
      await rm(this.abs(place), { recursive: true, force: true });
      throw err;
    }
    return { place };
  }

  async install(staged: Staged, set: SetIdentity, bytes: number): Promise<number> {
    this.calls.push(`install ${setRef(set)} ${bytes}`);
    await mkdir(dirname(this.abs(volumeRel(set))), { recursive: true });
    await rename(this.abs(staged.place), this.abs(volumeRel(set)));
    this.quotas.set(setRef(set), bytes);
    return bytes;
  }

  async discard(staged: Staged): Promise<void> {
    await rm(this.abs(staged.place), { recursive: true, force: true });
  }
}

/** A ready manager over a DirDriver in `dataDir`. */
export async function testVolumes(
  dataDir: string,
  over: Partial<VolumeManagerOptions> & { log?: Logger } = {},
): Promise<{ volumes: VolumeManager; driver: DirDriver }> {
  const driver = (over.driver as DirDriver | undefined) ?? new DirDriver(dataDir);
  const volumes = new VolumeManager({ dataDir, host: 'h1', retentionMs: 7 * 86400_000, log: pino({ level: 'silent' }), inUse: async () => false, ...over, driver });
  await volumes.setup();
  return { volumes, driver };
}
