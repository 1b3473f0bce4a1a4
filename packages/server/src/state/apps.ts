/**
 * Apps in the store (`/apps/<tenant>/<appkey>`): create or update, scale, the
 * deletion mark, the app's event log, and its view (the app with its sets). The
 * apps controller (controllers/apps.ts) makes the sets match.
 */
import { isDeepStrictEqual } from 'node:util';
import { WharfError, type AppEvent, type AppObject, type AppSet, type AppSpec, type AppView, type SetObject, type SetStatus, type SetView } from '@wharf/types';
import type { Compare, KeyValue, Op, Store } from '@wharf/store';
import { Keys, setKeys } from './keys.js';
import { isReady, type HostRecord } from './hosts.js';
import { releaseOps } from './ipam.js';
import { appendToLog, compareSetIds, event, logAppend, setView, updateKey, type EventLog } from './sets.js';

/** A set of an app with the view the API would serve for it. */
export interface AppMember {
  kv: KeyValue<SetObject>;
  view: SetView;
}

export function appNotFound(tenant: string, appkey: string): WharfError {
  return new WharfError('APP_NOT_FOUND', `app ${appkey} not found in tenant ${tenant}`, { appkey });
}

export async function getApp(store: Store, tenant: string, appkey: string): Promise<KeyValue<AppObject>> {
  const kv = await store.get<AppObject>(Keys.app(tenant, appkey));
  if (!kv) throw appNotFound(tenant, appkey);
  return kv;
}

export async function listApps(store: Store, tenant: string): Promise<KeyValue<AppObject>[]> {
  return (await store.list<AppObject>(Keys.tenantApps(tenant))).items;
}

/**
 * Creates the app or, when it exists, updates its spec (bumping the generation if it
 * changed). With `createOnly`, an existing app is an APP_EXISTS error.
 */
export async function applyApp(store: Store, tenant: string, spec: AppSpec, opts: { createOnly?: boolean; now?: Date } = {}): Promise<{ created: boolean; app: AppObject }> {
  const key = Keys.app(tenant, spec.appkey);
  for (let attempt = 0; attempt < 20; attempt++) {
    const now = (opts.now ?? new Date()).toISOString();
    const kv = await store.get<AppObject>(key);
    if (!kv) {
      const app: AppObject = { tenant, appkey: spec.appkey, spec, generation: 1, createdAt: now, updatedAt: now };
      if ((await store.txn([{ key, absent: true }], [{ type: 'put', key, value: app }])).succeeded) return { created: true, app };
      continue;
    }
    if (kv.value.deleting) throw beingDeleted(spec.appkey);
    if (opts.createOnly) throw new WharfError('APP_EXISTS', `app ${spec.appkey} exists in tenant ${tenant}; change it with apply, or scale it`, { appkey: spec.appkey });
    if (isDeepStrictEqual(kv.value.spec, spec)) return { created: false, app: kv.value };
    const app: AppObject = { ...kv.value, spec, generation: kv.value.generation + 1, updatedAt: now };
    if ((await store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'put', key, value: app }])).succeeded) return { created: false, app };
  }
  throw new WharfError('CONFLICT', `app ${spec.appkey} is changing too often; try again`);
}

function beingDeleted(appkey: string): WharfError {
  return new WharfError('CONFLICT', `app ${appkey} is being deleted; create it again once it is gone`, { appkey });
}

/** Read-modify-write of the app (compare-and-swap, retried); `change` returns undefined to leave it. */
export function updateApp(store: Store, tenant: string, appkey: string, change: (a: AppObject) => AppObject | undefined): Promise<AppObject> {
  return updateKey(store, () => getApp(store, tenant, appkey), change, `app ${appkey}`);
}

/**
 * Changes the app's spec, as a new generation; `change` returns undefined to leave
 * it. CONFLICT while the app is being deleted.
 */
export function updateAppSpec(store: Store, tenant: string, appkey: string, change: (spec: AppSpec) => AppSpec | undefined, now = new Date()): Promise<AppObject> {
  return updateApp(store, tenant, appkey, (a) => {
    if (a.deleting) throw beingDeleted(appkey);
    const spec = change(a.spec);
    return spec ? { ...a, spec, generation: a.generation + 1, updatedAt: now.toISOString() } : undefined;
  });
}

/**
 * Sets the replica count (and the warm pool's size when given); concurrent requests
 * serialise on the app's revision and the last one wins.
 */
export function scaleApp(store: Store, tenant: string, appkey: string, replicas: number, now = new Date(), warmPool?: number): Promise<AppObject> {
  return updateAppSpec(store, tenant, appkey, (spec) => {
    const pool = warmPool ?? spec.warmPool;
    if (spec.replicas === replicas && (spec.warmPool ?? 0) === (pool ?? 0)) return undefined;
    const { warmPool: _old, ...rest } = spec;
    return { ...rest, replicas, ...(pool ? { warmPool: pool } : {}) };
  }, now);
}

