/**
 * What the agent remembers about each business container's life, per set and
 * container name (kept across recreation, like Kubernetes keeps restart counts per
 * pod): its restarts, its last termination and its restart back-off. Docker cannot
 * tell these, so they are kept in `<data-dir>/health/<set>.json` (written on change,
 * removed with the set) and survive an agent restart.
 *
 * Besides, in memory only: liveness kills asked for by the prober, carried out by the
 * set's next reconcile.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LastTermination, RestartPolicy, TerminationReason } from '@wharf/types';
import type { ObservedContainer } from '../docker/engine.js';
import { BACKOFF_RESET_AFTER_MS, exitReason, isFailure, restartAllowed, restartDelay } from './restart-policy.js';

export interface ContainerRecord {
  /** Restarts the agent made (after a crash, a completion or a failed liveness probe). */
  restarts: number;
  lastTermination?: LastTermination;
  /** `<container ID>@<finishedAt>` of the exit recorded last: every exit is recorded once. */
  exit?: string;
  /** That exit was the agent's own stop (desired stopped, a restart): it is started again whatever its policy. */
  byAgent?: boolean;
  /** Restarts in a row since the container last ran 10 minutes. */
  streak: number;
  /** While exited: the policy's restart waits until then (ms since the epoch). */
  backOffUntil?: number;
  /** The BackOff event of this streak went out. */
  announced?: boolean;
}

/** A liveness kill the prober asked for: only the same run of the same container is killed. */
export interface KillRequest {
  id: string;
  startedAt: string;
  message: string;
}

/** How an exit is recorded: by itself (policy applies), the agent's stop, or a liveness kill. */
export interface ExitNote {
  cause: 'exited' | 'stopped' | 'unhealthy';
  policy: RestartPolicy;
  message?: string;
}

interface SetBook {
  containers: Record<string, ContainerRecord>;
}

export const exitKey = (o: Pick<ObservedContainer, 'id' | 'finishedAt'>): string => `${o.id}@${o.finishedAt ?? ''}`;

export class HealthBook {
  private readonly sets = new Map<string, SetBook>();
  private readonly kills = new Map<string, Map<string, KillRequest>>();
  /** Writes per set, one after the other. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly dataDir: string,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private file(ref: string): string {
    return join(this.dataDir, 'health', `${encodeURIComponent(ref)}.json`);
  }

  /** Reads the set's records from disk once (a missing or unreadable file starts empty). */
  async load(ref: string): Promise<void> {
    if (this.sets.has(ref)) return;
    let book: SetBook = { containers: {} };
    try {
      const parsed = JSON.parse(await readFile(this.file(ref), 'utf8')) as Partial<SetBook>;
      if (parsed && typeof parsed.containers === 'object' && parsed.containers) book = { containers: parsed.containers };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log?.warn({ set: ref, err: String(err) }, 'unreadable health records: starting afresh');
    }
    if (!this.sets.has(ref)) this.sets.set(ref, book);
  }

  get(ref: string, name: string): ContainerRecord | undefined {
    return this.sets.get(ref)?.containers[name];
  }

  /**
   * Records an exit once (by its container ID and finish time). An exit the policy
   * answers with a restart gets the back-off of its streak.
   */
  recordExit(ref: string, name: string, o: ObservedContainer, note: ExitNote): ContainerRecord {
    const key = exitKey(o);
    const current = this.get(ref, name);
    if (current?.exit === key) return current;
    const r: ContainerRecord = { ...(current ?? { restarts: 0, streak: 0 }) };
    const reason: TerminationReason = note.cause === 'unhealthy' ? 'Unhealthy' : note.cause === 'stopped' ? 'Stopped' : exitReason(o.exitCode, o.oomKilled);
    r.exit = key;
    r.lastTermination = {
      reason,
      exitCode: o.exitCode ?? -1,
      oomKilled: o.oomKilled,
      ...(o.finishedAt ? { finishedAt: o.finishedAt } : {}),
      ...(note.message ? { message: note.message } : {}),
    };
    delete r.backOffUntil;
    if (note.cause === 'stopped') {
      r.byAgent = true;
    } else {
      delete r.byAgent;
      if (ranFor(o) >= BACKOFF_RESET_AFTER_MS) {
        r.streak = 0;
        delete r.announced;
      }
      if (restartAllowed(note.policy, isFailure(reason))) {
        r.streak += 1;
        r.backOffUntil = this.now() + restartDelay(r.streak);
      }
    }
    this.put(ref, name, r);
    return r;
  }

  /** The agent started the container again after an exit of its own. */
  countRestart(ref: string, name: string): void {
    const r = this.get(ref, name) ?? { restarts: 0, streak: 0 };
    this.put(ref, name, { ...r, restarts: r.restarts + 1 });
  }

  /** The BackOff event of the current streak was sent. */
  markAnnounced(ref: string, name: string): void {
    const r = this.get(ref, name);
    if (r && !r.announced) this.put(ref, name, { ...r, announced: true });
  }

  requestKill(ref: string, name: string, kill: KillRequest): void {
    let m = this.kills.get(ref);
    if (!m) this.kills.set(ref, (m = new Map()));
    m.set(name, kill);
  }

  /** The pending kill of this run of the container; a kill of an earlier run is dropped. */
  pendingKill(ref: string, name: string, o: ObservedContainer | undefined): KillRequest | undefined {
    const k = this.kills.get(ref)?.get(name);
    if (!k) return undefined;
    if (o && o.id === k.id && o.startedAt === k.startedAt && o.state === 'running') return k;
    this.kills.get(ref)?.delete(name);
    return undefined;
  }

  /** The kill about to be carried out (it is removed). */
  takeKill(ref: string, name: string): KillRequest | undefined {
    const k = this.kills.get(ref)?.get(name);
    this.kills.get(ref)?.delete(name);
    return k;
  }

  /** Forgets the set and removes its file (the set is gone from this host). */
  async drop(ref: string): Promise<void> {
    this.sets.delete(ref);
    this.kills.delete(ref);
    await this.chain(ref, () => rm(this.file(ref), { force: true }));
  }

  /** Resolves when every write started so far is done. */
  async flushed(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  private put(ref: string, name: string, r: ContainerRecord): void {
    let book = this.sets.get(ref);
    if (!book) this.sets.set(ref, (book = { containers: {} }));
    book.containers[name] = r;
    const snapshot = JSON.stringify(book, null, 2);
    void this.chain(ref, async () => {
      const file = this.file(ref);
      await mkdir(join(this.dataDir, 'health'), { recursive: true });
      await writeFile(`${file}.tmp`, `${snapshot}\n`);
      await rename(`${file}.tmp`, file);
    });
  }

  private chain(ref: string, write: () => Promise<unknown>): Promise<void> {
    const next = (this.writes.get(ref) ?? Promise.resolve())
      .then(write)
      .then(
        () => undefined,
        (err: unknown) => this.log?.warn({ set: ref, err: String(err) }, 'cannot write health records'),
      );
    this.writes.set(ref, next);
    void next.then(() => {
      if (this.writes.get(ref) === next) this.writes.delete(ref);
    });
    return next;
  }
}

function ranFor(o: ObservedContainer): number {
  if (!o.startedAt || !o.finishedAt) return 0;
  return Date.parse(o.finishedAt) - Date.parse(o.startedAt);
}
