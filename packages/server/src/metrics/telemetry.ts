/**
 * Wharf's own health in Prometheus format (`GET /metrics`): the Node.js process,
 * request durations, controller passes, sets by phase, hosts by state,
 * heartbeats and the metrics history it holds. One registry per server, no global.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '@wharf/store';
import { HostState, SetPhase } from '@wharf/types';
import { Keys } from '../state/keys.js';
import { hostState, type HostRecord } from '../state/hosts.js';
import { listSetViews } from '../state/sets.js';
import type { MetricsHistory } from './history.js';

const PHASES = SetPhase.anyOf.map((l) => l.const);
const HOST_STATES = HostState.anyOf.map((l) => l.const);
/** Up to the 60 s long poll of the agents' desired state. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const PASS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Telemetry {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status_code'>;
  private readonly placementPasses: Histogram;
  private readonly rolloutPasses: Histogram;
  private readonly heartbeats: Counter;
  private readonly ignoredSamples: Counter;
  private readonly rejectedReports: Counter;

  constructor(store: Store, history: MetricsHistory) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which promtool rejects.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.requests = new Histogram({
      name: 'wharf_http_request_duration_seconds',
      help: 'Time to answer API requests, by method, route and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.placementPasses = new Histogram({ name: 'wharf_placement_pass_duration_seconds', help: 'Time of one placement controller pass.', buckets: PASS_BUCKETS, registers });
    this.rolloutPasses = new Histogram({ name: 'wharf_rollout_pass_duration_seconds', help: 'Time of one rollout controller pass.', buckets: PASS_BUCKETS, registers });
    this.heartbeats = new Counter({ name: 'wharf_heartbeats_total', help: 'Agent heartbeats received.', registers });
    this.ignoredSamples = new Counter({
      name: 'wharf_metrics_set_samples_ignored_total',
      help: 'Set metrics a host reported for sets not placed on it (ignored).',
      registers,
    });
    this.rejectedReports = new Counter({
      name: 'wharf_metrics_reports_rejected_total',
      help: 'Metrics reports dropped from heartbeats because they were not valid (the heartbeats still counted).',
      registers,
    });
    new Gauge({
      name: 'wharf_sets',
      help: 'Sets by phase, as the API shows them.',
      labelNames: ['phase'],
      registers,
      async collect() {
        const counts = await setsByPhase(store);
        for (const phase of PHASES) this.set({ phase }, counts.get(phase) ?? 0);
      },
    });
    new Gauge({
      name: 'wharf_hosts',
      help: 'Hosts by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        const now = Date.now();
        const { items } = await store.list<HostRecord>(Keys.hostsPrefix);
        for (const state of HOST_STATES) this.set({ state }, items.filter((kv) => hostState(kv.value, now) === state).length);
      },
    });
    new Gauge({
      name: 'wharf_metrics_series',
      help: 'Series held in the metrics history of this server, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        history.prune();
        const s = history.stats();
        this.set({ kind: 'set' }, s.setSeries);
        this.set({ kind: 'host' }, s.hostSeries);
      },
    });
    new Gauge({
      name: 'wharf_metrics_points',
      help: 'Points held in the metrics history of this server.',
      registers,
      collect() {
        this.set(history.stats().points);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  readonly observePlacementPass = (seconds: number): void => this.placementPasses.observe(seconds);
  readonly observeRolloutPass = (seconds: number): void => this.rolloutPasses.observe(seconds);

  heartbeat(): void {
    this.heartbeats.inc();
  }

  rejectedReport(): void {
    this.rejectedReports.inc();
  }

  ignored(samples: number): void {
    if (samples > 0) this.ignoredSamples.inc(samples);
  }
}

async function setsByPhase(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { status } of await listSetViews(store)) counts.set(status, (counts.get(status) ?? 0) + 1);
  return counts;
}
