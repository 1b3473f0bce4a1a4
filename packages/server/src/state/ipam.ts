/**
 * The IPAM: which addresses of which network a set holds. Every address a set holds
 * is a key `/ipam/<network>/<ip>`; a placement claims its keys with "absent"
 * compares in the same transaction that writes the set's host, so an address is
 * never given twice, and the delete that forgets a set deletes its keys with it.
 *
 * Addresses are sticky: a set that already holds an address on a network keeps it
 * (across restarts, updates and moves); only a fixed `ip` that differs replaces it.
 */
import {
  WharfError,
  formatIpv4,
  networkRange,
  parseCidr,
  parseIpv4,
  rangeSize,
  type FieldError,
  type IpAllocation,
  type NetworkObject,
  type SetIp,
  type SetObject,
  type SetSpec,
} from '@wharf/types';
import type { Compare, Op, Store } from '@wharf/store';
import { Keys } from './keys.js';

/** One address a set asks for: on `network`, exactly `ip` when given. */
export interface IpWant {
  network: string;
  ip?: string;
}

/** The networks by name, the default one, and the store revision of each (compared when claiming addresses). */
export interface NetworkIndex {
  byName: Map<string, NetworkObject>;
  defaultNetwork?: NetworkObject;
  revisions: Map<string, number>;
}

/** A network being removed is marked first, so no placement can claim an address of it meanwhile. */
type StoredNetwork = NetworkObject & { deleting?: boolean };

export async function listNetworks(store: Store): Promise<NetworkObject[]> {
  return [...(await loadNetworks(store)).byName.values()];
}

/** Every network that is not being removed. */
export async function loadNetworks(store: Store): Promise<NetworkIndex> {
  const { items } = await store.list<StoredNetwork>(Keys.networksPrefix);
  const live = items.filter((kv) => !kv.value.deleting);
  const byName = new Map(live.map((kv) => {
    const { deleting: _d, ...n } = kv.value;
    return [n.name, n];
  }));
  const def = [...byName.values()].find((n) => n.default);
  return { byName, revisions: new Map(live.map((kv) => [kv.value.name, kv.modRevision])), ...(def ? { defaultNetwork: def } : {}) };
}

/**
 * The addresses a spec asks for: the primary (on `network.name`, else the default
 * network) and the extras. Empty when the set names no network and there is no
 * default: it runs on Docker's own bridge.
 */
