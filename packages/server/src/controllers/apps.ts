/**
 * The apps controller: level-triggered, like the placement controller. Whenever an
 * app or a set changes (and every few seconds, and at each drain deadline), every
 * app's sets are made to match it:
 * - fewer sets counting toward replicas than wanted: draining sets are kept
 *   (their drain cancelled), then new sets are created from the template with the
 *   next free ids (1, 2, 3 … filling gaps), all in one pass; the placement
 *   controller and the agents do the rest;
 * - more: the sets chosen by the scale-in policy are marked draining (out of the
 *   endpoints at once) in one transaction; a set never placed is deleted at once;
 * - a draining set past the app's drainSeconds is deleted (its agent stops the
 *   containers in reverse index order);
 * - an app being deleted has its sets deleted, and is forgotten once none is left;
 * - the warm pool (`warmPool` standby sets: started, then paused by their agent) is
 *   spent first on scale-out: its sets lose the standby mark in one write and resume
 *   in milliseconds; the pool is then refilled, trimmed to its size, and its sets
 *   whose spec is not the template's any more are replaced.
 * Existing sets keep their spec when the template changes: new sets get the new one.
 * Writes compare the app's revision, so a pass never acts on a replica count or
 * template that changed meanwhile: it loses the race and looks again.
 */
import type { Logger } from 'pino';
import type { KeyValue, Op, Store, WatchEvent } from '@wharf/store';
import { setSpecFromTemplate, WharfError, type AppEvent, type AppObject, type SetObject } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { appendAppEvents, appEvent, countsTowardReplicas, inWarmPool, loadMembers, readAppEvents, requestSetDeletion, requestSetDeletions } from '../state/apps.js';
import { admitAppSets, type Admission } from '../state/quotas.js';
import { appendEvents, event } from '../state/sets.js';
import { chooseLeaving, drainMs, idRanges, nextFreeIds, plural, policyOf, type SetLoad } from './app-scale.js';
import { PassRunner } from './coalesce.js';
import { compareSetIds } from '../state/sets.js';

/** Sets created per transaction: a scale-out to thousands is a few writes, each of bounded size. */
const CREATE_CHUNK = 500;

export interface AppsControllerOptions {
  resyncMs?: number;
  /** CPU use per set, for the least-loaded scale-in policy (the server's metrics history). */
  loadOf?: SetLoad;
  now?: () => number;
  /** Told how long each pass took, in seconds. */
  observePass?: (seconds: number) => void;
}

/**
 * Whether a change of a set can change what a pass decides: a set that comes or goes,
 * or changes generation (spec) or its deleting, draining or standby mark. Where it is
 * placed, its IPs and the like wake no pass (the resync and the next pass read them).
 */
export function setWakes(): (ev: WatchEvent) => boolean {
  const seen = new Map<string, string>();
  return (ev) => {
    if (ev.type === 'delete') {
      seen.delete(ev.kv.key);
      return true;
    }
    const s = ev.kv.value as SetObject;
    const part = `${s.appkey}|${s.generation}|${s.deleting ?? false}|${s.draining ?? ''}|${s.standby ?? false}`;
    if (seen.get(ev.kv.key) === part) return false;
    seen.set(ev.kv.key, part);
    return true;
  };
}

