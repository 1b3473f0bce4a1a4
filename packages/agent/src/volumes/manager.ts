/**
 * The volumes of this host, over one driver: what the reconciler, the HTTP API and
 * the heartbeat use. It adds to the driver what every driver shares:
 *
 * - the pool's readiness: set up at start, retried every 15 s while it fails (sets
 *   needing a volume fail with a VolumeFailed event meanwhile; the agent never stops);
 * - one operation at a time per volume and per recycle-bin entry;
 * - the size rules: a limit is never set below what the volume holds (VOLUME_TOO_SMALL),
 *   growing needs the pool's free space (INSUFFICIENT_DISK), XFS cannot shrink;
 * - the recycle bin: metadata, retention (purged every 5 minutes and at start);
 * - restores and imports only while no container of the set runs (VOLUME_IN_USE).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from 'pino';
import {
  formatBytes,
  isErrorCode,
  setRef,
  WharfError,
  type TrashEntry,
  type VolumeChecksum,
  type VolumePool,
  type VolumeSnapshot,
  type VolumeUsage,
} from '@wharf/types';
import { sleep } from '../backoff.js';
import { volumePath, type SetIdentity } from '../containers.js';
import { treeChecksum } from './checksum.js';
import { Commands } from './commands.js';
import type { ExportStream, StreamFormat, VolumeDriver, VolumeStats } from './driver.js';
import { isSafeName, LEGACY_VOLUMES, stamp } from './layout.js';
import { KeyedLock } from './locks.js';
import { isTrashId, listMetaIds, newTrashId, readMeta, removeMeta, writeMeta, type TrashMeta } from './trash.js';

export interface VolumeManagerOptions {
  driver: VolumeDriver;
  dataDir: string;
  /** This host's name (trash entries carry it). */
  host: string;
  /** How long a deleted volume stays in the recycle bin. */
  retentionMs: number;
  log: Logger;
  /** Whether a container of the set is running on this host (Engine.listSet). */
  inUse(set: SetIdentity): Promise<boolean>;
  /** Sent as the bearer token when pulling an export from another agent (the join token). */
  token?: string;
  /**
   * How an export is pulled from another agent. A host that joined with a one-use token
   * gives its certificate's fetch (tls/fetch.ts): the source agent takes another host's
   * certificate for exports. Default: the global fetch (plain HTTP, the join token).
   */
  fetch?: typeof fetch;
  /** Copies an earlier agent's plain volume directory into a new volume. Default: `cp -a`. */
  cmd?: Commands;
  now?: () => Date;
  retrySetupMs?: number;
  purgeCheckMs?: number;
  /**
   * How old the heartbeat's pool figures may be while no volume operation ran since
   * (writes inside containers change usage only): each scan is a btrfs command. Default 15 s.
   */
  reportMaxAgeMs?: number;
}

