/**
 * cgroup v1: one directory per controller (cpu, cpuacct, memory, blkio, pids), as
 * resolved from the container's /proc/<pid>/cgroup (see cgroup-paths.ts).
 */
import { join } from 'node:path';
import type { V1Controller } from './cgroup-paths.js';
import { defined, mayRead, mustRead, parseFlatKeyed, parseSingleNumber, type CgroupSample, type ReadText } from './cgroup-sample.js';

/** blkio.throttle.io_service_bytes / io_serviced: "8:0 Read 4096" lines (and a "Total N" line) → read and write sums. */
export function parseBlkio(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (!dev?.includes(':') || value === undefined) continue;
    if (op === 'Read') read += Number(value) || 0;
    else if (op === 'Write') write += Number(value) || 0;
  }
  return { read, write };
}

/** Sums over the whole subtree when the kernel has the _recursive files, else the cgroup's own. */
function blkio(read: ReadText, dir: string | undefined, file: string): { read: number; write: number } | undefined {
  if (dir === undefined) return undefined;
  const text = mayRead(read, join(dir, `${file}_recursive`)) ?? mayRead(read, join(dir, file));
  return text === undefined ? undefined : parseBlkio(text);
}

export function readCgroupV1(read: ReadText, dirs: Partial<Record<V1Controller, string>> & { cpuacct: string; memory: string }): CgroupSample {
  const file = (c: V1Controller, name: string): string | undefined => (dirs[c] === undefined ? undefined : join(dirs[c], name));
  const usage = mustRead(read, join(dirs.cpuacct, 'cpuacct.usage'));
  const memUsage = mustRead(read, join(dirs.memory, 'memory.usage_in_bytes'));
  const memStat = mustRead(read, join(dirs.memory, 'memory.stat'));
  const cpuStat = mayRead(read, file('cpu', 'cpu.stat'));
  const failcnt = mayRead(read, join(dirs.memory, 'memory.failcnt'));
  const oomControl = mayRead(read, join(dirs.memory, 'memory.oom_control'));
  const bytes = blkio(read, dirs.blkio, 'blkio.throttle.io_service_bytes');
  const ops = blkio(read, dirs.blkio, 'blkio.throttle.io_serviced');
  const pids = mayRead(read, file('pids', 'pids.current'));
  const stat = parseFlatKeyed(memStat);
  // total_* include child cgroups (use_hierarchy, always on since 5.x); older kernels may lack them.
  const mem = (key: string): number | undefined => stat.get(`total_${key}`) ?? stat.get(key);
  const cpu = cpuStat === undefined ? undefined : parseFlatKeyed(cpuStat);
  const used = parseSingleNumber(memUsage) ?? 0;
  return {
    counters: defined({
      cpuNs: parseSingleNumber(usage) ?? 0,
      throttledPeriods: cpu?.get('nr_throttled'),
      throttledNs: cpu?.get('throttled_time'),
      readBytes: bytes?.read,
      writeBytes: bytes?.write,
      readOps: ops?.read,
      writeOps: ops?.write,
    }),
    gauges: defined({
      memory: Math.max(0, used - (mem('inactive_file') ?? 0)),
      rss: mem('rss'),
      cache: mem('cache'),
      failcnt: failcnt === undefined ? undefined : parseSingleNumber(failcnt),
      oomKills: oomControl === undefined ? undefined : parseFlatKeyed(oomControl).get('oom_kill'),
      pids: pids === undefined ? undefined : parseSingleNumber(pids),
    }),
  };
}
