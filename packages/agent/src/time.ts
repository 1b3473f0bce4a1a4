/**
 * Docker reports times as RFC 3339 with nanoseconds ("…:32.743205912Z") and uses
 * "0001-01-01T00:00:00Z" for "never". Date keeps only milliseconds, which is too coarse
 * to order two containers started by the same reconcile, so compare as [ms, ns].
 */
const ZERO_YEAR = '0001-';

/** undefined for Docker's zero time and for empty values. */
export function dockerTime(value: string | undefined): string | undefined {
  if (!value || value.startsWith(ZERO_YEAR)) return undefined;
  return value;
}

function parts(t: string): [number, number] {
  const m = /^(.*?:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  if (!m) return [Date.parse(t), 0];
  const fraction = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return [Date.parse(`${m[1]}${m[3]}`), Number(fraction)];
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareTimes(a: string, b: string): number {
  const [as, an] = parts(a);
  const [bs, bn] = parts(b);
  return as !== bs ? as - bs : an - bn;
}

export function isBefore(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return compareTimes(a, b) < 0;
}
