import { WharfError, resolveSetSpec, type SetEvent, type SetObject, type SetStatus, type SetView } from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys, setKeys } from './keys.js';

export const MAX_EVENTS = 100;

export interface EventLog {
  items: SetEvent[];
}

export interface SetRef {
  tenant: string;
  appkey: string;
  id: string;
}

export function notFound(ref: SetRef): WharfError {
  return new WharfError('SET_NOT_FOUND', `set ${ref.appkey}/${ref.id} not found`, { appkey: ref.appkey, id: ref.id });
}

/** Desired and actual state side by side, as the API serves a set. */
export function setView(s: SetObject, status: SetStatus | undefined, hostReady: boolean | undefined): SetView {
  const r = resolveSetSpec(s.spec);
  const resources = r.ok ? { cpu: r.set.cpu, memory: r.set.memoryBytes, disk: r.set.diskBytes } : { cpu: 0, memory: 0, disk: 0 };
  const current = status && status.host === s.host ? status : undefined;
  let phase: SetView['status'] = current?.phase ?? 'pending';
  let message = current?.message;
  if (s.deleting) phase = 'deleting';
  else if (!s.host) {
    phase = 'pending';
    message = status?.message ?? 'waiting to be scheduled';
  } else if (!current) message = `waiting for host ${s.host}`;
  if (s.host && hostReady === false) message = `host ${s.host} is not ready; status may be stale`;
  return {
    tenant: s.tenant,
    appkey: s.appkey,
    id: s.id,
    generation: s.generation,
    observedGeneration: current?.observedGeneration ?? 0,
    desired: s.desired,
    status: phase,
    ready: phase === 'running' && current?.ready === true && current.observedGeneration === s.generation && hostReady !== false,
    ...(message ? { message } : {}),
    ...(s.host ? { host: s.host } : {}),
    resources,
    ips: s.ips ?? [],
    containers: current?.containers ?? [],
    spec: s.spec,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export async function getSet(store: Store, ref: SetRef) {
  const kv = await store.get<SetObject>(Keys.set(ref.tenant, ref.appkey, ref.id));
  if (!kv) throw notFound(ref);
  return kv;
}

/**
 * Read-modify-write of one set with compare-and-swap, retried on conflict.
 * `change` returns the new object, or undefined to leave it as it is.
 */
export async function updateSet(store: Store, ref: SetRef, change: (s: SetObject) => SetObject | undefined): Promise<SetObject> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const kv = await getSet(store, ref);
    const next = change(kv.value);
    if (!next) return kv.value;
    const r = await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'put', key: kv.key, value: next }]);
    if (r.succeeded) return next;
  }
  throw new WharfError('CONFLICT', `set ${ref.appkey}/${ref.id} is changing too often; try again`);
}

/** Appends events to a set's capped log (compare-and-swap, retried). */
export async function appendEvents(store: Store, ref: SetRef, events: SetEvent[]): Promise<void> {
  if (events.length === 0) return;
  const key = setKeys(ref).events;
  for (let attempt = 0; attempt < 20; attempt++) {
    const kv = await store.get<EventLog>(key);
    const items = [...(kv?.value.items ?? []), ...events].slice(-MAX_EVENTS);
    const cmp = kv ? { key, modRevision: kv.modRevision } : { key, absent: true as const };
    if ((await store.txn([cmp], [{ type: 'put', key, value: { items } }])).succeeded) return;
  }
}

export async function readEvents(store: Store, ref: SetRef): Promise<SetEvent[]> {
  return (await store.get<EventLog>(setKeys(ref).events))?.value.items ?? [];
}

export function event(type: SetEvent['type'], reason: string, message: string): SetEvent {
  return { time: new Date().toISOString(), type, reason, message };
}
