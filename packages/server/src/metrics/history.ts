/**
 * The short metrics history of this server process: a ring of points per set
 * (by tenant/appkey/id) and per host, kept for `retentionMs` by the time the
 * server received them (one clock for every host, whatever their clocks say).
 * Nothing here is stored: a restarted server starts empty. Servers sharing a store
 * pass on to each other what their agents' heartbeats brought (peers.ts), so each
 * holds every host's points from the time it started.
 */
import { setRef, type HostMetrics, type SetMetrics, type SetMetricsPoint, type SetTop } from '@wharf/types';
import { Ring, type Timed } from './ring.js';

export const DEFAULT_RETENTION_MS = 3_600_000;
/** How often agents collect: with the retention it sizes each ring. */
export const DEFAULT_INTERVAL_MS = 10_000;

export interface HistoryOptions {
  retentionMs?: number;
  intervalMs?: number;
  now?: () => number;
}

export interface SetIdentity {
  tenant: string;
  appkey: string;
  id: string;
}

/** A set's points and the host that reported the newest one. */
export interface SetSeries extends SetIdentity {
  host: string;
  points: SetMetricsPoint[];
}

export interface HostSeries {
  host: string;
  points: HostMetrics[];
}

/** The newest figures of a host, with its name (`GET /v1/metrics/hosts`). */
export type HostTop = HostMetrics & { host: string };

/** Which points to read: received at or after `from`, at most one per `stepMs` (the newest of each step). */
export interface Range {
  from?: number;
  stepMs?: number;
}

export type TopSort = 'cpu' | 'memory' | 'net';

/** An app's average use over a window, for the autoscaler. */
export interface AppAverage {
  /** Sets with points in the window. */
  sets: number;
  /** Mean per set of its mean use: cores or bytes. */
  value: number;
  /** Mean per set (of those with a limit) of use over limit, 0..1 and beyond. */
  utilization?: number;
}

interface SetRing extends SetIdentity {
  host: string;
  ring: Ring<SetMetricsPoint>;
}

export class MetricsHistory {
  readonly retentionMs: number;
  readonly intervalMs: number;
  /** Most points a series holds: a source reporting faster than the interval keeps a shorter history. */
  readonly maxPoints: number;
  /** A series whose newest point is older than this is left out of the newest-figures lists. */
  readonly freshMs: number;
  private readonly now: () => number;
  private readonly sets = new Map<string, SetRing>();
  private readonly hosts = new Map<string, Ring<HostMetrics>>();

  constructor(opts: HistoryOptions = {}) {
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.maxPoints = Math.ceil(this.retentionMs / this.intervalMs) + 1;
    this.freshMs = Math.max(3 * this.intervalMs, 30_000);
  }

  /** Adds a host's figures; false when it is the point already held (a heartbeat resent the same collection). */
  addHost(host: string, m: HostMetrics): boolean {
    let ring = this.hosts.get(host);
    if (!ring) this.hosts.set(host, (ring = new Ring(this.maxPoints)));
    return this.append(ring, m);
  }

  /** Adds a set's figures as reported by `host` (the caller checks the set is placed there). */
  addSet(host: string, m: SetMetrics): boolean {
    const key = setRef(m);
    let series = this.sets.get(key);
    if (!series) this.sets.set(key, (series = { tenant: m.tenant, appkey: m.appkey, id: m.id, host, ring: new Ring(this.maxPoints) }));
    series.host = host;
    const point: SetMetricsPoint = {
      time: m.time,
      set: m.set,
      containers: m.containers,
      ...(m.volumeUsed !== undefined ? { volumeUsed: m.volumeUsed } : {}),
      ...(m.volumeQuota !== undefined ? { volumeQuota: m.volumeQuota } : {}),
    };
    return this.append(series.ring, point);
  }

  private append<T extends { time: string }>(ring: Ring<T>, value: T): boolean {
    const now = this.now();
    if (ring.newest()?.value.time === value.time) return false;
    ring.dropBefore(now - this.retentionMs);
    ring.push(now, value);
    return true;
  }

  forgetSet(s: SetIdentity): void {
    this.sets.delete(setRef(s));
  }

  forgetHost(host: string): void {
    this.hosts.delete(host);
  }

  /** Drops points past the retention, and series left empty (sets and hosts that stopped reporting). */
  prune(): void {
    const cutoff = this.now() - this.retentionMs;
    for (const [key, s] of this.sets) {
      s.ring.dropBefore(cutoff);
      if (s.ring.length === 0) this.sets.delete(key);
    }
    for (const [host, ring] of this.hosts) {
      ring.dropBefore(cutoff);
      if (ring.length === 0) this.hosts.delete(host);
    }
  }

