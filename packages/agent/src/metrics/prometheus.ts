/**
 * The agent's Prometheus exposition (GET /metrics): the newest collection as gauges
 * per container, set and host, plus the agent's own health and process metrics.
 *
 * Rates are gauges the agent computes over its collection interval, not *_total
 * counters: a set's figures are sums over containers that restart independently,
 * and a sum of counters that resets in part is misread by rate(). So the figure is
 * computed once, and Prometheus, the heartbeat and the reporters see the same one.
 * Every series comes from the newest collection only: a set or container that is
 * gone disappears at once. Every series carries `host` and `zone`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsReport, ResourceSample, SetMetrics } from '@wharf/types';
import type { CycleStats } from './collector.js';

type Field = (s: ResourceSample) => number | undefined;

/** Per container and per set: wharf_container_<name>, wharf_set_<name>. */
const SAMPLE_GAUGES: [string, string, Field][] = [
  ['cpu_cores', 'CPU cores used, average over the last collection interval', (s) => s.cpu],
  ['cpu_limit_cores', 'CPU cores allowed (Docker NanoCpus); absent when unlimited', (s) => s.cpuLimit],
  ['cpu_throttled_periods_per_second', 'CFS periods in which the CPU limit throttled it, per second', (s) => s.cpuThrottledPeriods],
  ['cpu_throttled_seconds_per_second', 'Time throttled by the CPU limit, seconds per second', (s) => s.cpuThrottledSeconds],
  ['memory_bytes', 'Memory in use: usage less inactive page cache', (s) => s.memory],
  ['memory_rss_bytes', 'Anonymous memory (RSS)', (s) => s.memoryRss],
  ['memory_cache_bytes', 'Page cache', (s) => s.memoryCache],
  ['memory_limit_bytes', 'Memory limit; absent when unlimited', (s) => s.memoryLimit],
  ['memory_limit_hits', 'Times the memory limit was hit since the container started (v1 failcnt, v2 memory.events max)', (s) => s.memoryFailcnt],
  ['oom_kills', 'Processes killed for lack of memory since the container started', (s) => s.oomKills],
  ['block_read_bytes_per_second', 'Bytes read from block devices per second', (s) => s.readBytes],
  ['block_write_bytes_per_second', 'Bytes written to block devices per second', (s) => s.writeBytes],
  ['block_read_ops_per_second', 'Block device reads per second', (s) => s.readOps],
  ['block_write_ops_per_second', 'Block device writes per second', (s) => s.writeOps],
  ['pids', 'Processes and threads', (s) => s.pids],
];

/** Per set only: its containers share the infra container's network namespace. */
const NETWORK_GAUGES: [string, string, Field][] = [
  ['network_receive_bytes_per_second', 'Bytes received per second (all interfaces of the set but lo)', (s) => s.rxBytes],
  ['network_transmit_bytes_per_second', 'Bytes sent per second', (s) => s.txBytes],
  ['network_receive_packets_per_second', 'Packets received per second', (s) => s.rxPackets],
  ['network_transmit_packets_per_second', 'Packets sent per second', (s) => s.txPackets],
  ['network_receive_errors_per_second', 'Receive errors per second', (s) => s.rxErrors],
  ['network_transmit_errors_per_second', 'Transmit errors per second', (s) => s.txErrors],
  ['network_receive_drops_per_second', 'Received packets dropped per second', (s) => s.rxDropped],
  ['network_transmit_drops_per_second', 'Sent packets dropped per second', (s) => s.txDropped],
];

type SetField = (s: ResourceSample, set: SetMetrics) => number | undefined;

const VOLUME_GAUGES: [string, string, SetField][] = [
  ['volume_used_bytes', 'Bytes the set\'s volume holds', (_, s) => s.volumeUsed],
  ['volume_quota_bytes', 'Hard limit of the set\'s volume', (_, s) => s.volumeQuota],
];

const HOST_GAUGES: [string, string, (h: MetricsReport['host']) => number | undefined][] = [
  ['cpu_cores', 'CPU cores busy, average over the last collection interval (/proc/stat)', (h) => h.cpu],
  ['cpus', 'CPU cores of the host', (h) => h.cpus],
  ['memory_bytes', 'Memory in use: MemTotal less MemAvailable', (h) => h.memory],
  ['memory_total_bytes', 'Memory of the host', (h) => h.memoryTotal],
  ['load1', 'Load average over 1 minute', (h) => h.load1],
  ['load5', 'Load average over 5 minutes', (h) => h.load5],
  ['load15', 'Load average over 15 minutes', (h) => h.load15],
  ['pool_used_bytes', 'Bytes used in the volume pool', (h) => h.poolUsed],
  ['pool_size_bytes', 'Size of the volume pool', (h) => h.poolSize],
  ['containers', 'Containers measured by the last collection', (h) => h.containers],
];

const UPLINK_GAUGES: [string, string, 'rxBytes' | 'txBytes' | 'rxPackets' | 'txPackets'][] = [
  ['receive_bytes_per_second', 'Bytes received per second on the uplink', 'rxBytes'],
  ['transmit_bytes_per_second', 'Bytes sent per second on the uplink', 'txBytes'],
  ['receive_packets_per_second', 'Packets received per second on the uplink', 'rxPackets'],
  ['transmit_packets_per_second', 'Packets sent per second on the uplink', 'txPackets'],
];

