/** What one read of a container's cgroup gives, the same for cgroup v1 and v2. */

/** Cumulative since the cgroup was made (the container started): become rates. */
export interface CgroupCounters {
  cpuNs: number;
  throttledPeriods?: number;
  throttledNs?: number;
  readBytes?: number;
  writeBytes?: number;
  readOps?: number;
  writeOps?: number;
}

/** Current values. */
export interface CgroupGauges {
  /** Usage less inactive page cache (what `docker stats` calls usage). */
  memory: number;
  rss?: number;
  cache?: number;
  failcnt?: number;
  oomKills?: number;
  pids?: number;
}

export interface CgroupSample {
  counters: CgroupCounters;
  gauges: CgroupGauges;
}

/**
 * Reads a whole file; throws (ENOENT…) when it is not there. Synchronous: /proc and
 * cgroupfs files are made by the kernel on read and never wait for a disk.
 */
export type ReadText = (path: string) => string;

/** The container's cgroup is gone (it stopped or restarted): look it up again. */
export class CgroupGone extends Error {
  override name = 'CgroupGone';
}

const NL = 10;
const SPACE = 32;
const TAB = 9;
const ZERO = 48;
const NINE = 57;

/**
 * Where the run of digits at `i` ends, and its value: `digitsAt(text, i)` sets
 * `digits.end` and returns the number (NaN when there is no digit at `i`). Scanning in
 * place keeps the collector, which reads these files for every container at every
 * interval, from making a string per line and field.
 */
export const digits = { end: 0 };
export function digitsAt(text: string, i: number): number {
  let value = 0;
  const start = i;
  for (let c = text.charCodeAt(i); c >= ZERO && c <= NINE; c = text.charCodeAt(++i)) value = value * 10 + (c - ZERO);
  digits.end = i;
  return i === start ? NaN : value;
}

/** Index of the first character after spaces and tabs from `i`. */
export function skipBlanks(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === SPACE || c === TAB; c = text.charCodeAt(++i));
  return i;
}

/** Whether `i` is the end of a line (or of the text), blanks allowed before it. */
export function atLineEnd(text: string, i: number): boolean {
  const c = text.charCodeAt(skipBlanks(text, i));
  return Number.isNaN(c) || c === NL;
}

/**
 * The value of `key` in "key value" lines (cpu.stat, memory.stat, memory.events,
 * oom_control); undefined when the key is missing or its value is not a whole number.
 */
export function flatKeyed(text: string, key: string): number | undefined {
  for (let at = text.indexOf(key); at !== -1; at = text.indexOf(key, at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) !== NL) continue;
    const sep = text.charCodeAt(at + key.length);
    if (sep !== SPACE && sep !== TAB) continue;
    const value = digitsAt(text, skipBlanks(text, at + key.length));
    return Number.isNaN(value) || !atLineEnd(text, digits.end) ? undefined : value;
  }
  return undefined;
}

export function parseSingleNumber(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** A file the sample cannot do without: missing means the cgroup is gone. */
export function mustRead(read: ReadText, path: string): string {
  try {
    return read(path);
  } catch (err) {
    throw new CgroupGone(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A file some kernels or setups lack (no blkio or pids controller, an old kernel). */
export function mayRead(read: ReadText, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return read(path);
  } catch {
    return undefined;
  }
}

/** Drops undefined fields (exactOptionalPropertyTypes). */
export function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}
