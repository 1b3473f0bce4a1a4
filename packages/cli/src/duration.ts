/** Durations for --timeout: `90s`, `2m`, `1m30s`, `500ms`, `1h`, or a plain number of seconds. */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds. Throws InvalidArgumentError (a usage error) when it is not one. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const hint = 'not a duration; use e.g. 90s, 2m or a number of seconds';
  if (/^\d+(\.\d+)?$/.test(s)) return positive(Number(s) * 1000, hint);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) throw new InvalidArgumentError(hint);
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  }
  return positive(total, hint);
}

/** A duration in whole seconds (rounded up) within `min`..`max` (`0` is accepted when `min` is 0); `hint` says the range. */
export function parseSeconds(text: string, range: { min: number; max: number; hint: string }): number {
  const seconds = /^0+(ms|s|m|h)?$/.test(text.trim()) ? 0 : Math.ceil(parseDuration(text) / 1000);
  if (seconds < range.min || seconds > range.max) throw new InvalidArgumentError(range.hint);
  return seconds;
}

function positive(ms: number, hint: string): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(hint.replace('not a duration', 'not a positive duration'));
  return Math.round(ms);
}

/** 120000 → "2m", 90000 → "1m30s", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = Math.floor((ms % 60_000) / 1000);
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec ? `${sec}s` : ''}` || '0s';
}