const SET_LABELS = ['tenant', 'appkey', 'set'] as const;
const CONTAINER_LABELS = [...SET_LABELS, 'container'] as const;

const setLabels = (s: SetMetrics) => ({ tenant: s.tenant, appkey: s.appkey, set: s.id });

export interface AgentMetricsOptions {
  host: string;
  zone: string;
  /** prom-client's process and Node.js metrics. Default true. */
  processMetrics?: boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  /** How many sets wait for a reconcile or are in one. */
  queueDepth: () => number = () => 0;
  /** Points each reporter dropped so far (the reporter hub's count). */
  reporterDrops: () => Record<string, number> = () => ({});
  private latest: MetricsReport | undefined;
  private readonly reconcileSeconds: Histogram<'result'>;
  private readonly collectSeconds: Gauge;
  private readonly collectCpuSeconds: Gauge;
  private readonly collections: Counter<'result'>;

  constructor(o: AgentMetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ host: o.host, zone: o.zone });
    if (o.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool rejects them); the per-type nodejs_active_* gauges stay.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
    const latest = (): MetricsReport | undefined => this.latest;
    const queueDepth = (): number => this.queueDepth();
    const drops = (): Record<string, number> => this.reporterDrops();

    for (const [name, help, field] of SAMPLE_GAUGES) {
      new Gauge({
        name: `wharf_container_${name}`, help: `${help} (business container)`, labelNames: CONTAINER_LABELS, registers,
        collect() {
          this.reset();
          for (const s of latest()?.sets ?? []) {
            for (const [container, sample] of Object.entries(s.containers)) {
              const v = field(sample);
              if (v !== undefined) this.set({ ...setLabels(s), container }, v);
            }
          }
        },
      });
    }
    const setGauges = [
      ...SAMPLE_GAUGES.map(([name, help, field]): [string, string, SetField] => [name, `${help} (set: the sum over its containers, infra included)`, field]),
      ...NETWORK_GAUGES.map(([name, help, field]): [string, string, SetField] => [name, `${help} (the set's network namespace)`, field]),
      ...VOLUME_GAUGES,
    ];
    for (const [name, help, field] of setGauges) {
      new Gauge({
        name: `wharf_set_${name}`, help, labelNames: SET_LABELS, registers,
        collect() {
          this.reset();
          for (const s of latest()?.sets ?? []) {
            const v = field(s.set, s);
            if (v !== undefined) this.set(setLabels(s), v);
          }
        },
      });
    }
    for (const [name, help, field] of HOST_GAUGES) {
      new Gauge({
        name: `wharf_host_${name}`, help, registers,
        collect() {
          this.reset();
          const host = latest()?.host;
          const v = host ? field(host) : undefined;
          if (v !== undefined) this.set(v);
        },
      });
    }
    for (const [name, help, key] of UPLINK_GAUGES) {
      new Gauge({
        name: `wharf_host_uplink_${name}`, help, labelNames: ['uplink'], registers,
        collect() {
          this.reset();
          for (const u of latest()?.host.uplinks ?? []) this.set({ uplink: u.name }, u[key]);
        },
      });
    }

    this.collectSeconds = new Gauge({ name: 'wharf_agent_collect_duration_seconds', help: 'Wall time of the last metrics collection', registers });
    this.collectCpuSeconds = new Gauge({ name: 'wharf_agent_collect_cpu_seconds', help: 'CPU time of the agent process during the last metrics collection', registers });
    this.collections = new Counter({ name: 'wharf_agent_collections_total', help: 'Metrics collections, by result (ok, failed)', labelNames: ['result'], registers });
    this.reconcileSeconds = new Histogram({
      name: 'wharf_agent_reconcile_duration_seconds', help: 'Duration of set reconciles, by result (ok, failed: an action failed, error: Docker did not answer)',
      labelNames: ['result'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers,
    });
    new Gauge({
      name: 'wharf_agent_queue_depth', help: 'Sets waiting for a reconcile or in one', registers,
      collect() {
        this.set(queueDepth());
      },
    });
    new Counter({
      name: 'wharf_agent_reporter_dropped_points_total', help: 'Metric points a reporter could not deliver and dropped, by reporter', labelNames: ['reporter'], registers,
      collect() {
        this.reset();
        for (const [reporter, n] of Object.entries(drops())) this.inc({ reporter }, n);
      },
    });
  }

  /** The newest collection: what the gauges show from now on. */
  update(report: MetricsReport): void {
    this.latest = report;
  }

  cycle(s: CycleStats): void {
    this.collectSeconds.set(s.ms / 1000);
    this.collectCpuSeconds.set(s.cpuMs / 1000);
    this.collections.inc({ result: s.ok ? 'ok' : 'failed' });
  }

  reconciled(seconds: number, result: 'ok' | 'failed' | 'error'): void {
    this.reconcileSeconds.observe({ result }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
