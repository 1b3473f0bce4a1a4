/**
 * Where each collection goes:
 *
 *   collector ──▶ outbox ──────▶ next heartbeat (HostRegistration.metrics, once)
 *      │     ├──▶ Prometheus gauges (GET /metrics)
 *      │     └──▶ reporter hub ──▶ InfluxDB, Graphite, Zabbix… (--reporter)
 *      └ its cost ──▶ wharf_agent_collect_* (and collectMs/collectCpuMs in the report)
 */
import type { Logger } from 'pino';
import type { Engine } from '../docker/engine.js';
import type { VolumeManager } from '../volumes/manager.js';
import type { ReadText } from './cgroup-sample.js';
import { Collector } from './collector.js';
import { ReportOutbox } from './outbox.js';
import { AgentMetrics } from './prometheus.js';
import { createReporterHub, type ReporterHub } from './reporters/index.js';
import { VolumeFiguresCache } from './volume-figures.js';

export interface MetricsPipelineOptions {
  engine: Pick<Engine, 'listManaged' | 'inspect'>;
  host: { name: string; zone: string };
  /** Uplink interfaces (--network NAME=IFACE). */
  uplinks: string[];
  /** The Docker host's network namespace (--netns). */
  netns?: string;
  volumes?: Pick<VolumeManager, 'report'>;
  intervalSeconds: number;
  /** Reporter specs (--reporter), their extra tags (--metrics-tag) and name prefixes (--metrics-include). */
  reporters: string[];
  tags: Record<string, string>;
  include: string[];
  log: Logger;
  /** For tests: where /proc is and how files are read. */
  procRoot?: string;
  read?: ReadText;
}

export class MetricsPipeline {
  readonly prometheus: AgentMetrics;
  readonly outbox = new ReportOutbox();
  /** The heartbeat's volume figures, remembered for the collector. */
  readonly volumes: VolumeFiguresCache | undefined;
  readonly collector: Collector;
  private readonly hub: ReporterHub | undefined;

  constructor(private readonly o: MetricsPipelineOptions) {
    this.prometheus = new AgentMetrics({ host: o.host.name, zone: o.host.zone });
    this.volumes = o.volumes ? new VolumeFiguresCache(o.volumes) : undefined;
    this.collector = new Collector({
      engine: o.engine, uplinks: o.uplinks, intervalMs: o.intervalSeconds * 1000, log: o.log,
      ...(o.netns !== undefined ? { netns: o.netns } : {}),
      ...(this.volumes ? { volumes: () => this.volumes?.latest() } : {}),
      ...(o.procRoot !== undefined ? { procRoot: o.procRoot } : {}),
      ...(o.read ? { read: o.read } : {}),
    });
    if (o.reporters.length > 0) {
      const hub = createReporterHub({ specs: o.reporters, tags: { host: o.host.name, zone: o.host.zone, ...o.tags }, ...(o.include.length > 0 ? { include: o.include } : {}), log: o.log });
      this.hub = hub;
      this.prometheus.reporterDrops = () => hub.drops();
    }
  }

  /** Collects until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return this.collector.run(
      signal,
      (report) => {
        this.outbox.put(report);
        this.prometheus.update(report);
        this.hub?.publish(report);
      },
      (stats) => this.prometheus.cycle(stats),
    );
  }

  /** A Docker event for a container: inspect it again before measuring it next. */
  containerChanged(id: string): void {
    this.collector.inventory.invalidate(id);
  }

  /** The event stream was re-subscribed (events may be lost): inspect every container again. */
  eventsResubscribed(): void {
    this.collector.inventory.invalidateAll();
  }

  async close(): Promise<void> {
    await this.hub?.close();
  }
}
