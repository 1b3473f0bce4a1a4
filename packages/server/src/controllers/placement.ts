/**
 * The placement controller: level-triggered. Whenever sets or hosts change (and
 * every few seconds regardless), every set without a host is offered to the pure
 * scheduler; a placement is written with compare-and-swap so a concurrent change
 * of the set wins and is simply looked at again on the next pass.
 */
import type { Logger } from 'pino';
import type { Store, Watcher } from '@wharf/store';
import { schedule, type HostView } from '@wharf/scheduler';
import { setRef, type SetObject } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { allocations, isReady, listHostRecords, setReservation } from '../state/hosts.js';
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
    const hosts = await listHostRecords(this.store);
    const alloc = allocations(items.map((kv) => kv.value));
    const now = Date.now();
    const views: HostView[] = hosts.map((h) => ({
      name: h.name,
      ready: isReady(h, now),
      cordoned: h.cordoned,
      zone: h.zone,
      labels: h.labels,
      capacity: h.capacity,
      allocated: { ...(alloc.get(h.name)?.allocated ?? { cpu: 0, memory: 0, disk: 0 }) },
    }));
    for (const kv of pending) {
      const set = kv.value;
      const ref = setRef(set);
      const resources = setReservation(set);
      const result = schedule({ hosts: views }, { set: ref, resources });
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
      const placed: SetObject = { ...set, host: result.host, updatedAt: new Date().toISOString() };
      const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'put', key: kv.key, value: placed }]);
      if (!r.succeeded) continue;
      this.lastFailure.delete(ref);
      // Later sets in this pass see what this one reserved.
      const v = views.find((h) => h.name === result.host);
      if (v) {
        const a = v.allocated as { cpu: number; memory: number; disk: number };
        a.cpu += resources.cpu;
        a.memory += resources.memory;
        a.disk += resources.disk;
      }
      await appendEvents(this.store, set, [event('Normal', 'Scheduled', `placed on host ${result.host}`)]);
    }
  }
}