/** What a reconcile reports about the set's volume. */
export interface VolumeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** An API resize wins over an older spec for this long (until the server's spec catches up). */
export const RESIZE_GRACE_MS = 120_000;
/** Response headers of an export. */
export const EXPORT_HEADERS = { format: 'x-wharf-volume-format', used: 'x-wharf-volume-used' } as const;

export class VolumeManager {
  private readonly locks = new KeyedLock();
  private readonly driver: VolumeDriver;
  private readyState: { ready: boolean; error?: string } = { ready: false, error: 'not set up yet' };
  private lastLoggedError: string | undefined;
  /** Limits set through the API, by set ref, kept against an older spec for RESIZE_GRACE_MS. */
  private readonly overrides = new Map<string, { bytes: number; until: number }>();
  /** The limit of each volume as this agent last set or read it in ensure (see there). */
  private readonly confirmed = new Map<string, number>();
  /** Bumped when a volume or bin operation ends: the next report scans again. */
  private operations = 0;
  private lastReport: { at: number; operations: number; value: { pool: VolumePool; volumes: VolumeUsage[] } } | undefined;
  /** The last size warning per set, so a resync does not repeat it. */
  private readonly warned = new Map<string, string>();
  private readonly now: () => Date;
  private readonly cmd: Commands;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.driver = opts.driver;
    this.cmd = opts.cmd ?? new Commands();
    this.now = opts.now ?? (() => new Date());
  }

  get driverName(): VolumeDriver['name'] {
    return this.driver.name;
  }

  get ready(): boolean {
    return this.readyState.ready;
  }

  /** Why the pool is not ready (undefined when it is). */
  get error(): string | undefined {
    return this.readyState.ready ? undefined : this.readyState.error;
  }

  private get trashDir(): string {
    return join(this.driver.pool, 'trash');
  }

  /** The first setup attempt; then retries (while failing) and recycle-bin purges run in `loop` until `signal` aborts. */
  async start(signal: AbortSignal): Promise<{ loop: Promise<void> }> {
    await this.setup();
    return { loop: this.background(signal) };
  }

  /** One setup attempt; resolves with whether the pool is ready. */
  async setup(): Promise<boolean> {
    try {
      const notes = await this.driver.setup();
      this.readyState = { ready: true };
      this.lastLoggedError = undefined;
      this.opts.log.info({ driver: this.driver.name, pool: this.driver.pool, done: notes }, 'volume pool ready');
      await this.purgeExpired().catch((err: unknown) => this.opts.log.warn({ err: text(err) }, 'cannot purge the recycle bin'));
      return true;
    } catch (err) {
      const message = text(err);
      this.readyState = { ready: false, error: message };
      if (message !== this.lastLoggedError) {
        this.lastLoggedError = message;
        this.opts.log.error({ driver: this.driver.name, pool: this.driver.pool, err: message }, 'the volume pool cannot be set up: sets that need a volume fail until it can (retrying)');
      }
      return false;
    }
  }

  private async background(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.ready ? (this.opts.purgeCheckMs ?? 5 * 60_000) : (this.opts.retrySetupMs ?? 15_000), signal);
      if (signal.aborted) return;
      if (!this.ready) await this.setup();
      else await this.purgeExpired().catch((err: unknown) => this.opts.log.warn({ err: text(err) }, 'cannot purge the recycle bin'));
    }
  }

  private assertReady(): void {
    if (!this.readyState.ready) throw new WharfError('INTERNAL', `the volume pool of this host is not ready: ${this.readyState.error ?? 'unknown'}`);
  }

  path(set: SetIdentity): string {
    return volumePath(this.opts.dataDir, set);
  }

  private usage(set: SetIdentity, s: VolumeStats): VolumeUsage {
    return { tenant: set.tenant, appkey: set.appkey, id: set.id, driver: this.driver.name, used: s.used, quota: s.quota, path: this.path(set) };
  }

  /** Every operation on a volume but ensure's own check forgets its confirmed limit first. */
  private withVolume<T>(set: SetIdentity, fn: () => Promise<T>): Promise<T> {
    this.assertReady();
    volumePath('/', set);
    const ref = setRef(set);
    this.confirmed.delete(ref);
    return this.counted(this.locks.run(`volume:${ref}`, fn));
  }

  private async counted<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } finally {
      this.operations++;
    }
  }

  private async mustStats(set: SetIdentity, exact = false): Promise<VolumeStats> {
    const s = await this.driver.stats(set, exact);
    if (!s) throw new WharfError('VOLUME_NOT_FOUND', `no volume of set ${setRef(set)} on host ${this.opts.host}`);
    return s;
  }

  private async notInUse(set: SetIdentity, what: string): Promise<void> {
    if (await this.opts.inUse(set)) {
      throw new WharfError('VOLUME_IN_USE', `cannot ${what}: set ${setRef(set)} has running containers on host ${this.opts.host}; stop the set first`);
    }
  }

  // ── Reconciler ──────────────────────────────────────────────────────────────

  /**
   * The set's volume exists and its limit is `bytes` (the set's disk); idempotent,
   * online. A limit below what the volume holds (or any shrink on XFS) is refused
   * with a warning, once, and the limit is left as it is.
   */
  async ensure(set: SetIdentity, bytes: number): Promise<VolumeEvent[]> {
    const ref = setRef(set);
    // Every reconcile of every set lands here; reading the quota group is a btrfs command
    // (a process spawned), so a limit this agent set or read, untouched since, is trusted.
    if (this.ready && this.confirmed.get(ref) === this.driver.quotaFor(this.target(ref, bytes)) && (await this.driver.exists(set))) return [];
    return this.withVolume(set, async () => {
      const want = this.driver.quotaFor(this.target(ref, bytes));
      const stats = await this.driver.stats(set);
      if (!stats) {
        const quota = await this.driver.create(set, want);
        this.confirmed.set(ref, quota);
        const notes = [`hard limit ${formatBytes(quota)}`];
        if (quota > bytes) notes.push(`${formatBytes(bytes)} rounded up to ${formatBytes(quota)}, the smallest ${this.driver.name} volume`);
        if (await this.migrateLegacy(set)) notes.push("with the data of the earlier agent's plain directory");
        this.warned.delete(ref);
        return [{ type: 'Normal', reason: 'VolumeCreated', message: `Created the volume (${this.driver.name}, ${notes.join('; ')})` }];
      }
      if (stats.quota === want) {
        this.warned.delete(ref);
        this.confirmed.set(ref, want);
        return [];
      }
      if (stats.quota > 0 && want < stats.quota) {
        if (!this.driver.canShrink) {
          return this.warnOnce(ref, `${this.driver.name} cannot shrink: the volume stays at ${formatBytes(stats.quota)} (the set asks for ${formatBytes(want)})`);
        }
        const exact = await this.mustStats(set, true);
        if (exact.used > want) {
          return this.warnOnce(ref, `the volume holds ${formatBytes(exact.used)}; the new size ${formatBytes(want)} is smaller: the limit stays at ${formatBytes(stats.quota)}`);
        }
      }
      const quota = await this.driver.setQuota(set, want);
      this.confirmed.set(ref, quota);
      this.warned.delete(ref);
      return [{ type: 'Normal', reason: 'VolumeResized', message: `Volume limit changed online from ${stats.quota ? formatBytes(stats.quota) : 'none'} to ${formatBytes(quota)}` }];
    });
  }

  private target(ref: string, bytes: number): number {
    const o = this.overrides.get(ref);
    if (!o) return bytes;
    if (o.bytes === bytes || this.now().getTime() > o.until) {
      this.overrides.delete(ref);
      return bytes;
    }
    return o.bytes;
  }

  private warnOnce(ref: string, message: string): VolumeEvent[] {
    if (this.warned.get(ref) === message) return [];
    this.warned.set(ref, message);
    return [{ type: 'Warning', reason: 'VolumeResizeRefused', message }];
  }

  /** An earlier agent's plain directory for this set (see layout.ts): copied in, then removed. */
  private async migrateLegacy(set: SetIdentity): Promise<boolean> {
    const legacy = join(this.opts.dataDir, LEGACY_VOLUMES, set.tenant, set.appkey, set.id);
    if (!existsSync(legacy)) return false;
    await this.cmd.run(['cp', '-a', `${legacy}/.`, `${this.path(set)}/`], { timeoutMs: 30 * 60_000 });
    await this.cmd.run(['rm', '-rf', '--one-file-system', legacy], { timeoutMs: 30 * 60_000 });
    this.opts.log.info({ set: setRef(set), from: legacy }, "copied an earlier agent's volume directory into the new volume");
    return true;
  }

  /** Moves the set's volume to the recycle bin; undefined when it has none. */
  async recycle(set: SetIdentity, reason = 'the set was deleted'): Promise<TrashMeta | undefined> {
    return this.withVolume(set, () => this.recycleLocked(set, reason, true));
  }

  private async recycleLocked(set: SetIdentity, reason: string, withSnapshots: boolean): Promise<TrashMeta | undefined> {
    const stats = await this.driver.stats(set);
    if (!stats) return undefined;
    const now = this.now();
    const base = newTrashId(set, now);
    let trashId = base;
    for (let i = 2; (await this.driver.trashExists(trashId)) || existsSync(join(this.trashDir, `${trashId}.json`)); i++) trashId = `${base}-${i}`;
    const meta: TrashMeta = { trashId, ...pick(set), driver: this.driver.name, quota: stats.quota, used: stats.used, deletedAt: now.toISOString(), reason };
    await writeMeta(this.trashDir, meta);
    try {
      await this.driver.toTrash(set, trashId, withSnapshots);
    } catch (err) {
      await removeMeta(this.trashDir, trashId).catch(() => undefined);
      throw err;
    }
    this.overrides.delete(setRef(set));
    this.warned.delete(setRef(set));
    this.opts.log.info({ set: setRef(set), trashId, reason }, 'volume moved to the recycle bin');
    return meta;
  }

  // ── Volumes ─────────────────────────────────────────────────────────────────

  async list(): Promise<VolumeUsage[]> {
    this.assertReady();
    const scan = await this.driver.scan();
    return [...scan.volumes.values()].map((v) => this.usage(v, v)).sort((a, b) => this.path(a).localeCompare(this.path(b)));
  }

  async get(set: SetIdentity): Promise<VolumeUsage> {
    return this.withVolume(set, async () => this.usage(set, await this.mustStats(set)));
  }

  /** Changes the limit online (see the size rules above). */
  async resize(set: SetIdentity, bytes: number): Promise<VolumeUsage> {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new WharfError('BAD_REQUEST', `bytes must be a positive number of bytes, not ${JSON.stringify(bytes)}`);
    return this.withVolume(set, async () => {
      const stats = await this.mustStats(set, true);
      const want = this.driver.quotaFor(bytes);
      const ref = setRef(set);
      if (want < stats.quota && !this.driver.canShrink) {
        throw new WharfError('VOLUME_OP_UNSUPPORTED', `${this.driver.name} cannot shrink: the volume of ${ref} is ${formatBytes(stats.quota)}, the new size ${formatBytes(want)} is smaller (it can only grow)`);
      }
      if (want < stats.used) {
        throw new WharfError('VOLUME_TOO_SMALL', `the volume of ${ref} holds ${formatBytes(stats.used)}; the new size ${formatBytes(bytes)} is smaller`, { used: stats.used, requested: bytes });
      }
      if (want > stats.quota) {
        const { pool } = await this.driver.scan();
        if (want - stats.quota > pool.free) {
          throw new WharfError('INSUFFICIENT_DISK', `growing the volume of ${ref} by ${formatBytes(want - stats.quota)} needs more than the ${formatBytes(pool.free)} free in host ${this.opts.host}'s pool`, { free: pool.free, requested: bytes });
        }
      }
      const quota = want === stats.quota ? stats.quota : await this.driver.setQuota(set, want);
      this.overrides.set(ref, { bytes, until: this.now().getTime() + RESIZE_GRACE_MS });
      this.warned.delete(ref);
      this.opts.log.info({ set: ref, from: stats.quota, to: quota }, 'volume resized');
      return this.usage(set, { used: stats.used, quota });
    });
  }

  async checksum(set: SetIdentity): Promise<VolumeChecksum> {
    await this.withVolume(set, () => this.mustStats(set));
    return treeChecksum(join(this.driver.pool, 'volumes', set.tenant, set.appkey, set.id));
  }

  // ── Recycle bin ─────────────────────────────────────────────────────────────

  private entry(meta: TrashMeta, used: number | undefined): TrashEntry {
    const purgeAt = new Date(Date.parse(meta.deletedAt) + this.opts.retentionMs).toISOString();
    return { trashId: meta.trashId, host: this.opts.host, tenant: meta.tenant, appkey: meta.appkey, id: meta.id, driver: meta.driver, used: used ?? meta.used, quota: meta.quota, deletedAt: meta.deletedAt, purgeAt };
  }

  async trash(): Promise<TrashEntry[]> {
    this.assertReady();
    const scan = await this.driver.scan();
    const out: TrashEntry[] = [];
    for (const id of await listMetaIds(this.trashDir)) {
      const meta = await readMeta(this.trashDir, id);
      if (!meta || !(scan.trash.has(id) || (await this.driver.trashExists(id)))) continue;
      out.push(this.entry(meta, scan.trash.get(id)));
    }
    return out.sort((a, b) => a.deletedAt.localeCompare(b.deletedAt) || a.trashId.localeCompare(b.trashId));
  }

  private withTrash<T>(trashId: string, fn: () => Promise<T>): Promise<T> {
    this.assertReady();
    if (!isTrashId(trashId)) throw new WharfError('TRASH_NOT_FOUND', `no recycle-bin entry ${JSON.stringify(trashId)} on host ${this.opts.host}`);
    return this.counted(this.locks.run(`trash:${trashId}`, fn));
  }

  private async mustTrash(trashId: string): Promise<TrashMeta> {
    const meta = await readMeta(this.trashDir, trashId);
    if (!meta || !(await this.driver.trashExists(trashId))) throw new WharfError('TRASH_NOT_FOUND', `no recycle-bin entry ${trashId} on host ${this.opts.host}`);
    return meta;
  }

  /** The entry becomes the set's volume; a volume the set has goes to the bin first. */
  async restoreTrash(trashId: string, set: SetIdentity): Promise<VolumeUsage> {
    this.assertReady();
    volumePath('/', set);
    if (!isTrashId(trashId)) throw new WharfError('TRASH_NOT_FOUND', `no recycle-bin entry ${JSON.stringify(trashId)} on host ${this.opts.host}`);
    return this.counted(this.locks.runAll([`volume:${setRef(set)}`, `trash:${trashId}`], async () => {
      const meta = await this.mustTrash(trashId);
      if (meta.driver !== this.driver.name) throw new WharfError('VOLUME_OP_UNSUPPORTED', `entry ${trashId} is a ${meta.driver} volume; this host's volumes are ${this.driver.name}`);
      await this.notInUse(set, `restore ${trashId} into its volume`);
      if (await this.driver.exists(set)) await this.recycleLocked(set, `replaced by recycle-bin entry ${trashId}`, true);
      await this.driver.fromTrash(trashId, set);
      await removeMeta(this.trashDir, trashId);
      this.overrides.delete(setRef(set));
      this.confirmed.delete(setRef(set));
      this.opts.log.info({ set: setRef(set), trashId }, 'volume restored from the recycle bin');
      return this.usage(set, await this.mustStats(set));
    }));
  }

  /** Deletes an entry for good; resolves with the bytes it held. */
  async purge(trashId: string): Promise<number> {
    return this.withTrash(trashId, async () => {
      const meta = await readMeta(this.trashDir, trashId);
      const exists = await this.driver.trashExists(trashId);
      if (!meta && !exists) throw new WharfError('TRASH_NOT_FOUND', `no recycle-bin entry ${trashId} on host ${this.opts.host}`);
      const bytes = exists ? ((await this.driver.scan()).trash.get(trashId) ?? meta?.used ?? 0) : 0;
      if (exists) await this.driver.purge(trashId);
      await removeMeta(this.trashDir, trashId);
      this.opts.log.info({ trashId, bytes }, 'purged from the recycle bin');
      return bytes;
    });
  }

  async purgeAll(): Promise<{ purged: number; bytes: number }> {
    this.assertReady();
    const scan = await this.driver.scan();
    const ids = new Set([...(await listMetaIds(this.trashDir)), ...scan.trash.keys()].filter(isTrashId));
    let purged = 0;
    let bytes = 0;
    for (const id of ids) {
      try {
        const had = await this.driver.trashExists(id);
        bytes += await this.purge(id);
        if (had) purged++;
      } catch (err) {
        if (!(err instanceof WharfError && err.code === 'TRASH_NOT_FOUND')) throw err;
      }
    }
    return { purged, bytes };
  }

  /** Purges what is past the retention; resolves with how many. */
  async purgeExpired(): Promise<number> {
    this.assertReady();
    const limit = this.now().getTime() - this.opts.retentionMs;
    let n = 0;
    for (const id of await listMetaIds(this.trashDir)) {
      const meta = await readMeta(this.trashDir, id);
      if (!meta || Date.parse(meta.deletedAt) > limit) continue;
      await this.purge(id).catch((err: unknown) => {
        if (!(err instanceof WharfError && err.code === 'TRASH_NOT_FOUND')) throw err;
      });
      n++;
    }
    if (n > 0) this.opts.log.info({ purged: n }, 'purged the recycle bin past its retention');
    return n;
  }

  // ── Snapshots ───────────────────────────────────────────────────────────────

  async snapshots(set: SetIdentity): Promise<VolumeSnapshot[]> {
    return this.withVolume(set, async () => {
      await this.mustStats(set);
      return this.driver.snapshots(set);
    });
  }

  async createSnapshot(set: SetIdentity, name?: string): Promise<VolumeSnapshot> {
    const n = name ?? stamp(this.now());
    if (!isSafeName(n)) throw new WharfError('BAD_REQUEST', `"${n}" cannot be a snapshot name (letters, digits, '.', '_', '-'; at most 128; starting with a letter or digit)`);
    return this.withVolume(set, async () => {
      await this.mustStats(set);
      if ((await this.driver.snapshots(set)).some((s) => s.name === n)) throw new WharfError('CONFLICT', `volume ${setRef(set)} already has a snapshot named ${n}`);
      await this.driver.snapshot(set, n);
      const made = (await this.driver.snapshots(set)).find((s) => s.name === n);
      this.opts.log.info({ set: setRef(set), snapshot: n }, 'snapshot taken');
      return made ?? { name: n, createdAt: this.now().toISOString(), used: 0 };
    });
  }

  private async mustSnapshot(set: SetIdentity, name: string): Promise<void> {
    if (!isSafeName(name) || !(await this.driver.snapshots(set)).some((s) => s.name === name)) {
      throw new WharfError('SNAPSHOT_NOT_FOUND', `volume ${setRef(set)} has no snapshot ${JSON.stringify(name)} on host ${this.opts.host}`);
    }
  }

  /**
   * The volume becomes a writable copy of the snapshot, with the same limit; the
   * volume it replaces goes to the recycle bin (its snapshots stay).
   */
  async restoreSnapshot(set: SetIdentity, name: string): Promise<VolumeUsage> {
    return this.withVolume(set, async () => {
      await this.notInUse(set, `restore snapshot ${name}`);
      await this.mustSnapshot(set, name);
      const before = await this.driver.stats(set);
      const staged = await this.driver.stageSnapshot(set, name);
      let quota: number;
      try {
        if (before) await this.recycleLocked(set, `replaced by snapshot ${name}`, false);
        quota = await this.driver.install(staged, set, before?.quota || this.driver.quotaFor(1));
      } catch (err) {
        await this.driver.discard(staged).catch(() => undefined);
        throw err;
      }
      this.opts.log.info({ set: setRef(set), snapshot: name }, 'snapshot restored');
      const s = await this.mustStats(set);
      return this.usage(set, { used: s.used, quota });
    });
  }

  async deleteSnapshot(set: SetIdentity, name: string): Promise<void> {
    await this.withVolume(set, async () => {
      await this.mustSnapshot(set, name);
      await this.driver.deleteSnapshot(set, name);
      this.opts.log.info({ set: setRef(set), snapshot: name }, 'snapshot deleted');
    });
  }

  // ── Export, import ──────────────────────────────────────────────────────────

  /** The volume's content as a stream, in the first of `formats` the driver can make. */
  async exportVolume(set: SetIdentity, formats: StreamFormat[] = this.driver.formats): Promise<ExportStream> {
    return this.withVolume(set, async () => {
      await this.mustStats(set);
      const format = formats.find((f) => this.driver.formats.includes(f));
      if (!format) throw new WharfError('VOLUME_OP_UNSUPPORTED', `this host's ${this.driver.name} volumes export as ${this.driver.formats.join(' or ')}, not ${formats.join(' or ')}`);
      return this.driver.exportStream(set, format);
    });
  }

  /**
   * Pulls the set's volume from the agent at `from` (its export), with this host's
   * certificate or join token, and makes it the set's volume here with limit `quota`; a volume the
   * set has here goes to the recycle bin first.
   */
  async importVolume(set: SetIdentity, from: string, quota: number): Promise<VolumeUsage> {
    let base: URL;
    try {
      base = new URL(from);
      if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new WharfError('BAD_REQUEST', `from must be the source agent's http(s) URL, not ${JSON.stringify(from)}`);
    }
    if (!Number.isSafeInteger(quota) || quota <= 0) throw new WharfError('BAD_REQUEST', `quota must be a positive number of bytes, not ${JSON.stringify(quota)}`);
    return this.withVolume(set, async () => {
      const ref = setRef(set);
      await this.notInUse(set, `import the volume of ${ref}`);
      const url = `${from.replace(/\/+$/, '')}/v1/volumes/${[set.tenant, set.appkey, set.id].map(encodeURIComponent).join('/')}/export?formats=${this.driver.formats.join(',')}`;
      const abort = new AbortController();
      let res: Response;
      try {
        res = await (this.opts.fetch ?? fetch)(url, { headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}, signal: abort.signal });
      } catch (err) {
        throw new WharfError('HOST_UNREACHABLE', `cannot reach the source agent at ${from}: ${text((err as { cause?: unknown }).cause ?? err)}`);
      }
      if (!res.ok || !res.body) throw await sourceError(res, from);
      const format = res.headers.get(EXPORT_HEADERS.format) as StreamFormat | null;
      const used = Number(res.headers.get(EXPORT_HEADERS.used)) || 0;
      try {
        if (!format || !this.driver.formats.includes(format)) throw new WharfError('VOLUME_OP_UNSUPPORTED', `the source agent sent a ${format ?? 'unknown'} stream; this host's ${this.driver.name} volumes take ${this.driver.formats.join(' or ')}`);
        if (used > this.driver.quotaFor(quota)) throw new WharfError('VOLUME_TOO_SMALL', `the volume of ${ref} holds ${formatBytes(used)}; the new size ${formatBytes(quota)} is smaller`, { used, requested: quota });
        const { pool } = await this.driver.scan();
        if (used > pool.free) throw new WharfError('INSUFFICIENT_DISK', `the volume of ${ref} holds ${formatBytes(used)}, more than the ${formatBytes(pool.free)} free in host ${this.opts.host}'s pool`, { free: pool.free, used });
      } catch (err) {
        abort.abort();
        throw err;
      }
      const input = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      const staged = await this.driver.stageImport(input, format, quota);
      let q: number;
      try {
        if (await this.driver.exists(set)) await this.recycleLocked(set, `replaced by an import from ${from}`, true);
        q = await this.driver.install(staged, set, this.driver.quotaFor(quota));
      } catch (err) {
        await this.driver.discard(staged).catch(() => undefined);
        throw err;
      }
      this.overrides.delete(ref);
      this.opts.log.info({ set: ref, from, format, bytes: used }, 'volume imported');
      const s = await this.mustStats(set);
      return this.usage(set, { used: s.used, quota: q });
    });
  }

  // ── Heartbeat ───────────────────────────────────────────────────────────────

  /**
   * The pool and every volume, from one pass (one command for btrfs), at most
   * `reportMaxAgeMs` old unless a volume operation ended since. Undefined while the pool
   * is not ready.
   */
  async report(): Promise<{ pool: VolumePool; volumes: VolumeUsage[] } | undefined> {
    if (!this.ready) return undefined;
    const now = this.now().getTime();
    const last = this.lastReport;
    if (last && last.operations === this.operations && now - last.at < (this.opts.reportMaxAgeMs ?? 15_000)) return last.value;
    const operations = this.operations;
    const scan = await this.driver.scan();
    // A limit changed behind the agent's back is checked again at the next reconcile.
    for (const [ref, quota] of this.confirmed) if (scan.volumes.get(ref)?.quota !== quota) this.confirmed.delete(ref);
    let trash = 0;
    for (const b of scan.trash.values()) trash += b;
    const value = {
      pool: { driver: this.driver.name, size: scan.pool.size, used: scan.pool.used, free: scan.pool.free, trash, trashCount: scan.trash.size },
      volumes: [...scan.volumes.values()].map((v) => this.usage(v, v)),
    };
    this.lastReport = { at: now, operations, value };
    return value;
  }
}

function pick(set: SetIdentity): SetIdentity {
  return { tenant: set.tenant, appkey: set.appkey, id: set.id };
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The source agent's error answer as a WharfError (its code when it sent one). */
async function sourceError(res: Response, from: string): Promise<WharfError> {
  let body: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const code = body?.error?.code;
  const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`;
  if (isErrorCode(code) && code !== 'UNAUTHORIZED' && code !== 'INTERNAL') return new WharfError(code, `source agent ${from}: ${message}`);
  return new WharfError('HOST_UNREACHABLE', `source agent ${from} refused the export: ${message}`);
}
