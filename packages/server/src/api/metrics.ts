/**
 * Metrics routes: the short history of a set or a host, the newest figures of
 * every set (`wharf top sets`) and host (`wharf top hosts`), and Wharf's own
 * metrics in Prometheus format at `/metrics`.
 */
import { Type } from '@sinclair/typebox';
import { HostMetrics, HostMetricsHistory, RelayedMetrics, SetMetricsHistory, SetTop, WharfError } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { getSet } from '../state/sets.js';
import { parseSince, parseStep } from '../metrics/time.js';
import type { Range } from '../metrics/history.js';
import { RELAY_PATH } from '../metrics/peers.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';

const RangeQuery = Type.Object({
  since: Type.Optional(Type.String({ description: 'From when: an ISO 8601 time, or a duration back from now like -10m (default: all that is kept)' })),
  step: Type.Optional(Type.String({ description: 'At most one point per step, the newest of each (e.g. 1m)' })),
});

export const HostTop = Type.Composite([Type.Object({ host: Type.String() }), HostMetrics]);

function rangeOf(q: { since?: string | undefined; step?: string | undefined }, now: number): Range {
  return {
    ...(q.since !== undefined ? { from: parseSince(q.since, now) } : {}),
    ...(q.step !== undefined ? { stepMs: parseStep(q.step) } : {}),
  };
}

/** The median time between points as their collector stamped them, in seconds; undefined with fewer than two. */
export function spacingSeconds(points: { time: string }[]): number | undefined {
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) gaps.push((Date.parse(points[i]?.time ?? '') - Date.parse(points[i - 1]?.time ?? '')) / 1000);
  const valid = gaps.filter((g) => Number.isFinite(g) && g > 0).sort((a, b) => a - b);
  if (valid.length === 0) return undefined;
  return Number((valid[Math.floor(valid.length / 2)] ?? 0).toFixed(1));
}

/** A relayed batch may carry every host's report of half a second: more than the API's usual 1 MiB. */
const RELAY_BODY_LIMIT = 64 * 1024 * 1024;

export function metricsRoutes(app: App, { store, monitoring, customMetrics }: RouteContext): void {
  const { history, telemetry } = monitoring;

  app.post(RELAY_PATH, {
    config: { access: 'admin' },
    bodyLimit: RELAY_BODY_LIMIT,
    schema: {
      tags: ['metrics'],
      summary: 'Metrics another server received (servers sharing a store)',
      description: 'Each server passes on the reports of the heartbeats it received and the custom metrics pushed to it, so every server holds the whole history (the autoscaler runs on the leader). Not passed on again.',
      body: RelayedMetrics,
      response: { 204: Type.Null(), ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    for (const h of req.body.hosts) monitoring.ingest(h.name, h.report);
    for (const c of req.body.custom) customMetrics.push(c.tenant, c.appkey, c.name, c.value, c.at);
    return reply.status(204).send(null);
  });

  app.get('/v1/sets/:appkey/:id/metrics', {
    config: { access: 'tenant' },
    schema: {
      tags: ['metrics'],
      summary: "A set's recent metrics, oldest first",
      description: "Points are kept in the servers' memory for --metrics-retention (default 1h); servers sharing a store pass the heartbeats' figures on to each other, so any of them answers.",
      params: SetParams,
      querystring: Type.Composite([TenantQuery, RangeQuery]),
      response: { 200: SetMetricsHistory, ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const ref = { tenant: tenantOf(req.query), appkey: req.params.appkey, id: req.params.id };
    const range = rangeOf(req.query, Date.now());
    const set = (await getSet(store, ref)).value;
    const series = history.setSeries(ref, range);
    const points = series?.points ?? [];
    const host = series?.host ?? set.host;
    const interval = spacingSeconds(points);
    return { ...ref, ...(host ? { host } : {}), ...(interval !== undefined ? { intervalSeconds: interval } : {}), points };
  });

  app.get('/v1/hosts/:name/metrics', {
    schema: {
      tags: ['metrics'],
      summary: "A host's recent metrics, oldest first",
      params: Type.Object({ name: Type.String() }),
      querystring: RangeQuery,
      response: { 200: HostMetricsHistory, ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const { name } = req.params;
    const range = rangeOf(req.query, Date.now());
    if (!(await store.get(Keys.host(name)))) throw new WharfError('HOST_NOT_FOUND', `host ${name} not found`);
    const points = history.hostSeries(name, range)?.points ?? [];
    const interval = spacingSeconds(points);
    return { host: name, ...(interval !== undefined ? { intervalSeconds: interval } : {}), points };
  });

  app.get('/v1/metrics/sets', {
    config: { access: 'tenant' },
    schema: {
      tags: ['metrics'],
      summary: 'The newest metrics of every set of the tenant that reported in the last 30 s (wharf top sets)',
      querystring: Type.Composite([
        TenantQuery,
        Type.Object({
          appkey: Type.Optional(Type.String()),
          sort: Type.Optional(Type.Union([Type.Literal('cpu'), Type.Literal('memory'), Type.Literal('net')], { description: 'Highest first: CPU cores, memory bytes or network bytes/s (rx + tx). Default cpu.' })),
          limit: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
      ]),
      response: { 200: Type.Array(SetTop), ...errors(400, 401) },
    },
  }, async (req) => history.topSets({ tenant: tenantOf(req.query), appkey: req.query.appkey || undefined }, req.query.sort ?? 'cpu', req.query.limit));

  app.get('/v1/metrics/hosts', {
    schema: {
      tags: ['metrics'],
      summary: 'The newest metrics of every host that reported in the last 30 s, by name (wharf top hosts)',
      response: { 200: Type.Array(HostTop), ...errors(401) },
    },
  }, async () => history.topHosts());

  app.get('/metrics', {
    config: { access: monitoring.metricsPublic ? 'public' : 'admin' },
    schema: { hide: true },
  }, async (_req, reply) => reply.type(telemetry.contentType).send(await telemetry.exposition()));
}
