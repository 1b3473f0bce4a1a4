/**
 * Tells long-polling agents when the sets of their host change. It watches
 * `/sets/` and remembers, per host, the revision of the last change that touched
 * it (a set placed there, changed there, or moved away), so an agent wakes only
 * for its own host, not for every write in the cluster. From the same watch it
 * keeps each host's allocation, so heartbeats need not read every set.
 *
 * What every host's firewalls and network attachments depend on wakes every host:
 * a set's platform IPs coming or going, and any change of networks or policies; so
 * does a host certificate revoked (agents refuse it as a caller).
 * A change of a host's settings wakes that host.
 */
import type { Store, Watcher } from '@wharf/store';
import type { HostCapacity, SetObject } from '@wharf/types';
import { Keys } from './keys.js';
import { addCapacity, setReservation, type Allocation } from './hosts.js';

export class HostChanges {
  private readonly lastChange = new Map<string, number>();
  /** Placed sets by key: their host and what they reserve there. */
  private readonly placed = new Map<string, { host: string; reservation: HostCapacity; ips: string }>();
  /** Revision of the last change that concerns every host. */
  private everyHost = 0;
  private readonly others: Watcher[] = [];
  private readonly perHost = new Map<string, Allocation>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private watcher: Watcher | undefined;
  private startRevision = 0;

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    const { items, revision } = await this.store.list<SetObject>(Keys.setsPrefix);
    for (const kv of items) this.place(kv.key, kv.value);
    // Hosts are unknown before start: every agent behind this revision gets an answer at once.
    this.startRevision = revision;
    this.watcher = await this.store.watch<SetObject>(
      Keys.setsPrefix,
      (ev) => {
        const old = this.placed.get(ev.kv.key);
        this.place(ev.kv.key, ev.type === 'put' ? ev.kv.value : undefined);
        const now = this.placed.get(ev.kv.key);
        if ((old?.ips ?? '') !== (now?.ips ?? '')) this.touchAll(ev.revision);
        else for (const h of new Set([old?.host, now?.host])) if (h) this.touch(h, ev.revision);
      },
      { fromRevision: revision + 1 },
    );
    for (const prefix of [Keys.networksPrefix, Keys.policiesPrefix, Keys.revokedCertsPrefix]) {
      this.others.push(await this.store.watch(prefix, (ev) => this.touchAll(ev.revision), { fromRevision: revision + 1 }));
    }
    this.others.push(await this.store.watch(Keys.hostSettingsPrefix, (ev) => this.touch(ev.kv.key.slice(Keys.hostSettingsPrefix.length), ev.revision), { fromRevision: revision + 1 }));
  }

  stop(): void {
    this.watcher?.cancel();
    for (const w of this.others) w.cancel();
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  /** What the sets placed on `host` reserve, and how many there are. */
  allocation(host: string): Allocation | undefined {
    return this.perHost.get(host);
  }

  /** Records where the set under `key` is placed now (undefined: deleted). */
  private place(key: string, set: SetObject | undefined): void {
    const old = this.placed.get(key);
    if (old) this.add(old.host, old.reservation, -1);
    this.placed.delete(key);
    if (!set?.host) return;
    // A deleting set's addresses no longer count as sources in firewalls.
    const entry = { host: set.host, reservation: setReservation(set), ips: set.deleting ? '' : JSON.stringify(set.ips ?? []) };
    this.placed.set(key, entry);
    this.add(entry.host, entry.reservation, 1);
  }

  private add(host: string, r: HostCapacity, sign: 1 | -1): void {
    const a = this.perHost.get(host) ?? { allocated: { cpu: 0, memory: 0, disk: 0 }, sets: 0 };
    a.allocated = addCapacity(a.allocated, r, sign);
    a.sets += sign;
    this.perHost.set(host, a);
  }

  /** Revision of the last change to `host`'s sets that this server has seen. */
  changedAt(host: string): number {
    return Math.max(this.lastChange.get(host) ?? this.startRevision, this.everyHost);
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

  private touchAll(revision: number): void {
    this.everyHost = revision;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }

  private touch(host: string, revision: number): void {
    this.lastChange.set(host, revision);
    const set = this.waiters.get(host);
    if (set) for (const wake of [...set]) wake();
  }
}