/** Marks the app deleting (so it scales no more) and asks for the deletion of each of its sets. */
export async function deleteApp(store: Store, tenant: string, appkey: string, now = new Date()): Promise<AppObject> {
  let first = false;
  const app = await updateApp(store, tenant, appkey, (a) => {
    first = !a.deleting;
    return first ? { ...a, deleting: true, updatedAt: now.toISOString() } : undefined;
  });
  const { items } = await store.list<SetObject>(Keys.appSets(tenant, appkey));
  await requestSetDeletions(store, items, 'app deleted');
  if (first) await appendAppEvents(store, tenant, appkey, [appEvent('Normal', 'Deleting', `deleting the app and its ${items.length} set${items.length === 1 ? '' : 's'}`, now)]);
  return app;
}

/**
 * The delete path of a set: marked deleting, its host's agent stops the containers
 * (in reverse index order) and confirms; a set never placed is forgotten at once.
 * False when the set changed meanwhile (the caller looks again).
 */
export async function requestSetDeletion(store: Store, kv: KeyValue<SetObject>, why: string, now = new Date()): Promise<boolean> {
  const w = await deletionWrite(store, kv, why, now);
  return !w || (await store.txn(w.compares, w.ops)).succeeded;
}

/** Sets per commit when many are deleted at once, and the most ops one commit takes (etcd's limit is 128). */
const DELETIONS_PER_COMMIT = 20;
const MAX_OPS_PER_COMMIT = 120;
/** Tries of one batch, each after reading its sets again, before it is done set by set. */
const BATCH_ATTEMPTS = 3;

/**
 * requestSetDeletion for many sets of an app being deleted, DELETIONS_PER_COMMIT to a
 * commit: deleting an app of 400 sets is 20 commits, not 800. A batch that loses a race
 * (another writer changed one of its sets: the API's DELETE and the apps controller
 * both delete an app's sets) is read again and tried again as a batch, sets already
 * marked dropping out; one that still fails, or would be too big for one commit, is
 * done set by set.
 * False when a set kept changing (the caller looks again).
 */
export async function requestSetDeletions(store: Store, kvs: KeyValue<SetObject>[], why: string, now = new Date()): Promise<boolean> {
  let ok = true;
  for (let i = 0; i < kvs.length; i += DELETIONS_PER_COMMIT) {
    let batch = kvs.slice(i, i + DELETIONS_PER_COMMIT);
    let done = false;
    for (let attempt = 0; attempt < BATCH_ATTEMPTS && !done; attempt++) {
      if (attempt > 0) batch = (await Promise.all(batch.map((kv) => store.get<SetObject>(kv.key)))).filter((kv) => kv !== undefined);
      const writes = (await Promise.all(batch.map((kv) => deletionWrite(store, kv, why, now)))).filter((w) => w !== undefined);
      if (writes.length === 0) done = true;
      else if (writes.reduce((n, w) => n + w.ops.length, 0) > MAX_OPS_PER_COMMIT) break;
      else done = (await store.txn(writes.flatMap((w) => w.compares), writes.flatMap((w) => w.ops))).succeeded;
    }
    if (!done) for (const kv of batch) ok = (await requestSetDeletion(store, kv, why, now)) && ok;
  }
  return ok;
}

/** The write that deletes a set: a set never placed is forgotten, a placed one marked (and the Deleting event logged); none when it is already deleting. */
async function deletionWrite(store: Store, kv: KeyValue<SetObject>, why: string, now: Date): Promise<{ compares: Compare[]; ops: Op[] } | undefined> {
  const s = kv.value;
  if (s.deleting) return undefined;
  const k = setKeys(s);
  const compares: Compare[] = [{ key: k.set, modRevision: kv.modRevision }];
  if (!s.host) return { compares, ops: [{ type: 'delete', key: k.set }, { type: 'delete', key: k.status }, { type: 'delete', key: k.events }, ...releaseOps(s)] };
  const logged = await logAppend(store, k.events, [event('Normal', 'Deleting', why)]);
  return { compares: [...compares, ...logged.compares], ops: [{ type: 'put', key: k.set, value: { ...s, deleting: true, updatedAt: now.toISOString() } }, ...logged.ops] };
}

export function appEvent(type: AppEvent['type'], reason: string, message: string, now = new Date()): AppEvent {
  return { time: now.toISOString(), type, reason, message };
}

/** Appends events to the app's capped log. */
export function appendAppEvents(store: Store, tenant: string, appkey: string, events: AppEvent[]): Promise<void> {
  return appendToLog(store, Keys.appEvents(tenant, appkey), events);
}

export async function readAppEvents(store: Store, tenant: string, appkey: string): Promise<AppEvent[]> {
  return (await store.get<EventLog<AppEvent>>(Keys.appEvents(tenant, appkey)))?.value.items ?? [];
}

