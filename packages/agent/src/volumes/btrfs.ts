/**
 * The btrfs driver (default): one subvolume per volume with a qgroup limit on its
 * referenced bytes (a hard quota: writing past it fails with EDQUOT, "Disk quota
 * exceeded"), changed online in both directions. The recycle bin and staging are
 * renames inside the pool; snapshots are read-only subvolumes; export is `btrfs send`
 * of a read-only snapshot made for it.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setRef, WharfError } from '@wharf/types';
import type { SetIdentity } from '../containers.js';
import { spawnStream, type Commands } from './commands.js';
import type { ExportStream, PoolScan, SnapshotInfo, Staged, StreamFormat, VolumeDriver, VolumeStats } from './driver.js';
import { ensureDirs, linkDataDir, parseRef, poolDir, snapshotsRel, volumeRel } from './layout.js';
import { fsStats, setupBtrfsPool, type BtrfsPoolOptions } from './pool.js';
import { tarFrom, tarInto } from './tar.js';

/** One line of `btrfs qgroup show -re --raw`. */
export interface QgroupRow {
  /** Subvolume ID (level-0 qgroups only). */
  id: number;
  referenced: number;
  exclusive: number;
  /** Undefined when there is no limit. */
  maxReferenced?: number;
  /** Relative to the filesystem's top (btrfs-progs ≥ 5.x prints it). */
  path?: string;
}

const QGROUP_LINE = /^0\/(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(\S.*?))?\s*$/;

export function parseQgroups(text: string): QgroupRow[] {
  const rows: QgroupRow[] = [];
  for (const line of text.split('\n')) {
    const m = QGROUP_LINE.exec(line.trim());
    if (!m) continue;
    const max = Number(m[4]);
    const path = m[6];
    rows.push({
      id: Number(m[1]),
      referenced: Number(m[2]),
      exclusive: Number(m[3]),
      ...(Number.isFinite(max) && max > 0 ? { maxReferenced: max } : {}),
      ...(path && !path.startsWith('<') ? { path } : {}),
    });
  }
  return rows;
}

