/**
 * The placement controller: level-triggered. Whenever sets or hosts change (and
 * every few seconds regardless), every set without a host is offered to the pure
 * scheduler; a placement is written with compare-and-swap so a concurrent change
 * of the set wins and is simply looked at again on the next pass.
 */
import type { Logger } from 'pino';
import type { Store, Watcher } from '@wharf/store';
import { assume, schedule, type ClusterView, type HostView, type PlacementRequest } from '@wharf/scheduler';
import { setRef, type SetObject } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { allocations, isReady, listHostRecords, setReservation, type HostRecord } from '../state/hosts.js';
import { appendEvents, event } from '../state/sets.js';

export class PlacementController {
  private watchers: Watcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  /** Last unschedulable message per set, so a repeated failure is recorded once. */
  private readonly lastFailure = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly resyncMs = 5000,
  ) {}

  async start(): Promise<void> {
    const rev = await this.store.revision();
    for (const prefix of [Keys.setsPrefix, Keys.hostsPrefix]) {
      // Heartbeats rewrite host keys every few seconds; only new hosts matter here, and resync covers the rest.
      this.watchers.push(await this.store.watch(prefix, (ev) => {
        if (prefix === Keys.setsPrefix || ev.kv.version === 1) this.kick();
      }, { fromRevision: rev + 1 }));
    }
    this.timer = setInterval(() => this.kick(), this.resyncMs);
    this.kick();
  }

  stop(): void {
    for (const w of this.watchers) w.cancel();
    if (this.timer) clearInterval(this.timer);
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass()
      .catch((err: unknown) => this.log.error({ err }, 'placement pass failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async pass(): Promise<void> {
    const { items } = await this.store.list<SetObject>(Keys.setsPrefix);
    const pending = items.filter((kv) => !kv.value.host && !kv.value.deleting);
    if (pending.length === 0) return;
    const [hosts, reservations] = await Promise.all([listHostRecords(this.store), this.store.list(Keys.reservationsPrefix)]);
    // Each host's reservation key is compared in the placement's transaction, so two
    // schedulers working from the same view can never both fill the same host.
    const reservationRev = new Map(reservations.items.map((kv) => [kv.key, kv.modRevision]));
    let view = clusterView(hosts, items.map((kv) => kv.value), Date.now());
    for (const kv of pending) {
      const set = kv.value;
      const ref = setRef(set);
      const req = placementRequest(set);
      const result = schedule(view, req);
      if (result.kind === 'unschedulable') {
        if (this.lastFailure.get(ref) !== result.message) {
          this.lastFailure.set(ref, result.message);
          await appendEvents(this.store, set, [event('Warning', 'FailedScheduling', result.message)]);
          await this.store.put(setKeys(set).status, {
            phase: 'pending', observedGeneration: 0, message: result.message, containers: [], updatedAt: new Date().toISOString(),
          });
        }
        continue;
      }
      const rKey = Keys.reservation(result.host);
      const placed: SetObject = { ...set, host: result.host, updatedAt: new Date().toISOString() };
      const r = await this.store.txn(
        [{ key: kv.key, modRevision: kv.modRevision }, { key: rKey, modRevision: reservationRev.get(rKey) ?? 0 }],
        [{ type: 'put', key: kv.key, value: placed }, { type: 'put', key: rKey, value: { lastSet: ref } }],
      );
      if (!r.succeeded) {
        // Someone else changed the set or the host's reservations: look again next pass.
        this.again = true;
        return;
      }
      reservationRev.set(rKey, r.revision);
      this.lastFailure.delete(ref);
      view = assume(view, result.host, req);
      const from = set.movedFrom ? ` (moved from ${set.movedFrom})` : '';
      await appendEvents(this.store, set, [event('Normal', 'Scheduled', `placed on host ${result.host}${from}`)]);
    }
  }
}

/** The scheduler's read-only picture of the cluster, from host records and placed sets. */
export function clusterView(hosts: HostRecord[], sets: SetObject[], now: number): ClusterView {
  const alloc = allocations(sets);
  const apps = new Map<string, Record<string, number>>();
  // Sets being deleted still hold their resources (and their place in a spread) until they are gone.
  for (const s of sets) {
    if (!s.host) continue;
    const counts = apps.get(s.host) ?? {};
    counts[s.appkey] = (counts[s.appkey] ?? 0) + 1;
    apps.set(s.host, counts);
  }
  return {
    hosts: hosts.map((h): HostView => ({
      name: h.name,
      ready: isReady(h, now),
      cordoned: h.cordoned || (h.draining ?? false),
      zone: h.zone,
      rack: h.rack,
      labels: h.labels,
      images: h.images ?? [],
      capacity: h.capacity,
      allocated: alloc.get(h.name)?.allocated ?? { cpu: 0, memory: 0, disk: 0 },
      apps: apps.get(h.name) ?? {},
    })),
  };
}

export function placementRequest(set: SetObject): PlacementRequest {
  return {
    set: setRef(set),
    appkey: set.appkey,
    resources: setReservation(set),
    images: set.spec.containers.map((c) => c.image),
    ...(set.spec.placement ? { placement: set.spec.placement } : {}),
  };
}
