/**
 * The placement controller: level-triggered. Whenever sets or hosts change (and
 * every few seconds regardless), every set without a host is offered to the pure
 * scheduler; a placement is written with compare-and-swap so a concurrent change
 * of the set wins and is simply looked at again on the next pass.
 *
 * The set's platform IPs are claimed in the placement's own transaction (see
 * state/ipam.ts); a placed set whose `network` spec changed gets its addresses
 * changed in place, on the same host.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import { assume, schedule, type ClusterView, type HostView, type PlacementRequest } from '@wharf/scheduler';
import { WharfError, setRef, type SetIp, type SetObject } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { allocations, isReady, listHostRecords, reachableNetworks, setReservation, type EffectiveHost } from '../state/hosts.js';
import { assignIps, ipamTxn, listUsedIps, loadNetworks, networksOf, wantedIps, type IpWant, type NetworkIndex, type UsedIps } from '../state/ipam.js';
import { appendEvents, event, logAppend } from '../state/sets.js';
import { PassRunner } from './coalesce.js';

export class PlacementController {
  private readonly runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'placement pass failed'), (seconds) => this.observePass?.(seconds));
  /** Last unschedulable message per set, so a repeated failure is recorded once. */
  private readonly lastFailure = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly resyncMs = 5000,
    /** Told how long each pass took, in seconds (the server's /metrics). */
    private readonly observePass?: (seconds: number) => void,
  ) {}

  start(): Promise<void> {
    return this.runner.start(this.store, {
      prefixes: [Keys.setsPrefix, Keys.hostsPrefix],
      // Heartbeats rewrite host keys every few seconds; only new hosts matter here, and resync covers the rest.
      wakes: (prefix, ev) => prefix === Keys.setsPrefix || ev.kv.version === 1,
      resyncMs: this.resyncMs,
    });
  }

  stop(): void {
    this.runner.stop();
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    this.runner.kick();
  }

  private async pass(): Promise<void> {
    const { items } = await this.store.list<SetObject>(Keys.setsPrefix);
    const nets = await loadNetworks(this.store);
    const wantsOf = (set: SetObject) => wantedIps(set.spec, nets);
    const pending = items.filter((kv) => !kv.value.host && !kv.value.deleting);
    const renumber = items.filter((kv) => kv.value.host && !kv.value.deleting && kv.value.spec.network && !satisfies(kv.value.ips, wantsOf(kv.value).wants));
    if (pending.length === 0 && renumber.length === 0) return;
    const [hosts, reservations, used] = await Promise.all([
      listHostRecords(this.store),
      this.store.list(Keys.reservationsPrefix),
      nets.byName.size > 0 ? listUsedIps(this.store) : Promise.resolve<UsedIps>(new Map()),
    ]);
    // Each host's reservation key is compared in the placement's transaction, so two
    // schedulers working from the same view can never both fill the same host.
    const reservationRev = new Map(reservations.items.map((kv) => [kv.key, kv.modRevision]));
    let view = clusterView(hosts, items.map((kv) => kv.value), Date.now(), nets);
    for (const kv of pending) {
      const set = kv.value;
      const ref = setRef(set);
      const { wants, errors } = wantsOf(set);
      if (errors.length > 0) {
        await this.failed(set, `cannot get the set's IPs: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'FailedIPAllocation');
        continue;
      }
      const req = { ...placementRequest(set), networks: networksOf(wants) };
      const result = schedule(view, req);
      if (result.kind === 'unschedulable') {
        await this.failed(set, result.message, 'FailedScheduling');
        continue;
      }
      const ips = this.assign(set, wants, nets, used);
      if (ips instanceof WharfError) {
        await this.failed(set, ips.message, 'FailedIPAllocation');
        continue;
      }
      const rKey = Keys.reservation(result.host);
      const placed: SetObject = { ...set, host: result.host, ...(ips.length ? { ips } : {}), updatedAt: new Date().toISOString() };
      if (!ips.length) delete placed.ips;
      const ipam = ipamTxn(set, set.ips, ips, nets);
      const from = set.movedFrom ? ` (moved from ${set.movedFrom})` : '';
      const addr = ips.length ? ` with IP ${ips.map((x) => x.ip).join(', ')}` : '';
      // The event goes in the placement's own commit.
      const logged = await logAppend(this.store, setKeys(set).events, [event('Normal', 'Scheduled', `placed on host ${result.host}${addr}${from}`)]);
      const r = await this.store.txn(
        [{ key: kv.key, modRevision: kv.modRevision }, { key: rKey, modRevision: reservationRev.get(rKey) ?? 0 }, ...ipam.compares, ...logged.compares],
        [{ type: 'put', key: kv.key, value: placed }, { type: 'put', key: rKey, value: { lastSet: ref } }, ...ipam.ops, ...logged.ops],
      );
      if (!r.succeeded) {
        // Someone else changed the set, the host's reservations or took an address: look again next pass.
        this.runner.requestAgain();
        return;
      }
      reservationRev.set(rKey, r.revision);
      claim(used, placed, set.ips);
      this.lastFailure.delete(ref);
      view = assume(view, result.host, req);
    }
    for (const kv of renumber) await this.renumber(kv, nets, used, hosts);
  }

  /** A placed set whose `network` spec changed: new addresses on the same host, when it reaches their networks. */
  private async renumber(kv: { key: string; modRevision: number; value: SetObject }, nets: NetworkIndex, used: UsedIps, hosts: EffectiveHost[]): Promise<void> {
    const set = kv.value;
    const { wants, errors } = wantedIps(set.spec, nets);
    if (errors.length > 0) return this.failed(set, `cannot change the set's IPs: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 'FailedIPAllocation', false);
    const host = hosts.find((h) => h.name === set.host);
    const missing = networksOf(wants).filter((n) => !host?.networks.some((x) => x.name === n));
    if (missing.length > 0) return this.failed(set, `cannot change the set's IPs: host ${set.host} does not reach network ${missing.join(', ')}`, 'FailedIPAllocation', false);
    const ips = this.assign(set, wants, nets, used);
    if (ips instanceof WharfError) return this.failed(set, ips.message, 'FailedIPAllocation', false);
    const ipam = ipamTxn(set, set.ips, ips, nets);
    const next: SetObject = { ...set, ips, updatedAt: new Date().toISOString() };
    const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }, ...ipam.compares], [{ type: 'put', key: kv.key, value: next }, ...ipam.ops]);
    if (!r.succeeded) {
      this.runner.requestAgain();
      return;
    }
    claim(used, next, set.ips);
    this.lastFailure.delete(setRef(set));
    await appendEvents(this.store, set, [event('Normal', 'IPsChanged', `IPs now ${ips.map((x) => `${x.ip} (${x.network})`).join(', ') || 'none'}`)]);
  }

  private assign(set: SetObject, wants: IpWant[], nets: NetworkIndex, used: UsedIps): SetIp[] | WharfError {
    try {
      return assignIps(set, wants, nets, used);
    } catch (err) {
      if (err instanceof WharfError) return err;
      throw err;
    }
  }

  /** Records why a set cannot be placed (once per distinct message); a pending set also shows it as its status. */
  private async failed(set: SetObject, message: string, reason: string, pending = true): Promise<void> {
    const ref = setRef(set);
    if (this.lastFailure.get(ref) === message) return;
    this.lastFailure.set(ref, message);
    await appendEvents(this.store, set, [event('Warning', reason, message)]);
    if (pending) {
      await this.store.put(setKeys(set).status, { phase: 'pending', observedGeneration: 0, message, containers: [], updatedAt: new Date().toISOString() });
    }
  }
}

/** The held addresses are what the wants ask for, in order. */
function satisfies(ips: SetIp[] | undefined, wants: IpWant[]): boolean {
  const held = ips ?? [];
  return held.length === wants.length && wants.every((w, i) => held[i]?.network === w.network && (!w.ip || held[i]?.ip === w.ip));
}

/** Keeps the pass's picture of used addresses current after a successful claim. */
function claim(used: UsedIps, set: SetObject, before: SetIp[] | undefined): void {
  for (const x of before ?? []) used.get(x.network)?.delete(x.ip);
  (set.ips ?? []).forEach((x, i) => {
    const m = used.get(x.network) ?? new Map();
    m.set(x.ip, { network: x.network, ip: x.ip, tenant: set.tenant, appkey: set.appkey, id: set.id, primary: i === 0, allocatedAt: set.updatedAt });
    used.set(x.network, m);
  });
}

/** The scheduler's read-only picture of the cluster, from host records and placed sets. */
export function clusterView(hosts: EffectiveHost[], sets: SetObject[], now: number, nets?: NetworkIndex): ClusterView {
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
      networks: nets ? reachableNetworks(h, nets.byName).map((n) => n.name) : h.networks.map((n) => n.name),
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
