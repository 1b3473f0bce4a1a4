/**
 * The rollout controller: level-triggered, like the placement controller.
 * Whenever rollouts, sets or set statuses change (and every few seconds, for
 * timeouts), each rollout with work left is looked at: targets under way are
 * checked against their sets' readiness, and the next batch (or rollback batch)
 * is started. Each rollout's step is one compare-and-swap transaction over the
 * rollout and the sets it changes, so a concurrent change by anyone else makes
 * the step fail and be decided again from fresh state. In an app, a batch's
 * serving sets leave the endpoints for the app's drainSeconds before they are
 * changed (rollout-step.ts); a pass runs when the drain ends.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import { WharfError, type AppObject } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { isReady, type HostRecord } from '../state/hosts.js';
import { followTemplate, isActive, withContainerImage, type StoredRollout } from '../state/rollouts.js';
import { appendEvents } from '../state/sets.js';
import { loadMembers, updateAppSpec } from '../state/apps.js';
import { stepRollout } from './rollout-step.js';
import { drainMs } from './app-scale.js';
import { PassRunner } from './coalesce.js';

/** Active, or a failed rollout whose last batch is still settling. */
export function needsWork(r: StoredRollout): boolean {
  return isActive(r.state) || r.targets.some((t) => t.state === 'updating' || t.state === 'rolling-back');
}

export class RolloutController {
  private readonly runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'rollout pass failed'), (seconds) => this.observePass?.(seconds));
  /** The last pass found rollouts with work: only then do set and status changes matter. */
  private busy = true;
  /** Runs a pass when the earliest drain of a batch ends. */
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly resyncMs = 2000,
    /** Told how long each pass took, in seconds (the server's /metrics). */
    private readonly observePass?: (seconds: number) => void,
  ) {}

  start(): Promise<void> {
    return this.runner.start(this.store, {
      prefixes: [Keys.rolloutsPrefix, Keys.setsPrefix, Keys.statusPrefix],
      wakes: (prefix) => prefix === Keys.rolloutsPrefix || this.busy,
      resyncMs: this.resyncMs,
    });
  }

  stop(): void {
    this.runner.stop();
    clearTimeout(this.drainTimer);
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
    clearTimeout(this.drainTimer);
    if (work.length === 0) return true;
    const hosts = await this.store.list<HostRecord>(Keys.hostsPrefix);
    const hostReady = new Map(hosts.items.map((kv) => [kv.value.name, isReady(kv.value, now)]));
    let clean = true;
    let drainEnds = Infinity;
    for (const kv of work) {
      const { tenant, appkey } = kv.value;
      const [members, app] = await Promise.all([loadMembers(this.store, tenant, appkey, now, hostReady), this.store.get<AppObject>(Keys.app(tenant, appkey))]);
      const sets = new Map(members.map((m) => [m.kv.value.id, m]));
      // Plain sets (no app) have no endpoints to leave: they are changed at once.
      const step = stepRollout(kv.value, sets, now, { drainMs: app ? drainMs(app.value.spec) : 0 });
      const until = step.rollout.drainUntil;
      if (until && step.rollout.targets.some((t) => t.draining)) drainEnds = Math.min(drainEnds, Date.parse(until));
      if (!step.changed && step.writes.length === 0) {
        if (app) await this.moveTemplate(kv.value);
        continue;
      }
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
      if (app) await this.moveTemplate(step.rollout);
    }
    if (Number.isFinite(drainEnds) && this.runner.started) this.drainTimer = setTimeout(() => this.kick(), Math.max(0, drainEnds - now) + 5);
    return clean;
  }

  /** The app's template follows an app-wide rollout (followTemplate): new sets get its image, or the old one after a rollback. */
  private async moveTemplate(r: StoredRollout): Promise<void> {
    let moved: { from: string; to: string } | undefined;
    try {
      await updateAppSpec(this.store, r.tenant, r.appkey, (spec) => {
        moved = followTemplate(r, spec.template);
        return moved ? { ...spec, template: withContainerImage(spec.template, r.container, moved.to) } : undefined;
      });
    } catch (err) {
      // The app is being deleted or gone: its template no longer matters.
      if (!(err instanceof WharfError)) throw err;
      return;
    }
    if (moved) this.log.info({ tenant: r.tenant, appkey: r.appkey, number: r.number, container: r.container, from: moved.from, to: moved.to }, 'app template follows the rollout');
  }

  private logChange(before: StoredRollout, after: StoredRollout): void {
    if (before.state === after.state && before.batch === after.batch) return;
    const fields = { tenant: after.tenant, appkey: after.appkey, number: after.number, state: after.state, batch: after.batch, batches: after.batches };
    if (after.state === 'failed' || after.state === 'rolling-back') this.log.warn(fields, after.message ?? 'rollout failed');
    else this.log.info(fields, after.message ?? 'rollout progressed');
  }
}