export function wantedIps(spec: SetSpec, nets: NetworkIndex): { wants: IpWant[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const n = spec.network;
  const primaryNet = n?.name ?? nets.defaultNetwork?.name;
  if (!primaryNet) {
    if (n && (n.ip || n.extra?.length)) errors.push({ path: 'network.name', message: 'is required: there is no default network (create one with --default, or name a network)' });
    return { wants: [], errors };
  }
  const wants: IpWant[] = [{ network: primaryNet, ...(n?.ip ? { ip: n.ip } : {}) }];
  n?.extra?.forEach((x) => wants.push({ network: x.network ?? primaryNet, ...(x.ip ? { ip: x.ip } : {}) }));
  wants.forEach((w, i) => {
    const path = i === 0 ? (n?.name ? 'network.name' : 'network') : `network.extra[${i - 1}]`;
    const net = nets.byName.get(w.network);
    if (!net) {
      errors.push({ path: i === 0 ? path : `${path}.network`, message: `network "${w.network}" does not exist` });
      return;
    }
    if (w.ip) errors.push(...fixedIpErrors(net, w.ip).map((message) => ({ path: i === 0 ? 'network.ip' : `${path}.ip`, message })));
  });
  const fixed = wants.filter((w) => w.ip).map((w) => `${w.network}/${w.ip}`);
  const dup = fixed.find((f, i) => fixed.indexOf(f) !== i);
  if (dup) errors.push({ path: 'network', message: `${dup.split('/')[1]} is asked for twice` });
  return { wants, errors };
}

function fixedIpErrors(net: NetworkObject, ip: string): string[] {
  const n = parseIpv4(ip);
  const cidr = parseCidr(net.subnet);
  if (n === undefined || !cidr) return [`"${ip}" is not an IPv4 address`];
  if (n < cidr.first || n > cidr.last) return [`${ip} is not in network ${net.name} (${net.subnet})`];
  if (ip === net.gateway) return [`${ip} is the gateway of network ${net.name}`];
  if (cidr.size > 2 && (n === cidr.first || n === cidr.last)) return [`${ip} is the network or broadcast address of ${net.subnet}`];
  return [];
}

/** Addresses in use per network, from the IPAM keys. */
export type UsedIps = Map<string, Map<string, IpAllocation>>;

export async function listUsedIps(store: Store, network?: string): Promise<UsedIps> {
  const { items } = await store.list<IpAllocation>(network ? `${Keys.ipamPrefix}${network}/` : Keys.ipamPrefix);
  const used: UsedIps = new Map();
  for (const kv of items) {
    const m = used.get(kv.value.network) ?? new Map<string, IpAllocation>();
    m.set(kv.value.ip, kv.value);
    used.set(kv.value.network, m);
  }
  return used;
}

function ownedBy(a: IpAllocation | undefined, set: SetObject): boolean {
  return a !== undefined && a.tenant === set.tenant && a.appkey === set.appkey && a.id === set.id;
}

/** The lowest free address of the network's range, or undefined when it is full. */
function firstFree(net: NetworkObject, taken: (ip: string) => boolean): string | undefined {
  const range = networkRange(net);
  if (!range) return undefined;
  for (let n = range.start; n <= range.end; n++) {
    const ip = formatIpv4(n);
    if (ip !== net.gateway && !taken(ip)) return ip;
  }
  return undefined;
}

export function exhausted(net: NetworkObject, used: number): WharfError {
  const range = networkRange(net);
  const span = range ? `${formatIpv4(range.start)}-${formatIpv4(range.end)}` : net.subnet;
  return new WharfError('NETWORK_EXHAUSTED', `network ${net.name} has no free IP: all ${rangeSize(net)} addresses of ${span} are in use (${used} held by sets)`, { network: net.name });
}

/**
 * The addresses the set should hold: what it holds already when that still
 * matches, else fixed or first-free addresses. Throws a WharfError naming the
 * network when an address is taken or a network is full.
 */
export function assignIps(set: SetObject, wants: IpWant[], nets: NetworkIndex, used: UsedIps): SetIp[] {
  const kept = [...(set.ips ?? [])];
  const chosen: SetIp[] = [];
  const pickedHere = new Set<string>();
  const taken = (network: string, ip: string) => pickedHere.has(`${network}/${ip}`) || (used.get(network)?.has(ip) === true && !ownedBy(used.get(network)?.get(ip), set));
  for (const w of wants) {
    const net = nets.byName.get(w.network);
    if (!net) throw new WharfError('NETWORK_NOT_FOUND', `network ${w.network} does not exist`, { network: w.network });
    const i = kept.findIndex((k) => k.network === w.network && (!w.ip || k.ip === w.ip));
    let ip: string | undefined;
    if (i >= 0) {
      ip = kept[i]?.ip;
      kept.splice(i, 1);
    } else if (w.ip) {
      if (taken(w.network, w.ip)) {
        const holder = used.get(w.network)?.get(w.ip);
        throw new WharfError('IP_IN_USE', `${w.ip} of network ${w.network} is used by set ${holder ? `${holder.appkey}/${holder.id}` : 'another set'}`, { network: w.network, ip: w.ip });
      }
      ip = w.ip;
    } else {
      ip = firstFree(net, (x) => taken(w.network, x) || wants.some((o) => o.network === w.network && o.ip === x));
      if (!ip) throw exhausted(net, used.get(w.network)?.size ?? 0);
    }
    if (!ip) continue;
    pickedHere.add(`${w.network}/${ip}`);
    chosen.push({ network: w.network, ip });
  }
  return chosen;
}

export function sameIps(a: SetIp[] | undefined, b: SetIp[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/**
 * The compares and operations that move a set from holding `before` to holding
 * `after`: new keys must be absent, kept keys are rewritten (primary may change),
 * dropped keys are deleted.
 */
export function ipamTxn(set: SetObject, before: SetIp[] | undefined, after: SetIp[], nets: NetworkIndex, now = new Date().toISOString()): { compares: Compare[]; ops: Op[] } {
  // The network must still be the one read (not removed or being removed) when the claim lands.
  const compares: Compare[] = [...new Set(after.map((x) => x.network))].map((n) => ({ key: Keys.network(n), modRevision: nets.revisions.get(n) ?? 0 }));
  const ops: Op[] = [];
  const had = new Set((before ?? []).map((x) => Keys.ip(x.network, x.ip)));
  const has = new Set(after.map((x) => Keys.ip(x.network, x.ip)));
  after.forEach((x, i) => {
    const key = Keys.ip(x.network, x.ip);
    if (!had.has(key)) compares.push({ key, absent: true });
    const value: IpAllocation = { network: x.network, ip: x.ip, tenant: set.tenant, appkey: set.appkey, id: set.id, primary: i === 0, allocatedAt: now };
    ops.push({ type: 'put', key, value });
  });
  for (const key of had) if (!has.has(key)) ops.push({ type: 'delete', key });
  return { compares, ops };
}

/** Deletes of every IPAM key the set holds (for the transaction that forgets it). */
export function releaseOps(set: SetObject): Op[] {
  return (set.ips ?? []).map((x) => ({ type: 'delete' as const, key: Keys.ip(x.network, x.ip) }));
}

/** Networks a set asks for addresses on: its host must reach all of them. */
export function networksOf(wants: IpWant[]): string[] {
  return [...new Set(wants.map((w) => w.network))].sort();
}

export function describeHolder(a: IpAllocation): string {
  return `${a.ip} (${a.tenant === 'default' ? '' : `${a.tenant}/`}${a.appkey}/${a.id})`;
}

/**
 * Admission check of a spec's addresses, so `apply` fails at once with a clear
 * error rather than leaving the set pending: networks exist, fixed addresses are
 * valid and free, and a network to take an address from is not full. The
 * placement's transaction stays the authority.
 */
export async function admitIps(store: Store, set: Pick<SetObject, 'tenant' | 'appkey' | 'id' | 'ips'>, spec: SetSpec): Promise<void> {
  const nets = await loadNetworks(store);
  const { wants, errors } = wantedIps(spec, nets);
  if (errors.length > 0) throw WharfError.validation(errors);
  if (wants.length === 0) return;
  const used = await listUsedIps(store);
  const probe = { ...set, ips: set.ips ?? [] } as SetObject;
  assignIps(probe, wants, nets, used);
}
