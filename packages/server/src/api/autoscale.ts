/**
 * Autoscaling routes: the app's autoscale spec (written into the app, so the
 * autoscaler picks it up from the store), its status, and custom metrics pushed
 * by the app or its monitoring.
 */
import { Type } from '@sinclair/typebox';
import { AutoscaleSpec, AutoscaleStatus, AppView, MetricSample, WharfError, autoscaleErrors, type AppObject, type AutoscaleSpec as Spec, type ScheduleWindow } from '@wharf/types';
import type { Store } from '@wharf/store';
import { getApp, readAppEvents, updateApp, updateAppSpec, viewApp } from '../state/apps.js';
import { AUTOSCALE_EVENT_REASON, gatherSignals, type MetricSources } from '../controllers/autoscale.js';
import { decide, scheduleWindows, type ActiveSchedule } from '../controllers/autoscale-decide.js';
import type { App, RouteContext } from './context.js';
import { AppParams } from './apps.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

const DAY_MS = 86_400_000;
const DECISIONS_SHOWN = 10;

function windowView(w: ActiveSchedule): ScheduleWindow {
  const { rule } = w;
  return {
    cron: rule.cron, timezone: rule.timezone ?? 'UTC',
    ...(rule.min !== undefined ? { min: rule.min } : {}), ...(rule.max !== undefined ? { max: rule.max } : {}),
    start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString(),
  };
}

/** Windows opening in [now, now + 24 h), by start. */
export function upcomingWindows(spec: Spec, now: number): ActiveSchedule[] {
  return (spec.schedules ?? []).flatMap((r) => scheduleWindows(r, now, now + DAY_MS).filter((w) => w.start >= now)).sort((a, b) => a.start - b.start);
}

export async function autoscaleStatus(store: Store, app: AppObject, sources: MetricSources, now = Date.now()): Promise<AutoscaleStatus> {
  const spec = app.spec.autoscale;
  const current = app.spec.replicas;
  const events = (await readAppEvents(store, app.tenant, app.appkey)).filter((e) => e.reason === AUTOSCALE_EVENT_REASON).slice(-DECISIONS_SHOWN);
  const decisions = events.map((e) => ({ time: e.time, message: e.message }));
  if (!spec) return { appkey: app.appkey, current, desired: current, min: current, max: current, active: [], signals: [], decisions, upcoming: [] };
  const signals = await gatherSignals(store, app, spec, sources);
  const d = decide({ spec, current, now, signals, history: [] });
  return {
    appkey: app.appkey, spec, current, desired: d.replicas, min: d.bounds.min, max: d.bounds.max,
    active: d.bounds.active.map(windowView), signals, decisions, upcoming: upcomingWindows(spec, now).map(windowView),
  };
}

export function autoscaleRoutes(app: App, { store, monitoring, customMetrics, peers }: RouteContext): void {
  const sources: MetricSources = { history: monitoring.history, custom: customMetrics };
  app.put('/v1/apps/:appkey/autoscale', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: "Set an app's autoscaling",
      description:
        'min/max, targets (cpu and memory in percent of the sets\' limits, custom metrics per set), pacing (stabilization, cooldowns, max steps) ' +
        'and schedules (cron in a time zone raising min or lowering max for a duration). The autoscaler owns the replica count from then on.',
      params: AppParams,
      querystring: TenantQuery,
      body: AutoscaleSpec,
      response: { 200: AutoscaleStatus, ...errors(400, 401, 404, 409) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const problems = autoscaleErrors(req.body);
    if (problems.length > 0) throw WharfError.validation(problems);
    const stored = await updateAppSpec(store, tenant, req.params.appkey, (spec) => ({ ...spec, autoscale: req.body }));
    return autoscaleStatus(store, stored, sources);
  });

  app.delete('/v1/apps/:appkey/autoscale', {
    config: { access: 'tenant' },
    schema: { tags: ['apps'], summary: "Turn an app's autoscaling off (replicas stay where they are)", params: AppParams, querystring: TenantQuery, response: { 200: AppView, ...errors(401, 404, 409) } },
  }, async (req) => {
    const stored = await updateApp(store, tenantOf(req.query), req.params.appkey, (a) => {
      if (!a.spec.autoscale) return undefined;
      const { autoscale: _off, ...spec } = a.spec;
      return { ...a, spec, generation: a.generation + 1, updatedAt: new Date().toISOString() };
    });
    return viewApp(store, stored);
  });

  app.get('/v1/apps/:appkey/autoscale', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: "An app's autoscaling: effective bounds, open and upcoming schedule windows, signals, recent decisions",
      params: AppParams,
      querystring: TenantQuery,
      response: { 200: AutoscaleStatus, ...errors(401, 404) },
    },
  }, async (req) => autoscaleStatus(store, (await getApp(store, tenantOf(req.query), req.params.appkey)).value, sources));

  app.post('/v1/apps/:appkey/metrics', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: 'Push a custom metric of an app',
      description: "`value` is the app's total (e.g. requests per second over all sets); the autoscaler divides it by the ready sets and compares with the target per set. Kept in memory for 10 minutes, and passed on to the other servers sharing the store.",
      params: AppParams,
      querystring: TenantQuery,
      body: MetricSample,
      response: { 204: Type.Null(), ...errors(400, 401, 404) },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req.query);
    await getApp(store, tenant, req.params.appkey);
    const at = req.body.time !== undefined ? Date.parse(req.body.time) : undefined;
    if (at !== undefined && Number.isNaN(at)) throw WharfError.validation([{ path: 'time', message: 'must be an ISO date-time' }]);
    const sample = { tenant, appkey: req.params.appkey, name: req.body.name, value: req.body.value, at: at ?? Date.now() };
    customMetrics.push(sample.tenant, sample.appkey, sample.name, sample.value, sample.at);
    peers?.customSample(sample);
    return reply.status(204).send(null);
  });
}
