/** cgroup v2 (unified): every controller's files in the container's one directory. */
import { join } from 'node:path';
import { defined, mayRead, mustRead, flatKeyed, parseSingleNumber, type CgroupSample, type ReadText } from './cgroup-sample.js';

/** io.stat: "8:0 rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…" per device → sums. */
export function parseIoStat(text: string): { rbytes: number; wbytes: number; rios: number; wios: number } {
  const sum = { rbytes: 0, wbytes: 0, rios: 0, wios: 0 };
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      if (key !== undefined && key in sum) sum[key as keyof typeof sum] += Number(value) || 0;
    }
  }
  return sum;
}

export function readCgroupV2(read: ReadText, dir: string): CgroupSample {
  const cpuStat = mustRead(read, join(dir, 'cpu.stat'));
  // Without the memory controller enabled for the subtree these two are missing.
  const current = mayRead(read, join(dir, 'memory.current'));
  const memStat = mayRead(read, join(dir, 'memory.stat'));
  const events = mayRead(read, join(dir, 'memory.events'));
  const io = mayRead(read, join(dir, 'io.stat'));
  const pids = mayRead(read, join(dir, 'pids.current'));
  const stat = (key: string): number | undefined => (memStat === undefined ? undefined : flatKeyed(memStat, key));
  const ev = (key: string): number | undefined => (events === undefined ? undefined : flatKeyed(events, key));
  const ioSum = io === undefined ? undefined : parseIoStat(io);
  const throttledUs = flatKeyed(cpuStat, 'throttled_usec');
  return {
    counters: defined({
      cpuNs: (flatKeyed(cpuStat, 'usage_usec') ?? 0) * 1000,
      throttledPeriods: flatKeyed(cpuStat, 'nr_throttled'),
      throttledNs: throttledUs === undefined ? undefined : throttledUs * 1000,
      readBytes: ioSum?.rbytes,
      writeBytes: ioSum?.wbytes,
      readOps: ioSum?.rios,
      writeOps: ioSum?.wios,
    }),
    gauges: defined({
      memory: Math.max(0, (parseSingleNumber(current ?? '') ?? 0) - (stat('inactive_file') ?? 0)),
      rss: stat('anon'),
      cache: stat('file'),
      failcnt: ev('max'),
      oomKills: ev('oom_kill'),
      pids: pids === undefined ? undefined : parseSingleNumber(pids),
    }),
  };
}
