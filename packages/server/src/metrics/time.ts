/**
 * Times as the metrics routes and flags take them: durations (`90s`, `10m`,
 * `1h30m`, `2d`) and `since`, an ISO 8601 time or a duration back from now (`-10m`).
 */
import { WharfError } from '@wharf/types';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `1h30m` → 5400000; undefined when the text is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!DURATION.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return total > 0 && Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The instant `since` names, in ms since the epoch: `2025-01-01T12:00:00Z`, or `-10m` (10 minutes before `now`). */
export function parseSince(text: string, now: number): number {
  const s = text.trim();
  if (ISO_TIME.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  const back = parseDuration(s.startsWith('-') ? s.slice(1) : s);
  if (back !== undefined) return now - back;
  throw WharfError.validation([{ path: 'since', message: `"${text}" is not a time: give an ISO 8601 time (2025-01-01T12:00:00Z) or a duration back from now (-10m, -1h)` }]);
}

/** `step`: a duration of at least 1 s. */
export function parseStep(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000) throw WharfError.validation([{ path: 'step', message: `"${text}" is not a step: give a duration of at least 1s (30s, 1m, 5m)` }]);
  return ms;
}
