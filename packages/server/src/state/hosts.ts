import type { Host, HostCapacity, HostNetwork, HostRegistration, NetworkObject, SetObject } from '@wharf/types';
import { HostRegistration as HostRegistrationSchema, resolveSetSpec } from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys } from './keys.js';

/** What the store keeps of a host; state and allocation are derived when read. */
export interface HostRecord extends HostRegistration {
  registeredAt: string;
  lastHeartbeat: string;
  cordoned: boolean;
  draining?: boolean;
  /** When the drain under way began and how many sets the host held then. */
  drainStarted?: { at: string; sets: number };
  /** Volumes (`tenant/appkey/id`) found full at the last heartbeat (see volume-fill.ts). */
  fullVolumes?: string[];
}

/** The record's fields an agent's registration carries: each heartbeat replaces them. */
const REGISTRATION_FIELDS = new Set(Object.keys(HostRegistrationSchema.properties));

/**
 * The host record after a heartbeat: the agent's registration, with everything the server
 * keeps of its own (registration time, cordon, drain) carried over from `prev`.
 * `fullVolumes` is what this heartbeat found (volume-fill.ts).
 */
export function heartbeatRecord(prev: HostRecord | undefined, registration: HostRegistration, now: string, fullVolumes: string[]): HostRecord {
  const kept = Object.fromEntries(Object.entries(prev ?? {}).filter(([k]) => !REGISTRATION_FIELDS.has(k) && k !== 'fullVolumes'));
  return {
    ...kept,
    ...registration,
    registeredAt: prev?.registeredAt ?? now,
    cordoned: prev?.cordoned ?? false,
    draining: prev?.draining ?? false,
    lastHeartbeat: now,
    ...(fullVolumes.length > 0 ? { fullVolumes } : {}),
  };
}

/** What `wharf host set` stores under /host-settings/<name>: it wins over what the agent declares. */
export interface HostSettings {
  networks?: HostNetwork[];
  bandwidth?: number;
}

/** A host record with its settings applied: networks and bandwidth in effect. */
export interface EffectiveHost extends HostRecord {
  networks: HostNetwork[];
  overrides?: HostSettings;
}

export function withSettings(h: HostRecord, settings: HostSettings | undefined): EffectiveHost {
  const bandwidth = settings?.bandwidth ?? h.capacity.bandwidth;
  return {
    ...h,
    networks: settings?.networks ?? h.networks ?? [],
    capacity: { ...h.capacity, ...(bandwidth !== undefined ? { bandwidth } : {}) },
    ...(settings && Object.keys(settings).length > 0 ? { overrides: settings } : {}),
  };
}

/** Networks a host attaches sets to: declared (or set) and, for a network with a zone, in that zone. */
export function reachableNetworks(h: EffectiveHost, networks: Map<string, NetworkObject>): HostNetwork[] {
  return h.networks.filter((n) => {
    const net = networks.get(n.name);
    return net !== undefined && (!net.zone || net.zone === h.zone);
  });
}

/** A host whose agent has not heartbeated for this long is not ready. */
export const HEARTBEAT_GRACE_MS = 20_000;

export function isReady(h: HostRecord, now = Date.now()): boolean {
  return now - Date.parse(h.lastHeartbeat) < HEARTBEAT_GRACE_MS;
}

/** A set without a volume (or marked relocatable) may be moved to another host. */
export function isRelocatable(s: SetObject): boolean {
  if (s.spec.placement?.relocatable) return true;
  return !s.spec.containers.some((c) => (c.options.volumes ?? []).length > 0);
}

/** What a set reserves on its host: cpu cores, memory, disk, and uplink bandwidth (the larger of its egress and ingress limits). */
export function setReservation(s: SetObject): HostCapacity {
  const r = resolveSetSpec(s.spec);
  if (!r.ok) return { cpu: 0, memory: 0, disk: 0 };
  const bandwidth = Math.max(r.set.bandwidth.egress ?? 0, r.set.bandwidth.ingress ?? 0);
  return { cpu: r.set.cpu, memory: r.set.memoryBytes, disk: r.set.diskBytes, ...(bandwidth > 0 ? { bandwidth } : {}) };
}

/** a + sign × b, resource by resource (bandwidth only when either has it). */
export function addCapacity(a: HostCapacity, b: HostCapacity, sign: 1 | -1 = 1): HostCapacity {
  const bandwidth = (a.bandwidth ?? 0) + sign * (b.bandwidth ?? 0);
  return {
    cpu: a.cpu + sign * b.cpu,
    memory: a.memory + sign * b.memory,
    disk: a.disk + sign * b.disk,
    ...(a.bandwidth !== undefined || b.bandwidth !== undefined ? { bandwidth } : {}),
  };
}

export interface Allocation {
  allocated: HostCapacity;
  sets: number;
}

export function allocations(sets: SetObject[]): Map<string, Allocation> {
  const out = new Map<string, Allocation>();
  for (const s of sets) {
    if (!s.host) continue;
    const a = out.get(s.host) ?? { allocated: { cpu: 0, memory: 0, disk: 0 }, sets: 0 };
    a.allocated = addCapacity(a.allocated, setReservation(s));
    a.sets += 1;
    out.set(s.host, a);
  }
  return out;
}

/** A silent host is not-ready whatever else it is; otherwise draining beats cordoned. */
export function hostState(h: HostRecord, now = Date.now()): Host['state'] {
  if (!isReady(h, now)) return 'not-ready';
  if (h.draining) return 'draining';
  return h.cordoned ? 'cordoned' : 'ready';
}

export function hostView(h: EffectiveHost, alloc: Allocation | undefined, sets: SetObject[] = [], now = Date.now()): Host {
  const here = sets.filter((s) => s.host === h.name && !s.deleting);
  return {
    ...h,
    draining: h.draining ?? false,
    state: hostState(h, now),
    allocated: alloc?.allocated ?? { cpu: 0, memory: 0, disk: 0 },
    sets: alloc?.sets ?? 0,
    ...(h.draining
      ? {
          drain: {
            ...(h.drainStarted ? { startedAt: h.drainStarted.at, total: h.drainStarted.sets } : {}),
            remaining: here.length,
            moving: sets.filter((s) => s.movedFrom === h.name && !s.deleting).length,
            blocked: here.filter((s) => !isRelocatable(s)).map((s) => `${s.appkey}/${s.id}`),
          },
        }
      : {}),
  };
}

/** Every host with its settings applied. */
export async function listHostRecords(store: Store): Promise<EffectiveHost[]> {
  const [hosts, settings] = await Promise.all([store.list<HostRecord>(Keys.hostsPrefix), store.list<HostSettings>(Keys.hostSettingsPrefix)]);
  const byName = new Map(settings.items.map((kv) => [kv.key.slice(Keys.hostSettingsPrefix.length), kv.value]));
  return hosts.items.map((kv) => withSettings(kv.value, byName.get(kv.value.name)));
}

export async function getEffectiveHost(store: Store, name: string): Promise<EffectiveHost | undefined> {
  const [h, settings] = await Promise.all([store.get<HostRecord>(Keys.host(name)), store.get<HostSettings>(Keys.hostSettings(name))]);
  return h ? withSettings(h.value, settings?.value) : undefined;
}

export async function listAllSets(store: Store): Promise<SetObject[]> {
  return (await store.list<SetObject>(Keys.setsPrefix)).items.map((kv) => kv.value);
}
