/**
 * Rollouts in the store: creating one (its targets from the app's sets), reading
 * them, and the state changes people ask for (pause, resume, rollback). The
 * controller (controllers/rollout.ts) moves them forward.
 */
import {
  DEFAULT_BATCH,
  WharfError,
  batchSizeOf,
  type AppObject,
  type Rollout,
  type RolloutRequest,
  type RolloutState,
  type RolloutTarget,
  type SetObject,
  type SetSpec,
} from '@wharf/types';
import type { KeyValue, Store } from '@wharf/store';
import { Keys } from './keys.js';
import { compareSetIds, notFound, updateKey } from './sets.js';

export const DEFAULT_TIMEOUT_SECONDS = 300;

/** A target as stored: the API shows only the RolloutTarget fields. */
export interface StoredTarget extends RolloutTarget {
  /** The set generation that carries the rollout's change (forward, or back while rolling back). */
  generation?: number;
  /** The set was deleted during the rollout and is left out. */
  skipped?: boolean;
  /** Someone else changed the container's image: the rollout never writes this set again. */
  foreign?: boolean;
  /** Queued to get its `from` image back. */
  restore?: boolean;
  /** It did not become ready again on its `from` image; not retried. */
  rollbackFailed?: boolean;
  /** Out of the endpoints (its set's `outOfRotation`) until the rollout's `drainUntil`; changed then. */
  draining?: boolean;
}

/** A rollout as stored: the API shows only the Rollout fields. */
export interface StoredRollout extends Rollout {
  targets: StoredTarget[];
  /** The pause after the first batch has happened (a resume goes on from there). */
  pausedAfterFirst?: boolean;
  /** Why a rollback began (a failed batch, or a person). */
  cause?: string;
  /** Since when the next batch waits for sets of the app to be ready again (maxUnavailable). */
  blockedSince?: string;
  /** The current batch's draining targets are changed at this time; their batch timeout counts from it. */
  drainUntil?: string;
  /** An app-wide rollout of an app: the template's image of the container when it began (see followTemplate). */
  templateFrom?: string;
}

export type RolloutAction = 'pause' | 'resume' | 'rollback';

const ACTIVE: readonly RolloutState[] = ['running', 'paused', 'rolling-back'];

export function isActive(state: RolloutState): boolean {
  return ACTIVE.includes(state);
}

/** The image of the business container named `name`, or undefined when the spec has none. */
export function containerImage(spec: Pick<SetSpec, 'containers'>, name: string): string | undefined {
  return spec.containers.find((c) => c.options.name === name)?.image;
}

/** A set spec (or an app's template) with the image of container `name` changed. */
export function withContainerImage<S extends Pick<SetSpec, 'containers'>>(spec: S, name: string, image: string): S {
  return { ...spec, containers: spec.containers.map((c) => (c.options.name === name ? { ...c, image } : c)) };
}

export function rolloutName(r: { number: number; appkey: string }): string {
  return `rollout ${r.number} of app ${r.appkey}`;
}

export async function listRollouts(store: Store, tenant: string, appkey: string): Promise<KeyValue<StoredRollout>[]> {
  return (await store.list<StoredRollout>(Keys.appRollouts(tenant, appkey))).items;
}

/** One rollout by number, or the newest with 'current'. */
export async function getRollout(store: Store, tenant: string, appkey: string, which: number | 'current'): Promise<KeyValue<StoredRollout>> {
  const kv = which === 'current' ? (await listRollouts(store, tenant, appkey)).at(-1) : await store.get<StoredRollout>(Keys.rollout(tenant, appkey, which));
  if (!kv) {
    const what = which === 'current' ? `app ${appkey} has no rollout` : `app ${appkey} has no rollout ${which}`;
    throw new WharfError('ROLLOUT_NOT_FOUND', `${what} in tenant ${tenant}`, { appkey, ...(which === 'current' ? {} : { number: which }) });
  }
  return kv;
}

