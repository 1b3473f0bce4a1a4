import type { Host, HostCapacity, HostRegistration, SetObject } from '@wharf/types';
import { resolveSetSpec } from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys } from './keys.js';

/** What the store keeps of a host; state and allocation are derived when read. */
export interface HostRecord extends HostRegistration {
  registeredAt: string;
  lastHeartbeat: string;
  cordoned: boolean;
  draining?: boolean;
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

/** What a set reserves on its host: its resources (cpu cores, memory, disk). */
export function setReservation(s: SetObject): HostCapacity {
  const r = resolveSetSpec(s.spec);
  return r.ok ? { cpu: r.set.cpu, memory: r.set.memoryBytes, disk: r.set.diskBytes } : { cpu: 0, memory: 0, disk: 0 };
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
    const r = setReservation(s);
    a.allocated = { cpu: a.allocated.cpu + r.cpu, memory: a.allocated.memory + r.memory, disk: a.allocated.disk + r.disk };
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

export function hostView(h: HostRecord, alloc: Allocation | undefined, sets: SetObject[] = [], now = Date.now()): Host {
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
            remaining: here.length,
            moving: sets.filter((s) => s.movedFrom === h.name && !s.deleting).length,
            blocked: here.filter((s) => !isRelocatable(s)).map((s) => `${s.appkey}/${s.id}`),
          },
        }
      : {}),
  };
}

export async function listHostRecords(store: Store): Promise<HostRecord[]> {
  return (await store.list<HostRecord>(Keys.hostsPrefix)).items.map((kv) => kv.value);
}

export async function listAllSets(store: Store): Promise<SetObject[]> {
  return (await store.list<SetObject>(Keys.setsPrefix)).items.map((kv) => kv.value);
}
