/**
 * Custom per-app metrics pushed to `POST /v1/apps/{appkey}/metrics` (e.g. qps):
 * each value is the app's total at that moment. Kept in memory for a short
 * window, like the rest of the metrics history; the autoscaler reads the mean.
 */
export const CUSTOM_RETENTION_MS = 10 * 60_000;
const MAX_POINTS = 600;

export interface CustomPoint {
  at: number;
  value: number;
}

export class CustomMetrics {
  private readonly series = new Map<string, CustomPoint[]>();
  private readonly now: () => number;

  constructor(opts: { now?: () => number; retentionMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.retentionMs = opts.retentionMs ?? CUSTOM_RETENTION_MS;
  }

  readonly retentionMs: number;

  private static key(tenant: string, appkey: string, name: string): string {
    return `${tenant}/${appkey}/${name}`;
  }

  push(tenant: string, appkey: string, name: string, value: number, at = this.now()): void {
    const key = CustomMetrics.key(tenant, appkey, name);
    const cutoff = this.now() - this.retentionMs;
    const points = (this.series.get(key) ?? []).filter((p) => p.at >= cutoff);
    points.push({ at, value });
    points.sort((a, b) => a.at - b.at);
    this.series.set(key, points.slice(-MAX_POINTS));
  }

  /** Mean of the values received in the last `windowMs`; undefined without any. */
  average(tenant: string, appkey: string, name: string, windowMs: number): number | undefined {
    const from = this.now() - windowMs;
    const points = (this.series.get(CustomMetrics.key(tenant, appkey, name)) ?? []).filter((p) => p.at >= from);
    if (points.length === 0) return undefined;
    return points.reduce((sum, p) => sum + p.value, 0) / points.length;
  }
}
