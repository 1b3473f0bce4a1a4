/**
 * When registry garbage collection runs (`--registry-gc`): `off`, daily at a local
 * time (`03:30`), or every so long (`6h`, `1d`). Pure.
 */
import { parseDuration } from '../metrics/time.js';

export type GcSchedule = { kind: 'off' } | { kind: 'daily'; minute: number } | { kind: 'every'; ms: number };

/** At least this long between runs of an interval schedule: each run makes the registry read-only for a moment. */
export const MIN_GC_INTERVAL_MS = 10 * 60_000;

/** Throws a message naming the flag for anything else. */
export function parseGcSchedule(text: string): GcSchedule {
  const s = text.trim();
  if (s === 'off') return { kind: 'off' };
  const hm = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h <= 23 && m <= 59) return { kind: 'daily', minute: h * 60 + m };
  }
  const ms = parseDuration(s);
  if (ms !== undefined && ms >= MIN_GC_INTERVAL_MS) return { kind: 'every', ms };
  throw new Error(`--registry-gc: "${text}" is not off, a time of day (03:30) or an interval of at least 10m (6h, 1d)`);
}

export function describeGcSchedule(s: GcSchedule): string {
  switch (s.kind) {
    case 'off':
      return 'off';
    case 'daily':
      return `daily at ${String(Math.floor(s.minute / 60)).padStart(2, '0')}:${String(s.minute % 60).padStart(2, '0')}`;
    case 'every':
      return `every ${s.ms % 3_600_000 === 0 ? `${s.ms / 3_600_000}h` : `${Math.round(s.ms / 60_000)}m`}`;
  }
}

/** The next run after `now` (local time for a daily one); an interval counts from the last run, or from `now`. */
export function nextGcRun(s: GcSchedule, now: Date, last?: Date): Date | undefined {
  switch (s.kind) {
    case 'off':
      return undefined;
    case 'every':
      return new Date(Math.max(now.getTime(), (last ?? now).getTime() + s.ms));
    case 'daily': {
      const at = new Date(now);
      at.setHours(Math.floor(s.minute / 60), s.minute % 60, 0, 0);
      if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
      return at;
    }
  }
}