/**
 * Every set of the app with its view (status, and whether its host is ready), by id.
 * `hostReady`, when the caller already has every host's readiness, saves reading
 * the hosts (a host it does not name counts as unknown, as in setView); otherwise a
 * host without a record is not ready.
 */
export async function loadMembers(store: Store, tenant: string, appkey: string, now = Date.now(), hostReady?: ReadonlyMap<string, boolean>): Promise<AppMember[]> {
  const statusPrefix = Keys.appStatuses(tenant, appkey);
  const [sets, statuses] = await Promise.all([store.list<SetObject>(Keys.appSets(tenant, appkey)), store.list<SetStatus>(statusPrefix)]);
  const statusOf = new Map(statuses.items.map((kv) => [kv.key.slice(statusPrefix.length), kv.value]));
  let ready = hostReady;
  if (!ready) {
    const hostNames = [...new Set(sets.items.flatMap((kv) => (kv.value.host ? [kv.value.host] : [])))];
    const hosts = await Promise.all(hostNames.map((h) => store.get<HostRecord>(Keys.host(h))));
    ready = new Map(hostNames.map((h, i) => [h, hosts[i] ? isReady(hosts[i].value, now) : false]));
  }
  return sets.items
    .map((kv) => ({ kv, view: setView(kv.value, statusOf.get(kv.value.id), kv.value.host ? ready.get(kv.value.host) : undefined) }))
    .sort((a, b) => compareSetIds(a.kv.value.id, b.kv.value.id));
}

/** Neither draining, nor being deleted, nor in the warm pool: the sets that count toward replicas. */
export function countsTowardReplicas(s: SetObject): boolean {
  return !s.deleting && !s.draining && !s.standby;
}

/** In the app's warm pool and not being deleted. */
export function inWarmPool(s: SetObject): boolean {
  return s.standby === true && !s.deleting;
}

function memberSummary(m: AppMember): AppSet {
  const s = m.kv.value;
  const ip = s.ips?.[0]?.ip;
  return {
    id: s.id,
    status: m.view.status,
    ready: m.view.ready,
    ...(s.host ? { host: s.host } : {}),
    ...(ip ? { ip } : {}),
    ...(s.draining && !s.deleting ? { draining: s.draining } : {}),
    ...(s.outOfRotation && !s.deleting ? { outOfRotation: s.outOfRotation } : {}),
    ...(inWarmPool(s) ? { standby: true } : {}),
    ...(m.view.message ? { message: m.view.message } : {}),
    createdAt: s.createdAt,
  };
}

/** `7/10 ready`, and what is under way: sets to create, sets leaving, failed sets. */
export function appMessage(app: AppObject, current: number, ready: number, leaving: number, failed: number, standby = 0): string {
  if (app.deleting) return `being deleted: ${current + leaving} set${current + leaving === 1 ? '' : 's'} left`;
  const replicas = app.spec.replicas;
  const parts = [`${ready}/${replicas} ready`];
  if (current < replicas) parts.push(`scaling out: ${replicas - current} to create`);
  if (current > replicas) parts.push(`scaling in: ${current - replicas} to leave`);
  if (leaving > 0) parts.push(`${leaving} leaving`);
  if (failed > 0) parts.push(`${failed} failed`);
  const pool = app.spec.warmPool ?? 0;
  if (pool > 0 || standby > 0) parts.push(`warm pool ${standby}/${pool}`);
  return parts.join('; ');
}

export function appView(app: AppObject, members: AppMember[]): AppView {
  const active = members.filter((m) => countsTowardReplicas(m.kv.value));
  const ready = active.filter((m) => m.view.ready).length;
  const standby = members.filter((m) => inWarmPool(m.kv.value)).length;
  const leaving = members.length - active.length - standby;
  const phases: Record<string, number> = {};
  for (const m of members) {
    const phase = m.kv.value.draining && !m.kv.value.deleting ? 'draining' : m.view.status;
    phases[phase] = (phases[phase] ?? 0) + 1;
  }
  return {
    tenant: app.tenant,
    appkey: app.appkey,
    spec: app.spec,
    generation: app.generation,
    ...(app.deleting ? { deleting: true } : {}),
    replicas: app.spec.replicas,
    current: active.length,
    ready,
    leaving,
    standby,
    phases,
    message: appMessage(app, active.length, ready, leaving, active.filter((m) => m.view.status === 'failed').length, standby),
    sets: members.map(memberSummary),
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}

export async function viewApp(store: Store, app: AppObject): Promise<AppView> {
  return appView(app, await loadMembers(store, app.tenant, app.appkey));
}

/** The app's update policy, as defaults for its rollouts; empty without an app. */
export async function rolloutDefaults(store: Store, tenant: string, appkey: string): Promise<{ batch?: number | string; maxUnavailable?: number }> {
  return (await store.get<AppObject>(Keys.app(tenant, appkey)))?.value.spec.update ?? {};
}
