/**
 * Moves sets off hosts that are draining or lost. Level-triggered, every few
 * seconds:
 * - a draining host gives up its relocatable sets one at a time: the next one
 *   leaves only when the previous one runs on its new host, and only when another
 *   host can take it now (a drain never stops a set to leave it pending; it waits,
 *   with a DrainWaiting event saying why, until a host is added, uncordoned or freed);
 * - a host silent for longer than `failoverMs` gives up all its relocatable sets at
 *   once; sets with a local volume stay and say why.
 * "Giving up" clears `set.host`; the placement controller places the set again,
 * and the old host's agent removes the containers of sets no longer placed on it,
 * so a set never runs twice.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import { schedule } from '@wharf/scheduler';
import { setRef, type SetObject, type SetStatus } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { HEARTBEAT_GRACE_MS, isRelocatable, listHostRecords, type EffectiveHost, type HostRecord } from '../state/hosts.js';
import { loadNetworks } from '../state/ipam.js';
import { appendEvents, event } from '../state/sets.js';
import { clusterView, placementRequest } from './placement.js';

export interface HostLifecycleOptions {
  /** How long a host must be not-ready (after the heartbeat grace) before its sets move. Default 30 s. */
  failoverMs?: number;
  intervalMs?: number;
}

export class HostLifecycleController {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Sets already told that they wait for their lost host, so the event is recorded once. */
  private readonly waiting = new Set<string>();
  /** The last reason each draining host gave for not moving its next set, so it is recorded once. */
  private readonly drainWaits = new Map<string, string>();
  private readonly failoverMs: number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: HostLifecycleOptions = {},
  ) {
    this.failoverMs = opts.failoverMs ?? 30_000;
    this.timer = setInterval(() => void this.tick(), opts.intervalMs ?? 2_000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.pass(Date.now());
    } catch (err) {
      this.log.error({ err }, 'host lifecycle pass failed');
    } finally {
      this.running = false;
    }
  }

  async pass(now: number): Promise<void> {
    const [hosts, sets, statuses] = await Promise.all([
      listHostRecords(this.store),
      this.store.list<SetObject>(Keys.setsPrefix),
      this.store.list<SetStatus>(Keys.statusPrefix),
    ]);
    const statusOf = new Map(statuses.items.map((kv) => [kv.key.slice(Keys.statusPrefix.length), kv.value]));
    for (const host of hosts) {
      const silentFor = now - Date.parse(host.lastHeartbeat) - HEARTBEAT_GRACE_MS;
      const mine = sets.items.filter((kv) => kv.value.host === host.name && !kv.value.deleting);
      if (silentFor > this.failoverMs) await this.failover(host, mine, silentFor);
      else if (host.draining) await this.drainOne(host, hosts, sets.items.map((kv) => kv.value), mine, statusOf, now);
      else this.drainWaits.delete(host.name);
    }
  }

  private async failover(host: HostRecord, mine: { key: string; modRevision: number; value: SetObject }[], silentFor: number): Promise<void> {
    const silent = Math.round((silentFor + HEARTBEAT_GRACE_MS) / 1000);
    for (const kv of mine) {
      const set = kv.value;
      if (!isRelocatable(set)) {
        const ref = setRef(set);
        if (!this.waiting.has(ref)) {
          this.waiting.add(ref);
          await appendEvents(this.store, set, [event('Warning', 'HostLost', `host ${host.name} silent for ${silent}s; the set has a local volume, so it waits for the host to return (set placement.relocatable to allow moving it)`)]);
        }
        continue;
      }
      if (await this.release(kv, host.name)) {
        this.log.warn({ set: setRef(set), host: host.name }, 'moving set off a lost host');
        await appendEvents(this.store, set, [event('Warning', 'HostLost', `host ${host.name} silent for ${silent}s; rescheduling the set elsewhere`)]);
      }
    }
  }

  private async drainOne(
    host: HostRecord,
    hosts: EffectiveHost[],
    all: SetObject[],
    mine: { key: string; modRevision: number; value: SetObject }[],
    statusOf: Map<string, SetStatus>,
    now: number,
  ): Promise<void> {
    // One at a time: wait while a set that left this host does not run yet on its new one.
    const inFlight = all.find((s) => s.movedFrom === host.name && !s.deleting && !isRunningOnItsHost(s, statusOf));
    if (inFlight) return;
    const next = mine.find((kv) => isRelocatable(kv.value));
    if (!next) return;
    // The draining host is cordoned in this view, so a placement found is on another host.
    const fit = schedule(clusterView(hosts, all, now, await loadNetworks(this.store)), placementRequest(next.value));
    if (fit.kind !== 'placed') {
      const why = `host ${host.name} is draining, but no other host can take set ${setRef(next.value)} now (${fit.message}); the drain waits, the set keeps running`;
      if (this.drainWaits.get(host.name) !== why) {
        this.drainWaits.set(host.name, why);
        this.log.info({ set: setRef(next.value), host: host.name, reason: fit.message }, 'drain waits: no host can take the next set');
        await appendEvents(this.store, next.value, [event('Warning', 'DrainWaiting', why)]);
      }
      return;
    }
    this.drainWaits.delete(host.name);
    if (await this.release(next, host.name)) {
      this.log.info({ set: setRef(next.value), host: host.name }, 'draining: moving set');
      await appendEvents(this.store, next.value, [event('Normal', 'Draining', `host ${host.name} is draining; moving the set elsewhere`)]);
    }
  }

  /** Clears the set's placement (compare-and-swap); false when it changed meanwhile. */
  private async release(kv: { key: string; modRevision: number; value: SetObject }, from: string): Promise<boolean> {
    const { host: _old, ...rest } = kv.value;
    const moved: SetObject = { ...rest, movedFrom: from, updatedAt: new Date().toISOString() };
    const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'put', key: kv.key, value: moved }]);
    return r.succeeded;
  }
}

function isRunningOnItsHost(s: SetObject, statusOf: Map<string, SetStatus>): boolean {
  if (!s.host) return false;
  const st = statusOf.get(setKeys(s).status.slice(Keys.statusPrefix.length));
  return st?.host === s.host && st.phase === 'running';
}