/** `btrfs subvolume list [-s]` lines → ID, path and (with -s, TZ=UTC) creation time. */
export function parseSubvolumes(text: string): { id: number; path: string; createdAt?: string }[] {
  const out: { id: number; path: string; createdAt?: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^ID (\d+) .*? path (.+)$/.exec(line.trim());
    if (!m?.[1] || !m[2]) continue;
    const t = /\botime (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\b/.exec(line);
    out.push({ id: Number(m[1]), path: m[2], ...(t ? { createdAt: `${t[1]}T${t[2]}Z` } : {}) });
  }
  return out;
}

type Place =
  | { kind: 'volume'; set: SetIdentity }
  | { kind: 'trash'; trashId: string }
  | { kind: 'trashSnapshot'; trashId: string }
  | { kind: 'snapshot'; set: SetIdentity; name: string };

/** What a pool-relative subvolume path is. */
export function classify(path: string): Place | undefined {
  const parts = path.split('/');
  if (parts[0] === 'volumes' && parts.length === 4) {
    const set = parseRef(parts.slice(1).join('/'));
    return set ? { kind: 'volume', set } : undefined;
  }
  if (parts[0] === 'snapshots' && parts.length === 5) {
    const set = parseRef(parts.slice(1, 4).join('/'));
    return set && parts[4] ? { kind: 'snapshot', set, name: parts[4] } : undefined;
  }
  if (parts[0] === 'trash' && parts[1]) {
    if (parts.length === 2 && !parts[1].endsWith('.snapshots')) return { kind: 'trash', trashId: parts[1] };
    if (parts.length === 3 && parts[1].endsWith('.snapshots')) return { kind: 'trashSnapshot', trashId: parts[1].slice(0, -'.snapshots'.length) };
  }
  return undefined;
}

/** btrfs subvolume roots are always inode 256. */
const SUBVOLUME_INODE = 256;

async function kindOf(path: string): Promise<'subvolume' | 'dir' | 'missing' | 'other'> {
  try {
    const s = await lstat(path);
    if (!s.isDirectory()) return 'other';
    return s.ino === SUBVOLUME_INODE ? 'subvolume' : 'dir';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

const NOT_THERE = /No such file|not exist|cannot find|ENOENT/i;

export class BtrfsDriver implements VolumeDriver {
  readonly name = 'btrfs' as const;
  readonly minBytes = 1024 * 1024;
  readonly canShrink = true;
  readonly formats: StreamFormat[] = ['btrfs', 'tar'];
  readonly pool: string;

  quotaFor(bytes: number): number {
    return Math.max(bytes, this.minBytes);
  }

  constructor(
    private readonly cmd: Commands,
    private readonly opts: BtrfsPoolOptions,
  ) {
    this.pool = poolDir(opts.dataDir);
  }

  private abs(rel: string): string {
    return join(this.pool, rel);
  }

  async setup(): Promise<string[]> {
    const notes = await setupBtrfsPool(this.cmd, this.opts);
    await ensureDirs(this.pool, ['volumes', 'trash', 'snapshots', 'incoming']);
    notes.push(...(await linkDataDir(this.opts.dataDir)));
    // Staged restores and imports of a run that died half-way.
    for (const name of await readdir(this.abs('incoming'))) {
      const path = this.abs(join('incoming', name));
      if (name.endsWith('.recv')) {
        for (const inner of await readdir(path)) await this.deleteSubvolume(join(path, inner));
        await rmdir(path).catch(() => undefined);
      } else {
        await this.deleteSubvolume(path);
      }
      notes.push(`removed incoming/${name}, left by an earlier run`);
    }
    return notes;
  }

  async scan(): Promise<PoolScan> {
    const [text, pool] = await Promise.all([this.cmd.read(['btrfs', 'qgroup', 'show', '-re', '--raw', this.pool]), fsStats(this.pool)]);
    let rows = parseQgroups(text);
    if (!/\bPath\b/.test(text.split('\n')[0] ?? '')) {
      // Older btrfs-progs print no paths: map IDs with one more command.
      const paths = new Map(parseSubvolumes(await this.cmd.read(['btrfs', 'subvolume', 'list', this.pool])).map((s) => [s.id, s.path]));
      rows = rows.map((r) => ({ ...r, ...(paths.has(r.id) ? { path: paths.get(r.id) } : {}) }));
    }
    const scan: PoolScan = { pool, volumes: new Map(), trash: new Map(), snapshots: new Map() };
    for (const r of rows) {
      const place = r.path === undefined ? undefined : classify(r.path);
      if (!place) continue;
      if (place.kind === 'volume') {
        scan.volumes.set(setRef(place.set), { ...place.set, used: r.referenced, quota: r.maxReferenced ?? 0 });
      } else if (place.kind === 'trash') {
        scan.trash.set(place.trashId, (scan.trash.get(place.trashId) ?? 0) + r.referenced);
      } else if (place.kind === 'trashSnapshot') {
        // Snapshots share most of their data with the volume: count what only they hold.
        scan.trash.set(place.trashId, (scan.trash.get(place.trashId) ?? 0) + r.exclusive);
      } else {
        const ref = setRef(place.set);
        const m = scan.snapshots.get(ref) ?? new Map<string, number>();
        m.set(place.name, r.referenced);
        scan.snapshots.set(ref, m);
      }
    }
    return scan;
  }

  async exists(set: SetIdentity): Promise<boolean> {
    return (await kindOf(this.abs(volumeRel(set)))) === 'subvolume';
  }

  async stats(set: SetIdentity, exact = false): Promise<VolumeStats | undefined> {
    if (!(await this.exists(set))) return undefined;
    return this.qgroupOf(this.abs(volumeRel(set)), exact);
  }

  private async qgroupOf(path: string, exact: boolean): Promise<VolumeStats> {
    const text = await this.cmd.read(['btrfs', 'qgroup', 'show', '-re', '--raw', ...(exact ? ['--sync'] : []), '-f', path]);
    const row = parseQgroups(text)[0];
    if (!row) throw new Error(`btrfs shows no quota group for ${path} (are quotas enabled?)`);
    return { used: row.referenced, quota: row.maxReferenced ?? 0 };
  }

  async create(set: SetIdentity, bytes: number): Promise<number> {
    const path = this.abs(volumeRel(set));
    await mkdir(dirname(path), { recursive: true });
    const k = await kindOf(path);
    if (k === 'subvolume') return this.setQuota(set, bytes);
    // A plain directory in the way (Docker makes a missing bind source): its content moves in.
    const aside = k === 'dir' ? this.abs(join('incoming', `plain-${randomBytes(4).toString('hex')}`)) : undefined;
    if (aside) await rename(path, aside);
    else if (k === 'other') throw new Error(`${path} is in the way (not a directory)`);
    await this.cmd.run(['btrfs', 'subvolume', 'create', path]);
    await this.cmd.run(['btrfs', 'qgroup', 'limit', String(bytes), path]);
    if (aside) {
      await this.cmd.run(['cp', '-a', '--reflink=auto', `${aside}/.`, `${path}/`], { timeoutMs: 30 * 60_000 });
      await this.cmd.run(['rm', '-rf', '--one-file-system', aside], { timeoutMs: 30 * 60_000 });
    }
    return bytes;
  }

  async setQuota(set: SetIdentity, bytes: number): Promise<number> {
    await this.cmd.run(['btrfs', 'qgroup', 'limit', String(bytes), this.abs(volumeRel(set))]);
    return bytes;
  }

  async toTrash(set: SetIdentity, trashId: string, withSnapshots = true): Promise<void> {
    await rename(this.abs(volumeRel(set)), this.abs(join('trash', trashId)));
    const snaps = this.abs(snapshotsRel(set));
    if (withSnapshots && (await kindOf(snaps)) === 'dir') await rename(snaps, this.abs(join('trash', `${trashId}.snapshots`)));
  }

  async fromTrash(trashId: string, set: SetIdentity): Promise<void> {
    const to = this.abs(volumeRel(set));
    await mkdir(dirname(to), { recursive: true });
    await rename(this.abs(join('trash', trashId)), to);
    const from = this.abs(join('trash', `${trashId}.snapshots`));
    if ((await kindOf(from)) !== 'dir') return;
    const snaps = this.abs(snapshotsRel(set));
    if ((await kindOf(snaps)) === 'dir' && (await readdir(snaps)).length === 0) await rmdir(snaps);
    if ((await kindOf(snaps)) === 'missing') {
      await mkdir(dirname(snaps), { recursive: true });
      await rename(from, snaps);
    } else {
      // The set has snapshots of its own: the restored volume's old ones go.
      await this.deleteTree(from);
    }
  }

  async trashExists(trashId: string): Promise<boolean> {
    return (await kindOf(this.abs(join('trash', trashId)))) !== 'missing';
  }

  async purge(trashId: string): Promise<void> {
    const ids = await this.deleteTree(this.abs(join('trash', `${trashId}.snapshots`)));
    const path = this.abs(join('trash', trashId));
    if ((await kindOf(path)) === 'subvolume') ids.push(...(await this.deleteSubvolume(path)));
    await this.settle(ids);
  }

  /** Deletes the snapshots in a directory and the directory; resolves with their IDs. */
  private async deleteTree(dir: string): Promise<number[]> {
    if ((await kindOf(dir)) !== 'dir') return [];
    const ids: number[] = [];
    for (const name of await readdir(dir)) ids.push(...(await this.deleteSubvolume(join(dir, name))));
    await rmdir(dir);
    return ids;
  }

  private async subvolumeId(path: string): Promise<number> {
    return Number((await this.cmd.read(['btrfs', 'inspect-internal', 'rootid', path])).trim());
  }

  /** Deletes one subvolume (nothing when it is not there); resolves with its ID. */
  private async deleteSubvolume(path: string): Promise<number[]> {
    const k = await kindOf(path);
    if (k === 'missing') return [];
    if (k !== 'subvolume') throw new Error(`${path} is not a subvolume`);
    const id = await this.subvolumeId(path);
    await this.cmd.run(['btrfs', 'subvolume', 'delete', '--commit-after', path], { tolerate: NOT_THERE });
    return [id];
  }

  /** Waits until deleted subvolumes are gone (their space free) and drops their quota groups. */
  private async settle(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.cmd.run(['btrfs', 'subvolume', 'sync', this.pool, ...ids.map(String)], { timeoutMs: 10 * 60_000 });
    // Freed extents count as free only after the next commit.
    await this.cmd.run(['btrfs', 'filesystem', 'sync', this.pool]);
    // Recent kernels drop them on their own; older ones leave them behind.
    for (const id of ids) await this.cmd.run(['btrfs', 'qgroup', 'destroy', `0/${id}`, this.pool], { tolerate: NOT_THERE });
  }

  async snapshots(set: SetIdentity): Promise<SnapshotInfo[]> {
    const dir = snapshotsRel(set);
    if ((await kindOf(this.abs(dir))) !== 'dir') return [];
    const [list, usage] = await Promise.all([
      this.cmd.read(['env', 'TZ=UTC', 'btrfs', 'subvolume', 'list', '-s', this.pool]),
      this.cmd.read(['btrfs', 'qgroup', 'show', '-re', '--raw', this.pool]),
    ]);
    const used = new Map(parseQgroups(usage).map((r) => [r.path, r.referenced]));
    const names = new Set(await readdir(this.abs(dir)));
    return parseSubvolumes(list)
      .filter((s) => s.path.startsWith(`${dir}/`) && names.has(s.path.slice(dir.length + 1)))
      .map((s) => ({ name: s.path.slice(dir.length + 1), createdAt: s.createdAt ?? new Date(0).toISOString(), used: used.get(s.path) ?? 0 }))
      .map((s) => ({ ...s, createdAt: new Date(s.createdAt).toISOString() }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  async snapshot(set: SetIdentity, name: string): Promise<void> {
    const dir = this.abs(snapshotsRel(set));
    await mkdir(dir, { recursive: true });
    await this.cmd.run(['btrfs', 'subvolume', 'snapshot', '-r', this.abs(volumeRel(set)), join(dir, name)]);
  }

  async deleteSnapshot(set: SetIdentity, name: string): Promise<void> {
    const ids = await this.deleteSubvolume(this.abs(join(snapshotsRel(set), name)));
    await this.settle(ids);
  }

  async stageSnapshot(set: SetIdentity, name: string): Promise<Staged> {
    const place = join('incoming', `restore-${randomBytes(4).toString('hex')}`);
    await this.cmd.run(['btrfs', 'subvolume', 'snapshot', this.abs(join(snapshotsRel(set), name)), this.abs(place)]);
    return { place };
  }

  async exportStream(set: SetIdentity, format: StreamFormat): Promise<ExportStream> {
    const snap = this.abs(join('incoming', `export-${randomBytes(4).toString('hex')}`));
    await this.cmd.run(['btrfs', 'subvolume', 'snapshot', '-r', this.abs(volumeRel(set)), snap]);
    let used = 0;
    try {
      used = (await this.qgroupOf(this.abs(volumeRel(set)), false)).used;
    } catch {
      // Usage is advisory for the importer.
    }
    const proc = format === 'btrfs' ? spawnStream(['btrfs', 'send', '-q', snap], { stdout: true }) : tarFrom(snap);
    // The snapshot goes once the stream is over, however it ended (setup removes what a crash leaves).
    void proc.done
      .catch(() => undefined)
      .then(async () => this.settle(await this.deleteSubvolume(snap)))
      .catch(() => undefined);
    return { format, stream: proc.stdout, used, done: proc.done, abort: () => proc.kill() };
  }

  async stageImport(input: Readable, format: StreamFormat, _bytes: number): Promise<Staged> {
    const place = join('incoming', `import-${randomBytes(4).toString('hex')}`);
    const target = this.abs(place);
    if (format === 'tar') {
      await this.cmd.run(['btrfs', 'subvolume', 'create', target]);
      try {
        await tarInto(input, target).done;
      } catch (err) {
        await this.deleteSubvolume(target).catch(() => undefined);
        throw err;
      }
      return { place };
    }
    // btrfs receive makes a read-only subvolume named after the sent snapshot; a writable snapshot of it is the volume.
    const recv = `${target}.recv`;
    await mkdir(recv);
    try {
      await spawnStream(['btrfs', 'receive', '-e', recv], { stdin: input }).done;
      const [name, ...more] = await readdir(recv);
      if (!name || more.length) throw new Error(`btrfs receive left ${more.length + (name ? 1 : 0)} subvolumes, expected one`);
      await this.cmd.run(['btrfs', 'subvolume', 'snapshot', join(recv, name), target]);
      return { place };
    } catch (err) {
      await this.deleteSubvolume(target).catch(() => undefined);
      throw err;
    } finally {
      for (const inner of await readdir(recv).catch(() => [] as string[])) await this.deleteSubvolume(join(recv, inner)).catch(() => undefined);
      await rmdir(recv).catch(() => undefined);
    }
  }

  async install(staged: Staged, set: SetIdentity, bytes: number): Promise<number> {
    const to = this.abs(volumeRel(set));
    await mkdir(dirname(to), { recursive: true });
    if ((await kindOf(to)) !== 'missing') throw new WharfError('CONFLICT', `${to} exists: it must go to the recycle bin first`);
    await rename(this.abs(staged.place), to);
    return this.setQuota(set, bytes);
  }

  async discard(staged: Staged): Promise<void> {
    await this.settle(await this.deleteSubvolume(this.abs(staged.place)));
  }
}

/** For tests: whether a path is a btrfs subvolume. */
export async function isSubvolume(path: string): Promise<boolean> {
  try {
    return (await stat(path)).ino === SUBVOLUME_INODE;
  } catch {
    return false;
  }
}
