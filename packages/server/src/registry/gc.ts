/**
 * Registry garbage collection, on a schedule (gc-schedule.ts) or on demand
 * (`POST /v1/registry/gc`). Distribution's `garbage-collect` must not run beside
 * writes (a blob uploaded but not yet in a manifest would be deleted), so one run:
 *
 *   1. closes the write gate: Wharf's own uploads, tags and removals finish, new ones
 *      get 503 REGISTRY_UNAVAILABLE (waits at most 10 min, else the run is skipped);
 *   2. deletes untagged manifests that no tagged index lists and no set names by
 *      digest (Distribution 2.8's own `--delete-untagged` also deletes the platform
 *      manifests of multi-platform images, so it is not used);
 *   3. restarts the registry read-only (`storage.maintenance.readonly`): pulls go on,
 *      pushes of Docker clients get an error for the few seconds the run takes;
 *   4. runs `docker-registry garbage-collect`, restarts the registry writable (which
 *      also empties its blob cache, as Distribution asks after a collection) and
 *      opens the gate.
 *
 * Read-only rather than stopped: hosts keep pulling during the run.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import { INDEX_MEDIA_TYPES, WharfError, parseImageReference, type RegistryGcRun, type RegistryGcStatus, type SetObject } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { blobBytes, manifestRevisions } from './catalog-storage.js';
import { imageUses } from './catalog-usage.js';
import { describeGcSchedule, nextGcRun, type GcSchedule } from './gc-schedule.js';
import type { RegistryV2Client } from './v2-client.js';

/** Writes through Wharf (uploads, tags, removals) against garbage collection. */
export class WriteGate {
  private active = 0;
  private closedWhy: string | undefined;
  private idle: (() => void)[] = [];

  /** Runs a write; 503 REGISTRY_UNAVAILABLE while the gate is closed. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closedWhy) throw new WharfError('REGISTRY_UNAVAILABLE', `${this.closedWhy}; try again in a minute`);
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** Refuses new writes; true once none is running, false if some still are after `waitMs` (the gate stays closed). */
  async close(why: string, waitMs: number): Promise<boolean> {
    this.closedWhy = why;
    if (this.active === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), waitMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  open(): void {
    this.closedWhy = undefined;
  }
}

/** What a collection needs of the running registry. */
export interface GcTarget {
  client: RegistryV2Client;
  store: Store;
  /** The registry address in image references (to find the digests sets name). */
  address: string;
  storageRoot: string;
  /** Restarts Distribution read-only (true) or writable (false). */
  readOnly(on: boolean): Promise<void>;
  /** Runs `docker-registry garbage-collect` on the registry's config; its output. */
  collect(): Promise<string>;
}

const GATE_WAIT_MS = 10 * 60_000;

export async function collectGarbage(t: GcTarget, gate: WriteGate, log: Logger): Promise<RegistryGcRun> {
  const run: RegistryGcRun = { startedAt: new Date().toISOString(), manifestsDeleted: 0, blobsDeleted: 0, bytesFreed: 0 };
  try {
    if (!(await gate.close('the platform registry is collecting garbage', GATE_WAIT_MS))) {
      throw new Error('uploads through wharf-server were still running after 10 minutes; collection skipped');
    }
    run.manifestsDeleted = await deleteUntagged(t);
    const before = await blobBytes(t.storageRoot);
    await t.readOnly(true);
    let output: string;
    try {
      output = await t.collect();
    } finally {
      await t.readOnly(false);
    }
    run.blobsDeleted = output.split('\n').filter((l) => l.startsWith('blob eligible for deletion')).length;
    run.bytesFreed = Math.max(0, before - (await blobBytes(t.storageRoot)));
  } catch (err) {
    run.error = (err as Error).message;
  } finally {
    gate.open();
    run.finishedAt = new Date().toISOString();
  }
  log[run.error ? 'warn' : 'info'](run, 'registry garbage collection');
  return run;
}

/** Deletes every manifest of every repository that no tag, tagged index or set keeps; returns how many. */
async function deleteUntagged(t: GcTarget): Promise<number> {
  const sets = (await t.store.list<SetObject>(Keys.setsPrefix)).items.map((kv) => kv.value);
  const uses = imageUses(sets, t.address);
  let deleted = 0;
  for (const repository of await t.client.catalog()) {
    const revisions = await manifestRevisions(t.storageRoot, repository);
    if (revisions.length === 0) continue;
    const keep = new Set<string>();
    for (const u of uses.get(repository) ?? []) {
      const digest = parseImageReference(u.image).digest;
      if (digest) keep.add(digest);
    }
    for (const tag of await t.client.tags(repository)) {
      const m = await t.client.manifest(repository, tag);
      if (!m) continue;
      keep.add(m.digest);
      if (INDEX_MEDIA_TYPES.includes(m.mediaType)) {
        for (const child of (JSON.parse(m.body.toString()) as { manifests?: { digest?: string }[] }).manifests ?? []) if (child.digest) keep.add(child.digest);
      }
    }
    for (const digest of revisions) {
      if (keep.has(digest)) continue;
      if (await t.client.deleteManifest(repository, digest)) deleted++;
    }
  }
  return deleted;
}

/** Runs collections on the schedule, one at a time; `runNow` joins a run under way. */
export class RegistryGc {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RegistryGcRun> | undefined;
  private last: RegistryGcRun | undefined;
  private next: Date | undefined;
  private stopped = false;

  constructor(
    private readonly schedule: GcSchedule,
    private readonly collect: () => Promise<RegistryGcRun>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.next = undefined;
  }

  async runNow(): Promise<RegistryGcRun> {
    this.running ??= this.collect().then((run) => {
      this.last = run;
      return run;
    }).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  status(): RegistryGcStatus {
    return {
      schedule: describeGcSchedule(this.schedule),
      running: this.running !== undefined,
      ...(this.next ? { nextRunAt: this.next.toISOString() } : {}),
      ...(this.last ? { lastRun: this.last } : {}),
    };
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const last = this.last ? new Date(this.last.startedAt) : undefined;
    this.next = nextGcRun(this.schedule, this.now(), last);
    if (!this.next) return;
    // Timers hold at most ~24.8 days; a later run is re-armed on the way.
    const delay = Math.min(this.next.getTime() - this.now().getTime(), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (this.next && this.next.getTime() > this.now().getTime() + 1000) return this.arm();
      void this.runNow().finally(() => this.arm());
    }, Math.max(0, delay));
    this.timer.unref();
  }
}
