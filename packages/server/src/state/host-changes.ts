/**
 * Tells long-polling agents when the sets of their host change. It watches
 * `/sets/` and remembers, per host, the revision of the last change that touched
 * it (a set placed there, changed there, or moved away), so an agent wakes only
 * for its own host, not for every write in the cluster.
 */
import type { Store, Watcher } from '@wharf/store';
import type { SetObject } from '@wharf/types';
import { Keys } from './keys.js';

export class HostChanges {
  private readonly lastChange = new Map<string, number>();
  private readonly hostOf = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private watcher: Watcher | undefined;
  private startRevision = 0;

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    const { items, revision } = await this.store.list<SetObject>(Keys.setsPrefix);
    for (const kv of items) if (kv.value.host) this.hostOf.set(kv.key, kv.value.host);
    // Hosts are unknown before start: every agent behind this revision gets an answer at once.
    this.startRevision = revision;
    this.watcher = await this.store.watch<SetObject>(
      Keys.setsPrefix,
      (ev) => {
        const before = this.hostOf.get(ev.kv.key);
        const after = ev.type === 'put' ? ev.kv.value.host : undefined;
        if (after) this.hostOf.set(ev.kv.key, after);
        else this.hostOf.delete(ev.kv.key);
        for (const h of new Set([before, after])) if (h) this.touch(h, ev.revision);
      },
      { fromRevision: revision + 1 },
    );
  }

  stop(): void {
    this.watcher?.cancel();
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  /** Revision of the last change to `host`'s sets that this server has seen. */
  changedAt(host: string): number {
    return this.lastChange.get(host) ?? this.startRevision;
  }

  /** Resolves when `host`'s sets change after `revision`, or after `ms`, or on `signal`. */
  wait(host: string, revision: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.changedAt(host) > revision) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(host) ?? new Set();
      this.waiters.set(host, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  private touch(host: string, revision: number): void {
    this.lastChange.set(host, revision);
    const set = this.waiters.get(host);
    if (set) for (const wake of [...set]) wake();
  }
}