/** The sets the rollout changes, ordered by id; throws when there are none. */
export function chooseTargets(sets: SetObject[], req: RolloutRequest, where: { tenant: string; appkey: string }): SetObject[] {
  // The warm pool follows the app's template: the apps controller replaces its sets.
  const live = sets.filter((s) => !s.deleting && !s.standby);
  if (live.length === 0) throw new WharfError('APP_NOT_FOUND', `app ${where.appkey} has no sets in tenant ${where.tenant}`, { appkey: where.appkey });
  const scope = req.set === undefined ? live : live.filter((s) => s.id === req.set);
  if (scope.length === 0) throw notFound({ ...where, id: req.set ?? '' });
  const targets = scope.filter((s) => containerImage(s.spec, req.container) !== undefined).sort((a, b) => compareSetIds(a.id, b.id));
  if (targets.length === 0) {
    const names = [...new Set(scope.flatMap((s) => s.spec.containers.map((c) => c.options.name)))].sort();
    const whose = req.set === undefined ? `no set of app ${where.appkey} has` : `set ${where.appkey}/${req.set} has no`;
    throw new WharfError('CONTAINER_NOT_FOUND', `${whose} a container "${req.container}"; the containers there are: ${names.join(', ')}`, {
      container: req.container,
      containers: names,
    });
  }
  return targets;
}

/** A new rollout from the request and the app's sets (pure). Sets already on the image count as updated. */
export function newRollout(sets: SetObject[], req: RolloutRequest, where: { tenant: string; appkey: string; number: number }, now: string): StoredRollout {
  const chosen = chooseTargets(sets, req, where);
  const batchSize = batchSizeOf(req.batch ?? DEFAULT_BATCH, chosen.length);
  const targets: StoredTarget[] = chosen.map((s) => {
    const from = containerImage(s.spec, req.container) ?? '';
    return from === req.image ? { id: s.id, from, state: 'updated', message: `already runs ${req.image}` } : { id: s.id, from, state: 'waiting' };
  });
  const waiting = targets.filter((t) => t.state === 'waiting').length;
  const r: StoredRollout = {
    tenant: where.tenant,
    appkey: where.appkey,
    number: where.number,
    container: req.container,
    image: req.image,
    ...(req.set !== undefined ? { set: req.set } : {}),
    batchSize,
    maxUnavailable: req.maxUnavailable ?? batchSize,
    pauseAfterFirst: req.pauseAfterFirst ?? false,
    autoRollback: req.autoRollback ?? false,
    timeoutSeconds: req.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    state: 'running',
    batch: 0,
    batches: Math.ceil(waiting / batchSize),
    targets,
    createdAt: now,
    updatedAt: now,
  };
  if (waiting === 0) Object.assign(r, { state: 'succeeded', finishedAt: now, message: `every set already runs ${req.image}` });
  return r;
}

/**
 * Creates the app's next rollout. The write compares the newest rollout, so two
 * starts at once, or a start racing a rollback, cannot both succeed.
 */
export async function createRollout(store: Store, tenant: string, appkey: string, req: RolloutRequest, now = new Date()): Promise<StoredRollout> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [sets, history] = await Promise.all([store.list<SetObject>(Keys.appSets(tenant, appkey)), listRollouts(store, tenant, appkey)]);
    const newest = history.at(-1);
    if (newest && isActive(newest.value.state)) {
      const r = newest.value;
      throw new WharfError('ROLLOUT_IN_PROGRESS', `${rolloutName(r)} is ${r.state} (${r.container} → ${r.image}); wait for it to end or roll it back first`, {
        appkey,
        number: r.number,
        state: r.state,
      });
    }
    const number = (newest?.value.number ?? 0) + 1;
    const rollout = newRollout(sets.items.map((kv) => kv.value), req, { tenant, appkey, number }, now.toISOString());
    const app = req.set === undefined ? await store.get<AppObject>(Keys.app(tenant, appkey)) : undefined;
    const templateFrom = app ? containerImage(app.value.spec.template, req.container) : undefined;
    if (templateFrom !== undefined) rollout.templateFrom = templateFrom;
    const key = Keys.rollout(tenant, appkey, number);
    const compares = [{ key, absent: true as const }, ...(newest ? [{ key: newest.key, modRevision: newest.modRevision }] : [])];
    if ((await store.txn(compares, [{ type: 'put', key, value: rollout }])).succeeded) return rollout;
  }
  throw new WharfError('CONFLICT', `the rollouts of app ${appkey} are changing too often; try again`);
}

