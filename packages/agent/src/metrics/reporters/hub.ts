/**
 * The reporter hub: the collector publishes each MetricsReport here; the hub turns it
 * into points, keeps those `include` selects, and appends them to every reporter's
 * bounded buffer, from which that reporter's sender delivers them. publish() never
 * waits for a reporter and never throws, so a reporter that is down or slow stalls
 * neither collection nor the other reporters; when a buffer is full its oldest points
 * are dropped and counted.
 */
import type { MetricsReport } from '@wharf/types';
import { createReporter, parseReporterSpecs } from './config.js';
import type { ReporterLog } from './log.js';
import { includes, toPoints } from './points.js';
import type { Reporter } from './reporter.js';
import { ReporterSender } from './sender.js';

export interface ReporterHubOptions {
  /** --reporter specs (see config.ts); a bad one throws ReporterSpecError. */
  specs: string[];
  /** Added to every point, e.g. { host: 'h1', zone: 'z1' }; `host` is also Zabbix's default host name. */
  tags: Record<string, string>;
  /** Point names to keep (see points.ts `includes`); all when absent or empty. */
  include?: string[];
  log: ReporterLog;
  now?: () => number;
  /** Points kept per reporter while it is down or behind. Default 10,000. */
  bufferSize?: number;
  /** Points per send. Default 1,000. */
  chunkSize?: number;
  /** Back-off between failed sends. Default 0.5 s doubling up to 30 s. */
  retry?: { firstMs: number; maxMs: number };
  /** How long close() keeps delivering what is buffered. Default 2 s. */
  closeFlushMs?: number;
  /** Reporters made elsewhere, in addition to those of `specs`. */
  reporters?: Reporter[];
}

export interface ReporterHub {
  publish(report: MetricsReport): void;
  /** Points dropped so far, by reporter name. */
  drops(): Record<string, number>;
  /** Points waiting, by reporter name. */
  buffered(): Record<string, number>;
  close(): Promise<void>;
}

export const HUB_DEFAULTS = { bufferSize: 10_000, chunkSize: 1_000, retry: { firstMs: 500, maxMs: 30_000 }, closeFlushMs: 2_000 };

export function createReporterHub(o: ReporterHubOptions): ReporterHub {
  const now = o.now ?? Date.now;
  // A tag without a value (an agent without a zone) is left out rather than sent empty.
  const tags = Object.fromEntries(Object.entries(o.tags).filter(([, v]) => typeof v === 'string' && v !== ''));
  const host = tags.host;
  const fromSpecs = parseReporterSpecs(o.specs).map((spec) => createReporter(spec, { host }));
  const senders = [...fromSpecs, ...(o.reporters ?? [])].map((reporter) => new ReporterSender(reporter, {
    capacity: o.bufferSize ?? HUB_DEFAULTS.bufferSize,
    chunkSize: o.chunkSize ?? HUB_DEFAULTS.chunkSize,
    retry: o.retry ?? HUB_DEFAULTS.retry,
    closeFlushMs: o.closeFlushMs ?? HUB_DEFAULTS.closeFlushMs,
    log: o.log,
    now,
  }));
  const byName = <T>(value: (s: ReporterSender) => T) => Object.fromEntries(senders.map((s) => [s.reporter.name, value(s)]));
  let closed = false;

  return {
    publish(report) {
      if (closed || senders.length === 0) return;
      try {
        const points = toPoints(report, tags, now).filter((p) => includes(o.include, p.name));
        for (const sender of senders) sender.enqueue(points);
      } catch (err) {
        o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics report not published to the reporters');
      }
    },
    drops: () => byName((s) => s.dropped),
    buffered: () => byName((s) => s.buffered),
    async close() {
      closed = true;
      await Promise.all(senders.map((s) => s.close()));
    },
  };
}
