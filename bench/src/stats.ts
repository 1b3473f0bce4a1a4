import { parseArgs } from 'node:util';

/** Percentile by nearest rank over a sorted copy. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: number[]) => percentile(values, 50);

export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A flag that must be a whole number ≥ 1; throws naming the flag otherwise. */
export function positiveInt(flag: string, raw: string | undefined): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag} must be a positive integer, not "${String(raw)}"`);
  return v;
}

/**
 * The command line's flags, each given with its default: one whose default is a number
 * must be a whole number ≥ 1 (positiveInt), one whose default is a string is left as written.
 */
export function flags<T extends Record<string, number | string>>(defaults: T): { [K in keyof T]: T[K] extends number ? number : string } {
  const options = Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: 'string' as const, default: String(v) }]));
  const { values } = parseArgs({ options });
  return Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, typeof v === 'number' ? positiveInt(k, values[k] as string) : values[k]])) as { [K in keyof T]: T[K] extends number ? number : string };
}

/** A flag that is a duration: `90`, `90s`, `500ms`, `2m`; in ms. Throws naming the flag otherwise. */
export function durationMs(flag: string, raw: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw ?? '');
  const v = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] as number) : NaN;
  if (!(v > 0)) throw new Error(`--${flag} must be a duration such as 60s, 2m or 500ms, not "${String(raw)}"`);
  return v;
}
