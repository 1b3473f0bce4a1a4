/**
 * Monitoring in the server: the metrics history fed by heartbeats, fenced by
 * placement, and Wharf's own Prometheus metrics. Held per server process.
 */
import type { Store } from '@wharf/store';
import type { MetricsReport } from '@wharf/types';
import { MetricsHistory, type HistoryOptions } from './history.js';
import { SetPlacements } from './placements.js';
import { Telemetry } from './telemetry.js';
import { dropInvalidMetrics } from './screen.js';

export interface MonitoringOptions extends HistoryOptions {
  /** Serve `GET /metrics` without a token. */
  metricsPublic?: boolean;
  /** How often expired points and silent series are dropped. Default 60 s. */
  pruneEveryMs?: number;
}

/** What one heartbeat's report added. */
export interface Ingested {
  host: boolean;
  sets: number;
  /** Sets the host reported that are not placed on it. */
  ignored: number;
}

export class Monitoring {
  readonly history: MetricsHistory;
  readonly telemetry: Telemetry;
  readonly metricsPublic: boolean;
  private readonly placements: SetPlacements;
  private timer: NodeJS.Timeout | undefined;

  private constructor(store: Store, opts: MonitoringOptions) {
    this.history = new MetricsHistory(opts);
    this.telemetry = new Telemetry(store, this.history);
    this.metricsPublic = opts.metricsPublic ?? false;
    this.placements = new SetPlacements(store, {
      setGone: (s) => this.history.forgetSet(s),
      hostGone: (h) => this.history.forgetHost(h),
    });
  }

  static async start(store: Store, opts: MonitoringOptions = {}): Promise<Monitoring> {
    const m = new Monitoring(store, opts);
    await m.placements.start();
    m.timer = setInterval(() => m.history.prune(), opts.pruneEveryMs ?? 60_000);
    m.timer.unref();
    return m;
  }

  stop(): void {
    this.placements.stop();
    if (this.timer) clearInterval(this.timer);
  }

  /** Takes figures the schema rejects out of a heartbeat body, so the heartbeat still counts; returns what was wrong. */
  screen(body: unknown): string | undefined {
    const problem = dropInvalidMetrics(body);
    if (problem) this.telemetry.rejectedReport();
    return problem;
  }

  /** A heartbeat from `host`, with the collector's report when it brought one. */
  heartbeat(host: string, report: MetricsReport | undefined): Ingested {
    this.telemetry.heartbeat();
    if (!report) return { host: false, sets: 0, ignored: 0 };
    return this.ingest(host, report);
  }

  /** A report of `host`, from its heartbeat here or relayed by another server (peers.ts). */
  ingest(host: string, report: MetricsReport): Ingested {
    let sets = 0;
    let ignored = 0;
    for (const m of report.sets) {
      if (this.placements.hostOf(m) !== host) ignored++;
      else if (this.history.addSet(host, m)) sets++;
    }
    this.telemetry.ignored(ignored);
    return { host: this.history.addHost(host, report.host), sets, ignored };
  }
}