/**
 * The image an app's template should have for an app-wide rollout, and the one it is
 * changed from: the rollout's image while it goes forward (new sets, the warm pool
 * included, get it), its previous one again once it rolls back. Undefined when the
 * template is left alone: not an app-wide rollout of an app, the template already
 * right, or changed by someone else meanwhile (that edit wins).
 */
export function followTemplate(r: StoredRollout, template: Pick<SetSpec, 'containers'>): { from: string; to: string } | undefined {
  if (r.set !== undefined || r.templateFrom === undefined || r.templateFrom === r.image) return undefined;
  const back = r.state === 'rolling-back' || r.state === 'rolled-back';
  const move = back ? { from: r.image, to: r.templateFrom } : { from: r.templateFrom, to: r.image };
  return containerImage(template, r.container) === move.from ? move : undefined;
}

/**
 * Queues every target the rollout changed to get its `from` image back. Targets
 * someone else changed, and sets that already ran the image, are left alone.
 */
export function beginRollback(r: StoredRollout, cause: string): void {
  stopDraining(r);
  let queued = 0;
  for (const t of r.targets) {
    const changed = t.state === 'updating' || t.state === 'updated' || t.state === 'failed';
    if (changed && t.generation !== undefined && !t.skipped && !t.foreign && t.from !== r.image) {
      t.restore = true;
      queued++;
    }
  }
  r.state = 'rolling-back';
  r.cause = cause;
  r.message = `${cause}; rolling back`;
  r.batch = 0;
  r.batches = Math.ceil(queued / r.batchSize);
  delete r.finishedAt;
  delete r.batchStartedAt;
  delete r.blockedSince;
}

/**
 * Targets still draining were not changed: they wait again (the controller puts
 * their sets back into the endpoints).
 */
export function stopDraining(r: StoredRollout): void {
  for (const t of r.targets) {
    if (!t.draining) continue;
    delete t.draining;
    t.state = 'waiting';
    t.message = 'not changed: the rollout stopped while the set was out of the endpoints';
    delete t.batch;
  }
  delete r.drainUntil;
}

const STATE_TEXT: Record<RolloutState, string> = {
  running: 'is running',
  paused: 'is paused',
  succeeded: 'has succeeded',
  failed: 'has failed',
  'rolling-back': 'is already rolling back',
  'rolled-back': 'has already been rolled back',
};

/** The rollout after `action`, or a CONFLICT saying why its state does not allow it. */
export function applyAction(r: StoredRollout, action: RolloutAction, now: string): StoredRollout {
  const next = structuredClone(r);
  const refuse = (rule: string) => new WharfError('CONFLICT', `${rolloutName(r)} ${STATE_TEXT[r.state]}; ${rule}`, { number: r.number, state: r.state });
  switch (action) {
    case 'pause':
      if (r.state !== 'running') throw refuse('only a running rollout can be paused');
      next.state = 'paused';
      next.message = 'paused; resume to go on (a batch under way still finishes)';
      delete next.blockedSince;
      break;
    case 'resume':
      if (r.state !== 'paused') throw refuse('only a paused rollout can be resumed');
      next.state = 'running';
      delete next.message;
      break;
    case 'rollback':
      if (r.state === 'rolling-back' || r.state === 'rolled-back') throw refuse('a rollout is rolled back once');
      beginRollback(next, r.state === 'succeeded' ? 'undo requested' : 'rollback requested');
      break;
  }
  next.updatedAt = now;
  return next;
}

/** Pause, resume or roll back the app's newest rollout (compare-and-swap, retried). */
export function changeRollout(store: Store, tenant: string, appkey: string, action: RolloutAction, now = new Date()): Promise<StoredRollout> {
  return updateKey(store, () => getRollout(store, tenant, appkey, 'current'), (r) => applyAction(r, action, now.toISOString()), `the current rollout of app ${appkey}`);
}
