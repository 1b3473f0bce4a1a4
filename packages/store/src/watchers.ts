/**
 * In-process watch fan-out for backends that see every write themselves
 * (SQLite). The backend publishes committed changes; each subscription keeps a
 * FIFO that is drained on a microtask, so callbacks never run inside a write,
 * a callback that writes cannot reorder events, and order is always revision order.
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
    private readonly fromRevision: number,
    private readonly onEvent: (ev: WatchEvent) => void,
    private readonly onError: WatchErrorHandler,
    private readonly onCancel: () => void,
  ) {}

  offer(rec: ChangeRecord): void {
    if (!this.active || rec.revision < this.fromRevision || !rec.key.startsWith(this.prefix)) return;
    this.queue.push(rec);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
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
  ): Watcher {
    const sub: Subscription = new Subscription(prefix, fromRevision, onEvent, this.onError, () =>
      this.subs.delete(sub),
    );
    for (const rec of backlog) sub.offer(rec);
    this.subs.add(sub);
    return sub;
  }

  /** Hands committed changes (in revision order) to every matching watch. */
  publish(changes: readonly ChangeRecord[]): void {
    for (const sub of this.subs) {
      for (const rec of changes) sub.offer(rec);
    }
  }

  cancelAll(): void {
    for (const sub of [...this.subs]) sub.cancel();
  }
}
