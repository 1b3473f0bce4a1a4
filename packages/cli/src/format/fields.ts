/** The `Key:  value` blocks of the describe pages. */
import { age } from './age.js';

/**
 * Aligned `Key:  value` lines; pairs whose value is undefined are left out. A
 * value with newlines continues on lines indented to the value column.
 */
export function fields(pairs: [string, string | undefined][]): string {
  const shown = pairs.filter((p): p is [string, string] => p[1] !== undefined);
  const w = Math.max(...shown.map(([k]) => k.length)) + 2;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(w)}${v.split('\n').join(`\n${' '.repeat(w)}`)}`).join('\n');
}

/** `2025-01-01T12:00:00.000Z (5m ago)`; undefined without a timestamp. */
export function when(ts: string | undefined, now: number): string | undefined {
  return ts ? `${ts} (${age(ts, now)} ago)` : undefined;
}
