/**
 * Byte quantities as people write them: "512Mi", "1Gi", "2G", "100M", "1024".
 * Binary suffixes (Ki, Mi, Gi, Ti) are powers of 1024, decimal ones (k, M, G, T) of 1000.
 */
const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([kKMGT]i?|)B?\s*$/;

/** Parses a quantity to bytes; undefined when it is not one. */
export function parseBytes(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? Math.floor(q) : undefined;
  const m = PATTERN.exec(q);
  if (!m) return undefined;
  const unit = UNITS[m[2] ?? ''];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

/** Formats bytes with the largest binary unit that keeps a short number: 1073741824 → "1Gi". */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]];
  for (const [suffix, size] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${suffix}`;
    }
  }
  return `${bytes}`;
}
