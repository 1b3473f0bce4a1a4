/**
 * In-process watch fan-out. SQLite publishes the changes it commits; etcd
 * publishes what its one watch stream per store receives. Each subscription
 * keeps a FIFO that is drained on a microtask, so callbacks never run inside a
 * write, a callback that writes cannot reorder events, and order is always
 * revision order. A subscription remembers the revisions it has been offered,
 * so a source that replays (etcd after a reconnect) never delivers one twice.
 */
import type { WatchEvent, Watcher } from './store.js';

/** A committed change with its value still as JSON text (parsed per delivery, so watchers never share objects). */
export interface ChangeRecord {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  /** JSON; for a delete, the value the key had before. */
  value: string;
  createRevision: number;
  version: number;
}

/** Called when a watch callback throws; the event counts as delivered and the watch goes on. */
export type WatchErrorHandler = (err: unknown, ev: WatchEvent) => void;

/** Called once when a watch ends without cancel() (see WatchOptions.onError). */
export type WatchEndHandler = (err: Error) => void;

export function toWatchEvent(rec: ChangeRecord): WatchEvent {
  return {
    type: rec.type,
    revision: rec.revision,
    kv: {
      key: rec.key,
      value: JSON.parse(rec.value) as unknown,
      createRevision: rec.createRevision,
      modRevision: rec.revision,
      version: rec.version,
    },
  };
}

class Subscription implements Watcher {
  private queue: ChangeRecord[] = [];
  private head = 0;
  private scheduled = false;
  private active = true;

  constructor(
    private readonly prefix: string,
    /** The lowest revision still to be delivered; raised past every batch offered. */
    private next: number,
    private readonly onEvent: (ev: WatchEvent) => void,
    private readonly onError: WatchErrorHandler,
    private readonly onCancel: () => void,
    private readonly onEnd?: WatchEndHandler,
  ) {}

  offer(rec: ChangeRecord): void {
    if (!this.active || rec.revision < this.next || !rec.key.startsWith(this.prefix)) return;
    this.queue.push(rec);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  /** Every revision up to `revision` has been offered (a batch holds whole revisions). */
  advance(revision: number): void {
    this.next = Math.max(this.next, revision + 1);
  }

  /** Ends the watch because it cannot go on without missing events. */
  fail(err: Error): void {
    if (!this.active) return;
    this.cancel();
    this.onEnd?.(err);
  }

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    this.queue = [];
    this.head = 0;
    this.onCancel();
  }

  private drain(): void {
    this.scheduled = false;
    while (this.active && this.head < this.queue.length) {
      const rec = this.queue[this.head++];
      if (rec === undefined) break;
      const ev = toWatchEvent(rec);
      try {
        this.onEvent(ev);
      } catch (err) {
        try {
          this.onError(err, ev);
        } catch {
          // A failing error handler must not stop delivery either.
        }
      }
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }
}

export class WatcherHub {
  private readonly subs = new Set<Subscription>();

  constructor(private readonly onError: WatchErrorHandler) {}

  /**
   * Registers a watch. `backlog` (history already read, revision >= fromRevision)
   * is queued before any later publish, so replay and live events join with no
   * gap or duplicate as long as the caller reads the backlog and calls add()
   * without yielding in between.
   */
  add(
    prefix: string,
    fromRevision: number,
    onEvent: (ev: WatchEvent) => void,
    backlog: readonly ChangeRecord[] = [],
    onEnd?: WatchEndHandler,
  ): Watcher {
    const sub: Subscription = new Subscription(
      prefix,
      fromRevision,
      onEvent,
      this.onError,
      () => this.subs.delete(sub),
      onEnd,
    );
    offerBatch(sub, backlog);
    this.subs.add(sub);
    return sub;
  }

  /**
   * Hands changes (in revision order, whole revisions only) to every matching
   * watch. Revisions a watch was offered before are skipped.
   */
  publish(changes: readonly ChangeRecord[]): void {
    for (const sub of this.subs) offerBatch(sub, changes);
  }

  /** How many watches are registered. */
  get size(): number {
    return this.subs.size;
  }

  cancelAll(): void {
    for (const sub of [...this.subs]) sub.cancel();
  }

  /** Ends every watch with `err` (each one's onEnd is told). */
  failAll(err: Error): void {
    for (const sub of [...this.subs]) sub.fail(err);
  }
}

function offerBatch(sub: Subscription, changes: readonly ChangeRecord[]): void {
  for (const rec of changes) sub.offer(rec);
  const last = changes[changes.length - 1];
  if (last) sub.advance(last.revision);
}
