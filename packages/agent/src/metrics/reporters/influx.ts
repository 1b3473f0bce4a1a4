/**
 * InfluxDB 1.x: points as line protocol, POSTed to /write. Each point is one line,
 * `measurement,tag=value,… value=<float> <timestamp>` with the point name as the
 * measurement and tags sorted by key; the timestamp is in the URL's precision
 * (milliseconds unless it says otherwise).
 */
import { RejectedPointsError, type MetricPoint, type Reporter } from './reporter.js';

export const INFLUX_PRECISIONS = ['ns', 'u', 'ms', 's'] as const;
type Precision = (typeof INFLUX_PRECISIONS)[number];

export interface InfluxOptions {
  /** The /write URL with its query (db, rp, precision, u, p); user:password@ becomes Basic auth. */
  url: URL;
  timeoutMs?: number;
}

export function createInfluxReporter(o: InfluxOptions): Reporter {
  const url = new URL(o.url);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  if (!url.searchParams.has('precision')) url.searchParams.set('precision', 'ms');
  const precision = url.searchParams.get('precision') as Precision;
  const closing = new AbortController();
  const timeoutMs = o.timeoutMs ?? 10_000;

  return {
    name: `influx ${url.origin}${url.pathname}?db=${url.searchParams.get('db') ?? ''}`,
    async send(points) {
      const body = points.map((p) => influxLine(p, precision)).filter((line) => line !== '').join('\n');
      if (!body) return;
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]) });
      const text = await res.text();
      if (res.ok) return;
      const message = `InfluxDB answered ${res.status}: ${text.trim().slice(0, 300)}`;
      // 400: the points themselves (bad syntax, a field of another type); 413: too large. Others may pass later.
      if (res.status === 400 || res.status === 413) throw new RejectedPointsError(message);
      throw new Error(message);
    },
    async close() {
      closing.abort(new Error('reporter closed'));
    },
  };
}

/** One line of line protocol; '' for a value line protocol cannot carry (NaN, ±Infinity). */
export function influxLine(p: MetricPoint, precision: Precision = 'ms'): string {
  if (!Number.isFinite(p.value)) return '';
  const tags = Object.keys(p.tags)
    .filter((k) => k !== '' && p.tags[k] !== '')
    .sort()
    .map((k) => `,${escapeKey(k)}=${escapeKey(p.tags[k] ?? '')}`)
    .join('');
  return `${escapeMeasurement(p.name)}${tags} value=${p.value} ${timestamp(p.time, precision)}`;
}

/** Measurements: commas and spaces are escaped. Line breaks cannot be escaped at all and become spaces. */
function escapeMeasurement(s: string): string {
  return s.replace(/[\r\n]/g, ' ').replace(/[, ]/g, '\\$&');
}

/** Tag keys and values: commas, equal signs and spaces are escaped. */
function escapeKey(s: string): string {
  return s.replace(/[\r\n]/g, ' ').replace(/[,= ]/g, '\\$&');
}

function timestamp(ms: number, precision: Precision): string {
  const whole = Math.round(ms);
  switch (precision) {
    case 's':
      return String(Math.floor(whole / 1000));
    case 'ms':
      return String(whole);
    case 'u':
      return String(BigInt(whole) * 1000n);
    case 'ns':
      return String(BigInt(whole) * 1_000_000n);
  }
}