  /** A set's points in `range`; undefined when nothing is held for it. */
  setSeries(s: SetIdentity, range: Range = {}): SetSeries | undefined {
    const series = this.sets.get(setRef(s));
    if (!series) return undefined;
    return { tenant: series.tenant, appkey: series.appkey, id: series.id, host: series.host, points: this.read(series.ring, range) };
  }

  hostSeries(host: string, range: Range = {}): HostSeries | undefined {
    const ring = this.hosts.get(host);
    return ring ? { host, points: this.read(ring, range) } : undefined;
  }

  private read<T>(ring: Ring<T>, range: Range): T[] {
    const from = Math.max(range.from ?? -Infinity, this.now() - this.retentionMs);
    const points = ring.since(from);
    return (range.stepMs ? thin(points, range.stepMs) : points).map((p) => p.value);
  }

  /** The newest point of every set of the tenant (of one app) that reported lately, by `sort` descending, at most `limit`. */
  topSets(filter: { tenant: string; appkey?: string | undefined }, sort: TopSort = 'cpu', limit = Infinity): SetTop[] {
    const fresh = this.now() - this.freshMs;
    const rows: SetTop[] = [];
    for (const s of this.sets.values()) {
      if (s.tenant !== filter.tenant || (filter.appkey !== undefined && s.appkey !== filter.appkey)) continue;
      const newest = s.ring.newest();
      if (!newest || newest.at < fresh) continue;
      rows.push({ tenant: s.tenant, appkey: s.appkey, id: s.id, host: s.host, ...newest.value });
    }
    const key = SORT_KEYS[sort];
    rows.sort((a, b) => key(b) - key(a) || a.appkey.localeCompare(b.appkey) || a.id.localeCompare(b.id, undefined, { numeric: true }));
    return rows.slice(0, limit);
  }

  /** The newest point of every host that reported lately, by name. */
  topHosts(): HostTop[] {
    const fresh = this.now() - this.freshMs;
    const rows: HostTop[] = [];
    for (const [host, ring] of this.hosts) {
      const newest = ring.newest();
      if (newest && newest.at >= fresh) rows.push({ host, ...newest.value });
    }
    return rows.sort((a, b) => a.host.localeCompare(b.host));
  }

  /** The average `resource` use of the app's sets over the last `windowMs`; undefined when none reported in it. */
  appAverage(tenant: string, appkey: string, resource: 'cpu' | 'memory', windowMs: number): AppAverage | undefined {
    const from = this.now() - Math.min(windowMs, this.retentionMs);
    const used: number[] = [];
    const ratios: number[] = [];
    for (const s of this.sets.values()) {
      if (s.tenant !== tenant || s.appkey !== appkey) continue;
      const samples = s.ring.since(from).map((p) => p.value.set);
      if (samples.length === 0) continue;
      const use = mean(samples.map((x) => (resource === 'cpu' ? x.cpu : x.memory)));
      used.push(use);
      const limits = samples.map((x) => (resource === 'cpu' ? x.cpuLimit : x.memoryLimit)).filter((l): l is number => l !== undefined && l > 0);
      if (limits.length > 0) ratios.push(use / mean(limits));
    }
    if (used.length === 0) return undefined;
    return { sets: used.length, value: mean(used), ...(ratios.length > 0 ? { utilization: mean(ratios) } : {}) };
  }

  /** What is held, for the server's own metrics. */
  stats(): { setSeries: number; hostSeries: number; points: number } {
    let points = 0;
    for (const s of this.sets.values()) points += s.ring.length;
    for (const ring of this.hosts.values()) points += ring.length;
    return { setSeries: this.sets.size, hostSeries: this.hosts.size, points };
  }
}

const SORT_KEYS: Record<TopSort, (row: SetTop) => number> = {
  cpu: (r) => r.set.cpu,
  memory: (r) => r.set.memory,
  net: (r) => (r.set.rxBytes ?? 0) + (r.set.txBytes ?? 0),
};

/** The newest point of each `stepMs`-long bucket (buckets aligned to the epoch), oldest first. */
export function thin<T>(points: Timed<T>[], stepMs: number): Timed<T>[] {
  const out: Timed<T>[] = [];
  let bucket = NaN;
  for (const p of points) {
    const b = Math.floor(p.at / stepMs);
    if (b === bucket) out[out.length - 1] = p;
    else out.push(p);
    bucket = b;
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
