/**
 * The rollout controller: level-triggered, like the placement controller.
 * Whenever rollouts, sets or set statuses change (and every few seconds, for
 * timeouts), each rollout with work left is looked at: targets under way are
 * checked against their sets' readiness, and the next batch (or rollback batch)
 * is started. Each rollout's step is one compare-and-swap transaction over the
 * rollout and the sets it changes, so a concurrent change by anyone else makes
 * the step fail and be decided again from fresh state.
 */
import type { Logger } from 'pino';
import type { Store, Watcher } from '@wharf/store';
import type { SetObject, SetStatus } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { isReady, type HostRecord } from '../state/hosts.js';
import { isActive, type StoredRollout } from '../state/rollouts.js';
import { appendEvents, setView } from '../state/sets.js';
import { stepRollout, type AppSet } from './rollout-step.js';
import { PassRunner } from './coalesce.js';

/** Active, or a failed rollout whose last batch is still settling. */
export function needsWork(r: StoredRollout): boolean {
  return isActive(r.state) || r.targets.some((t) => t.state === 'updating' || t.state === 'rolling-back');
}

export class RolloutController {
  private watchers: Watcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'rollout pass failed'), (seconds) => this.observePass?.(seconds));
  /** The last pass found rollouts with work: only then do set and status changes matter. */
  private busy = true;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly resyncMs = 2000,
    /** Told how long each pass took, in seconds (the server's /metrics). */
    private readonly observePass?: (seconds: number) => void,
  ) {}

  async start(): Promise<void> {
    const rev = await this.store.revision();
    for (const prefix of [Keys.rolloutsPrefix, Keys.setsPrefix, Keys.statusPrefix]) {
      this.watchers.push(await this.store.watch(prefix, () => {
        if (prefix === Keys.rolloutsPrefix || this.busy) this.kick();
      }, { fromRevision: rev + 1 }));
    }
    this.timer = setInterval(() => this.kick(), this.resyncMs);
    this.kick();
  }

  stop(): void {
    for (const w of this.watchers) w.cancel();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    this.runner.kick();
  }

  /** One look at every rollout with work left. Returns false when a write lost a race (the next pass decides again). */
  async pass(now = Date.now()): Promise<boolean> {
    const { items } = await this.store.list<StoredRollout>(Keys.rolloutsPrefix);
    const work = items.filter((kv) => needsWork(kv.value));
    this.busy = work.length > 0;
    if (work.length === 0) return true;
    const hosts = await this.store.list<HostRecord>(Keys.hostsPrefix);
    const hostReady = new Map(hosts.items.map((kv) => [kv.value.name, isReady(kv.value, now)]));
    let clean = true;
    for (const kv of work) {
      const sets = await this.appSets(kv.value, hostReady);
      const step = stepRollout(kv.value, sets, now);
      if (!step.changed && step.writes.length === 0) continue;
      const r = await this.store.txn(
        [{ key: kv.key, modRevision: kv.modRevision }, ...step.writes.map((w) => ({ key: w.kv.key, modRevision: w.kv.modRevision }))],
        [...step.writes.map((w) => ({ type: 'put' as const, key: w.kv.key, value: w.next })), { type: 'put', key: kv.key, value: step.rollout }],
      );
      if (!r.succeeded) {
        this.runner.requestAgain();
        clean = false;
        continue;
      }
      for (const e of step.events) await appendEvents(this.store, e.set, [e.event]);
      this.logChange(kv.value, step.rollout);
    }
    return clean;
  }

  /** Every set of the rollout's app, by id, with the view the API would serve. */
  private async appSets(r: StoredRollout, hostReady: Map<string, boolean>): Promise<Map<string, AppSet>> {
    const setPrefix = `${Keys.tenantSets(r.tenant)}${r.appkey}/`;
    const statusPrefix = Keys.status(r.tenant, r.appkey, '');
    const [sets, statuses] = await Promise.all([this.store.list<SetObject>(setPrefix), this.store.list<SetStatus>(statusPrefix)]);
    const statusOf = new Map(statuses.items.map((kv) => [kv.key.slice(statusPrefix.length), kv.value]));
    return new Map(sets.items.map((kv) => {
      const s = kv.value;
      return [s.id, { kv, view: setView(s, statusOf.get(s.id), s.host ? hostReady.get(s.host) : undefined) }];
    }));
  }

  private logChange(before: StoredRollout, after: StoredRollout): void {
    if (before.state === after.state && before.batch === after.batch) return;
    const fields = { tenant: after.tenant, appkey: after.appkey, number: after.number, state: after.state, batch: after.batch, batches: after.batches };
    if (after.state === 'failed' || after.state === 'rolling-back') this.log.warn(fields, after.message ?? 'rollout failed');
    else this.log.info(fields, after.message ?? 'rollout progressed');
  }
}