export class AppsController {
  private deadline: { at: number; timer: NodeJS.Timeout } | undefined;
  private readonly runner: PassRunner;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: AppsControllerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'apps pass failed'), opts.observePass);
  }

  start(): Promise<void> {
    // Statuses change nothing the controller decides (only the order in which sets
    // leave, read at that moment), so only apps and sets wake it; and of a set's
    // changes only those its decisions read (see setWakes): a scale-out of hundreds
    // places each of its sets in a write of its own, and none of those is one.
    const wakes = setWakes();
    return this.runner.start(this.store, {
      prefixes: [Keys.appsPrefix, Keys.setsPrefix],
      wakes: (prefix, ev) => prefix !== Keys.setsPrefix || wakes(ev),
      resyncMs: this.opts.resyncMs ?? 2000,
    });
  }

  stop(): void {
    this.runner.stop();
    if (this.deadline) clearTimeout(this.deadline.timer);
    this.deadline = undefined;
  }

  kick(): void {
    this.runner.kick();
  }

  /** One look at every app. Returns false when a write lost a race (the next pass decides again). */
  async pass(now = this.now()): Promise<boolean> {
    const [apps, sets] = await Promise.all([this.store.list<AppObject>(Keys.appsPrefix), this.store.list<SetObject>(Keys.setsPrefix)]);
    const byApp = new Map<string, KeyValue<SetObject>[]>();
    for (const kv of sets.items) {
      const key = `${kv.value.tenant}/${kv.value.appkey}`;
      const list = byApp.get(key);
      if (list) list.push(kv);
      else byApp.set(key, [kv]);
    }
    let clean = true;
    let nextDeadline = Infinity;
    for (const kv of apps.items) {
      const app = kv.value;
      const members = byApp.get(`${app.tenant}/${app.appkey}`) ?? [];
      const ok = app.deleting ? await this.finishDeletion(kv, members) : await this.reconcile(kv, members, now);
      if (!ok) clean = false;
      for (const m of members) {
        if (m.value.draining && !m.value.deleting) nextDeadline = Math.min(nextDeadline, Date.parse(m.value.draining) + drainMs(app.spec));
      }
    }
    if (!clean) this.runner.requestAgain();
    this.wakeAt(nextDeadline, now);
    return clean;
  }

  /** Runs a pass when the earliest drain ends (the resync would too, a little later). */
  private wakeAt(at: number, now: number): void {
    if (!Number.isFinite(at) || !this.runner.started) return;
    if (this.deadline && this.deadline.at <= at && this.deadline.at > now) return;
    if (this.deadline) clearTimeout(this.deadline.timer);
    const timer = setTimeout(() => {
      this.deadline = undefined;
      this.kick();
    }, Math.max(0, at - now) + 5);
    this.deadline = { at, timer };
  }

  private async reconcile(kv: KeyValue<AppObject>, sets: KeyValue<SetObject>[], now: number): Promise<boolean> {
    const app = kv.value;
    const replicas = app.spec.replicas;
    const active = sets.filter((s) => countsTowardReplicas(s.value));
    const draining = sets.filter((s) => s.value.draining && !s.value.deleting);
    // The pool's sets made from the current template, and those of an older one.
    const fresh: KeyValue<SetObject>[] = [];
    const stale: KeyValue<SetObject>[] = [];
    for (const s of sets) if (inWarmPool(s.value)) (fitsTemplate(app, s.value) ? fresh : stale).push(s);
    // Placed sets first (likelier paused already), then by id: the order they are resumed in.
    fresh.sort((a, b) => Number(!a.value.host) - Number(!b.value.host) || compareSetIds(a.value.id, b.value.id));
    let ok = true;
    let promoted: KeyValue<SetObject>[] = [];
    const taken = sets.map((s) => s.value.id);
    if (active.length < replicas) {
      // Newest drain first: it has been out of rotation the shortest time.
      const kept = [...draining].sort((a, b) => Date.parse(b.value.draining ?? '') - Date.parse(a.value.draining ?? '')).slice(0, replicas - active.length);
      promoted = fresh.slice(0, replicas - active.length - kept.length);
      const out = await this.scaleOut(kv, taken, kept, promoted, replicas - active.length - kept.length - promoted.length, active.length, now);
      const keptIds = new Set(kept.map((s) => s.value.id));
      const drained = await this.deleteDrained(app, draining.filter((s) => !keptIds.has(s.value.id)), now);
      ok = out && drained;
    } else {
      // Which sets leave depends on their readiness: read it (statuses, hosts) only now.
      const scaledIn = active.length > replicas ? await this.scaleIn(kv, now) : true;
      ok = (await this.deleteDrained(app, draining, now)) && scaledIn;
    }
    // The pool comes after the app's own sets: a scale-out never waits for its refill.
    if (!ok) return false;
    return this.keepWarmPool(kv, taken, fresh.slice(promoted.length), stale, promoted.length, now);
  }

  /**
   * Brings the warm pool to its size: stale sets (spec not the template's) and those
   * beyond the size are deleted, missing ones created as standby sets. `fresh`: the
   * pool's sets left after this pass resumed `promoted` of them, in resume order.
   */
  private async keepWarmPool(kv: KeyValue<AppObject>, taken: string[], fresh: KeyValue<SetObject>[], stale: KeyValue<SetObject>[], promoted: number, now: number): Promise<boolean> {
    const app = kv.value;
    const size = app.spec.warmPool ?? 0;
    // The last in resume order go: unplaced first, then the newest.
    const surplus = [...fresh].reverse().slice(0, Math.max(0, fresh.length - size));
    let ok = true;
    const when = new Date(now);
    for (const s of stale) ok = (await requestSetDeletion(this.store, s, `warm pool of app ${app.appkey}: the template changed`, when)) && ok;
    for (const s of surplus) ok = (await requestSetDeletion(this.store, s, `warm pool of app ${app.appkey} shrunk to ${size}`, when)) && ok;
    if (stale.length + surplus.length > 0) {
      const why = [...(stale.length > 0 ? [`${plural(stale.length, 'set')} of an older template (${idRanges(stale.map((s) => s.value.id))})`] : []), ...(surplus.length > 0 ? [`${plural(surplus.length, 'set')} beyond its size (${idRanges(surplus.map((s) => s.value.id))})`] : [])];
      await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Normal', 'WarmPoolTrimmed', `warm pool ${size}: deleting ${why.join(' and ')}`, when)]);
    }
    const missing = size - (fresh.length - surplus.length);
    if (missing <= 0 || !ok) return ok;
    const created = await this.createSets(kv, taken, missing, when, true);
    if (created.ids.length > 0) {
      this.log.info({ tenant: app.tenant, appkey: app.appkey, warmPool: size, created: created.ids.length }, 'warm pool refilled');
      await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Normal', 'WarmPoolFilled', `warm pool ${size}${promoted > 0 ? ` (${promoted} resumed)` : ''}: created ${plural(created.ids.length, 'standby set')} (${idRanges(created.ids)})`, when)]);
    }
    if (created.refused) await this.noteQuota(app, created.refused, when);
    return created.refused !== undefined || created.ids.length === missing;
  }

  private async scaleOut(kv: KeyValue<AppObject>, taken: string[], kept: KeyValue<SetObject>[], promoted: KeyValue<SetObject>[], create: number, before: number, now: number): Promise<boolean> {
    const app = kv.value;
    const when = new Date(now);
    const appCompare = { key: kv.key, modRevision: kv.modRevision };
    const back = [...kept, ...promoted];
    if (back.length > 0) {
      // One write takes drains back and resumes the pool's sets: the agents see them at once.
      const ops: Op[] = back.map((s) => {
        const { draining: _cancelled, standby: _resumed, ...rest } = s.value;
        return { type: 'put', key: s.key, value: { ...rest, updatedAt: when.toISOString() } };
      });
      const r = await this.store.txn([appCompare, ...back.map((s) => ({ key: s.key, modRevision: s.modRevision }))], ops);
      if (!r.succeeded) return false;
      for (const s of kept) await appendEvents(this.store, s.value, [event('Normal', 'DrainCancelled', `app ${app.appkey} scaled out to ${app.spec.replicas}: back in the endpoints`)]);
      for (const s of promoted) await appendEvents(this.store, s.value, [event('Normal', 'Resumed', `app ${app.appkey} scaled out to ${app.spec.replicas}: taken from the warm pool`)]);
    }
    const { ids: created, refused, wanted } = await this.createSets(kv, taken, create, when, false);
    if (refused) await this.noteQuota(app, refused, when);
    const parts = [
      ...(kept.length > 0 ? [`kept ${plural(kept.length, 'draining set')} (${idRanges(kept.map((s) => s.value.id))})`] : []),
      ...(promoted.length > 0 ? [`resumed ${plural(promoted.length, 'set')} of the warm pool (${idRanges(promoted.map((s) => s.value.id))})`] : []),
      ...(created.length > 0 ? [`created ${plural(created.length, 'set')} (${idRanges(created)})`] : []),
    ];
    if (parts.length > 0) {
      this.log.info({ tenant: app.tenant, appkey: app.appkey, replicas: app.spec.replicas, created: created.length, kept: kept.length, resumed: promoted.length }, 'app scaled out');
      await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Normal', 'ScaledOut', `replicas ${before} → ${app.spec.replicas}: ${parts.join(', ')}`, when)]);
    }
    // A quota refusal is no lost race: the resync, or a change of the tenant's sets, tries again.
    return refused !== undefined || created.length === wanted;
  }

  /**
   * Creates `count` sets from the template with the next free ids, in chunks, each
   * admitted against the tenant's quota in its transaction; once a chunk does not
   * fit, sets are admitted one by one, as many as fit. `standby`: for the warm pool.
   * `taken`: the ids in use; the new ones are added to it.
   */
  private async createSets(kv: KeyValue<AppObject>, taken: string[], count: number, when: Date, standby: boolean): Promise<{ ids: string[]; refused?: string; wanted: number }> {
    const app = kv.value;
    const appCompare = { key: kv.key, modRevision: kv.modRevision };
    const ids = nextFreeIds(taken, count);
    const created: string[] = [];
    // Each chunk is admitted against the tenant's quota in its transaction; once a chunk
    // does not fit, sets are admitted one by one, as many as fit.
    let size = CREATE_CHUNK;
    let refused: string | undefined;
    for (let i = 0; i < ids.length; ) {
      const chunk = ids.slice(i, i + size).map((n) => newSet(app, n, when, standby));
      let quota: Admission;
      try {
        quota = await admitAppSets(this.store, app, chunk.length);
      } catch (err) {
        if (!(err instanceof WharfError) || err.code !== 'QUOTA_EXCEEDED') throw err;
        if (size > 1) {
          size = 1;
          continue;
        }
        refused = err.message;
        break;
      }
      const r = await this.store.txn(
        [appCompare, ...chunk.map((s) => ({ key: setKeys(s).set, absent: true as const })), ...quota.compares],
        [...chunk.map((s) => ({ type: 'put' as const, key: setKeys(s).set, value: s })), ...quota.ops],
      );
      if (!r.succeeded) break;
      created.push(...chunk.map((s) => s.id));
      taken.push(...chunk.map((s) => s.id));
      i += chunk.length;
    }
    return { ids: created, wanted: ids.length, ...(refused ? { refused } : {}) };
  }

  /** A QuotaExceeded event, unless the app's last event says the same (the controller retries every pass). */
  private async noteQuota(app: AppObject, message: string, when: Date): Promise<void> {
    const last = (await readAppEvents(this.store, app.tenant, app.appkey)).at(-1);
    if (last?.reason === 'QuotaExceeded' && last.message === message) return;
    this.log.info({ tenant: app.tenant, appkey: app.appkey, replicas: app.spec.replicas }, message);
    await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Warning', 'QuotaExceeded', message, when)]);
  }

  private async scaleIn(kv: KeyValue<AppObject>, now: number): Promise<boolean> {
    const app = kv.value;
    const when = new Date(now);
    const active = (await loadMembers(this.store, app.tenant, app.appkey, now)).filter((m) => countsTowardReplicas(m.kv.value));
    if (active.length <= app.spec.replicas) return true;
    const { leaving, how } = chooseLeaving(active, active.length - app.spec.replicas, policyOf(app.spec), this.opts.loadOf);
    const unplaced = leaving.filter((m) => !m.kv.value.host);
    const placed = leaving.filter((m) => m.kv.value.host);
    const seconds = drainMs(app.spec) / 1000;
    if (placed.length > 0) {
      const r = await this.store.txn(
        [{ key: kv.key, modRevision: kv.modRevision }, ...placed.map((m) => ({ key: m.kv.key, modRevision: m.kv.modRevision }))],
        placed.map((m) => ({ type: 'put' as const, key: m.kv.key, value: { ...m.kv.value, draining: when.toISOString(), updatedAt: when.toISOString() } })),
      );
      if (!r.succeeded) return false;
      for (const m of placed) {
        await appendEvents(this.store, m.kv.value, [event('Normal', 'Draining', `app ${app.appkey} scaled in to ${app.spec.replicas}: out of the endpoints, stopped in ${seconds}s`)]);
      }
    }
    let ok = true;
    for (const m of unplaced) ok = (await requestSetDeletion(this.store, m.kv, `app ${app.appkey} scaled in to ${app.spec.replicas}`, when)) && ok;
    const events: AppEvent[] = [];
    if (placed.length > 0) events.push(appEvent('Normal', 'ScaledIn', `replicas ${active.length} → ${app.spec.replicas}: draining ${plural(placed.length, 'set')} (${idRanges(placed.map((m) => m.kv.value.id))}) for ${seconds}s, ${how}`, when));
    if (unplaced.length > 0) events.push(appEvent('Normal', 'ScaledIn', `replicas ${active.length} → ${app.spec.replicas}: deleted ${plural(unplaced.length, 'unplaced set')} (${idRanges(unplaced.map((m) => m.kv.value.id))})`, when));
    this.log.info({ tenant: app.tenant, appkey: app.appkey, replicas: app.spec.replicas, draining: placed.length, deleted: unplaced.length }, 'app scaled in');
    await appendAppEvents(this.store, app.tenant, app.appkey, events);
    return ok;
  }

  /** Deletes the draining sets whose drain time is over. */
  private async deleteDrained(app: AppObject, draining: KeyValue<SetObject>[], now: number): Promise<boolean> {
    const due = draining.filter((s) => Date.parse(s.value.draining ?? '') + drainMs(app.spec) <= now);
    if (due.length === 0) return true;
    const seconds = drainMs(app.spec) / 1000;
    const done: string[] = [];
    for (const s of due) if (await requestSetDeletion(this.store, s, `drained for ${seconds}s: deleting`, new Date(now))) done.push(s.value.id);
    if (done.length > 0) await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Normal', 'Drained', `${plural(done.length, 'set')} (${idRanges(done)}) drained: deleting`, new Date(now))]);
    return done.length === due.length;
  }

  /** Deletes what is left of an app being deleted; forgets the app once it has no set. */
  private async finishDeletion(kv: KeyValue<AppObject>, sets: KeyValue<SetObject>[]): Promise<boolean> {
    const app = kv.value;
    if (sets.length > 0) {
      return requestSetDeletions(this.store, sets, 'app deleted');
    }
    const r = await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }, { type: 'delete', key: Keys.appEvents(app.tenant, app.appkey) }]);
    if (r.succeeded) this.log.info({ tenant: app.tenant, appkey: app.appkey }, 'app deleted');
    return r.succeeded;
  }
}

function newSet(app: AppObject, n: number, when: Date, standby: boolean): SetObject {
  const at = when.toISOString();
  return { tenant: app.tenant, appkey: app.appkey, id: String(n), spec: setSpecFromTemplate(app.spec, n), generation: 1, desired: 'running', ...(standby ? { standby: true } : {}), createdAt: at, updatedAt: at };
}

/** A set of the pool is what the template makes now (a set id that is not a number never is). */
function fitsTemplate(app: AppObject, s: SetObject): boolean {
  return /^\d+$/.test(s.id) && s.generation === 1 && JSON.stringify(s.spec) === JSON.stringify(setSpecFromTemplate(app.spec, Number(s.id)));
}
