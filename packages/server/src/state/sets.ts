import { WharfError, resolveSetSpec, type SetEvent, type SetObject, type SetStatus, type SetView } from '@wharf/types';
import type { Compare, KeyValue, Op, Store } from '@wharf/store';
import { Keys, setKeys } from './keys.js';
import { isReady, type HostRecord } from './hosts.js';

export const MAX_EVENTS = 100;

/** A capped event log as stored (a set's or an app's). */
export interface EventLog<E = SetEvent> {
  items: E[];
}

export interface SetRef {
  tenant: string;
  appkey: string;
  id: string;
}

export function notFound(ref: SetRef): WharfError {
  return new WharfError('SET_NOT_FOUND', `set ${ref.appkey}/${ref.id} not found`, { appkey: ref.appkey, id: ref.id });
}

/** Set ids in order: numerically when both are numbers ("2" before "10"), else by text. */
export function compareSetIds(a: string, b: string): number {
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b) || a.localeCompare(b);
  return a.localeCompare(b, undefined, { numeric: true });
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

/** The views of every set under `prefix` (all sets, or a tenant's or an app's), in key order. */
export async function listSetViews(store: Store, prefix: string = Keys.setsPrefix): Promise<SetView[]> {
  const [sets, statuses, hosts] = await Promise.all([
    store.list<SetObject>(prefix),
    store.list<SetStatus>(Keys.statusPrefix + prefix.slice(Keys.setsPrefix.length)),
    store.list<HostRecord>(Keys.hostsPrefix),
  ]);
  const statusByKey = new Map(statuses.items.map((kv) => [kv.key.slice(Keys.statusPrefix.length), kv.value]));
  const ready = new Map(hosts.items.map((kv) => [kv.value.name, isReady(kv.value)]));
  return sets.items.map((kv) =>
    setView(kv.value, statusByKey.get(kv.key.slice(Keys.setsPrefix.length)), kv.value.host ? ready.get(kv.value.host) ?? false : undefined),
  );
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
export function updateSet(store: Store, ref: SetRef, change: (s: SetObject) => SetObject | undefined): Promise<SetObject> {
  return updateKey(store, () => getSet(store, ref), change, `set ${ref.appkey}/${ref.id}`);
}

/**
 * Read-modify-write of one stored object (compare-and-swap, retried). `read` gets it
 * (throwing its not-found error); `change` returns the new value, or undefined to
 * leave it. CONFLICT, naming `what`, when it keeps changing under the writes.
 */
export async function updateKey<T>(store: Store, read: () => Promise<KeyValue<T>>, change: (value: T) => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const kv = await read();
    const next = change(kv.value);
    if (next === undefined) return kv.value;
    if ((await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'put', key: kv.key, value: next }])).succeeded) return next;
  }
  throw new WharfError('CONFLICT', `${what} is changing too often; try again`);
}

/**
 * The compare and the put that append `events` to the capped log at `key`, for a
 * caller's own transaction: each commit is an fsync, so a write that also logs an
 * event is one commit, not two. Nothing to do (no ops) when there are no events.
 */
export async function logAppend<E>(store: Store, key: string, events: E[]): Promise<{ compares: Compare[]; ops: Op[] }> {
  if (events.length === 0) return { compares: [], ops: [] };
  const kv = await store.get<EventLog<E>>(key);
  const items = [...(kv?.value.items ?? []), ...events].slice(-MAX_EVENTS);
  return { compares: [kv ? { key, modRevision: kv.modRevision } : { key, absent: true }], ops: [{ type: 'put', key, value: { items } }] };
}

/** Appends events to the capped log at `key` (compare-and-swap, retried). */
export async function appendToLog<E>(store: Store, key: string, events: E[]): Promise<void> {
  if (events.length === 0) return;
  for (let attempt = 0; attempt < 20; attempt++) {
    const { compares, ops } = await logAppend(store, key, events);
    if ((await store.txn(compares, ops)).succeeded) return;
  }
}

/** Appends events to a set's capped log. */
export function appendEvents(store: Store, ref: SetRef, events: SetEvent[]): Promise<void> {
  return appendToLog(store, setKeys(ref).events, events);
}

export async function readEvents(store: Store, ref: SetRef): Promise<SetEvent[]> {
  return (await store.get<EventLog>(setKeys(ref).events))?.value.items ?? [];
}

export function event(type: SetEvent['type'], reason: string, message: string): SetEvent {
  return { time: new Date().toISOString(), type, reason, message };
}
