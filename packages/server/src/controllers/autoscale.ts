/**
 * The autoscaler: every 15 s and whenever an app changes, each app with an
 * `autoscale` spec gets a decision (autoscale-decide.ts) from its signals — CPU
 * and memory utilization from the metrics history, custom metrics pushed to the
 * API — and the effective bounds of its schedules. A change goes through
 * scaleApp (the apps controller does the rest) and is recorded as an app event
 * with its reason. Recommendations and the time of the last change live in
 * memory: a restarted server stabilizes afresh, as Kubernetes' HPA does.
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import type { AppObject, AutoscaleSpec } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { appendAppEvents, appEvent, countsTowardReplicas, loadMembers, scaleApp } from '../state/apps.js';
import type { AppAverage } from '../metrics/history.js';
import type { CustomMetrics } from '../metrics/custom.js';
import { decide, type Decision, type Recommendation, type Signal } from './autoscale-decide.js';
import { PassRunner } from './coalesce.js';

export const AUTOSCALE_INTERVAL_MS = 15_000;
/** Metrics are averaged over this window. */
export const AUTOSCALE_WINDOW_MS = 60_000;
export const AUTOSCALE_EVENT_REASON = 'Autoscaled';

export interface MetricSources {
  history: { appAverage(tenant: string, appkey: string, resource: 'cpu' | 'memory', windowMs: number): AppAverage | undefined };
  custom: Pick<CustomMetrics, 'average'>;
}

/** The app's signals with data; a target without data is left out (no metric-based change from it). */
export async function gatherSignals(store: Store, app: AppObject, spec: AutoscaleSpec, sources: MetricSources, windowMs = AUTOSCALE_WINDOW_MS): Promise<Signal[]> {
  const signals: Signal[] = [];
  for (const resource of ['cpu', 'memory'] as const) {
    const target = spec[resource];
    if (target === undefined) continue;
    const avg = sources.history.appAverage(app.tenant, app.appkey, resource, windowMs);
    if (avg?.utilization !== undefined) signals.push({ name: resource, observed: avg.utilization * 100, target, unit: '%', sets: avg.sets });
  }
  if ((spec.metrics?.length ?? 0) > 0) {
    const members = await loadMembers(store, app.tenant, app.appkey);
    const ready = members.filter((m) => countsTowardReplicas(m.kv.value) && m.view.ready).length;
    const sets = ready > 0 ? ready : Math.max(1, app.spec.replicas);
    for (const m of spec.metrics ?? []) {
      const total = sources.custom.average(app.tenant, app.appkey, m.name, windowMs);
      if (total !== undefined) signals.push({ name: m.name, observed: total / sets, target: m.target, unit: '', sets });
    }
  }
  return signals;
}

interface AppMemory {
  history: Recommendation[];
  lastChangeAt?: number;
}

export interface AutoscaleControllerOptions extends MetricSources {
  intervalMs?: number;
  windowMs?: number;
  now?: () => number;
}

export class AutoscaleController {
  private readonly memory = new Map<string, AppMemory>();
  private readonly runner: PassRunner;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly opts: AutoscaleControllerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.runner = new PassRunner(() => this.pass(), (err: unknown) => this.log.error({ err }, 'autoscale pass failed'));
  }

  start(): Promise<void> {
    return this.runner.start(this.store, { prefixes: [Keys.appsPrefix], resyncMs: this.opts.intervalMs ?? AUTOSCALE_INTERVAL_MS });
  }

  stop(): void {
    this.runner.stop();
  }

  /** One decision per autoscaled app; returns them by `tenant/appkey`. */
  async pass(now = this.now()): Promise<Map<string, Decision>> {
    const apps = await this.store.list<AppObject>(Keys.appsPrefix);
    const decisions = new Map<string, Decision>();
    const seen = new Set<string>();
    for (const kv of apps.items) {
      const app = kv.value;
      if (app.deleting || !app.spec.autoscale) continue;
      const key = `${app.tenant}/${app.appkey}`;
      seen.add(key);
      decisions.set(key, await this.decideFor(app, app.spec.autoscale, now));
    }
    for (const key of this.memory.keys()) if (!seen.has(key)) this.memory.delete(key);
    return decisions;
  }

  private async decideFor(app: AppObject, spec: AutoscaleSpec, now: number): Promise<Decision> {
    const key = `${app.tenant}/${app.appkey}`;
    const mem = this.memory.get(key) ?? { history: [] };
    this.memory.set(key, mem);
    const signals = await gatherSignals(this.store, app, spec, this.opts, this.opts.windowMs);
    const current = app.spec.replicas;
    const decision = decide({ spec, current, now, signals, history: mem.history, ...(mem.lastChangeAt !== undefined ? { lastChangeAt: mem.lastChangeAt } : {}) });
    const keepMs = Math.max(spec.scaleDownStabilizationSeconds ?? 300, spec.scaleUpStabilizationSeconds ?? 0) * 1000;
    mem.history = [...mem.history.filter((h) => h.at > now - keepMs), { at: now, replicas: decision.recommendation }];
    if (decision.held) this.log.debug({ tenant: app.tenant, appkey: app.appkey, held: decision.held }, 'autoscale held');
    if (decision.replicas === current || !decision.reason) return decision;
    await scaleApp(this.store, app.tenant, app.appkey, decision.replicas, new Date(now));
    mem.lastChangeAt = now;
    this.log.info({ tenant: app.tenant, appkey: app.appkey, from: current, to: decision.replicas, reason: decision.reason }, 'autoscaled');
    await appendAppEvents(this.store, app.tenant, app.appkey, [appEvent('Normal', AUTOSCALE_EVENT_REASON, decision.reason, new Date(now))]);
    return decision;
  }
}
