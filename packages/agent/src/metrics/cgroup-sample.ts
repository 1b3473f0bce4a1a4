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

/** "key value" lines (cpu.stat, memory.stat, memory.events, oom_control) → numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
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
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
