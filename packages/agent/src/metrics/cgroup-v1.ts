/**
 * cgroup v1: one directory per controller (cpu, cpuacct, memory, blkio, pids), as
 * resolved from the container's /proc/<pid>/cgroup (see cgroup-paths.ts).
 */
import { join } from 'node:path';
import type { V1Controller } from './cgroup-paths.js';
import { defined, digits, digitsAt, flatKeyed, mayRead, mustRead, parseSingleNumber, skipBlanks, type CgroupSample, type ReadText } from './cgroup-sample.js';

/** blkio.throttle.io_service_bytes / io_serviced: "8:0 Read 4096" lines (and a "Total N" line) → read and write sums. */
export function parseBlkio(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (let line = 0; line < text.length; ) {
    const next = text.indexOf('\n', line);
    const end = next === -1 ? text.length : next;
    const sp = text.indexOf(' ', line);
    // "MAJ:MIN Op value": a device, not the "Total" line.
    if (sp !== -1 && sp < end && text.lastIndexOf(':', sp) >= line) {
      const op = skipBlanks(text, sp);
      const isRead = text.startsWith('Read', op);
      const isWrite = !isRead && text.startsWith('Write', op);
      if (isRead || isWrite) {
        const value = digitsAt(text, skipBlanks(text, op + (isRead ? 4 : 5)));
        if (!Number.isNaN(value) && digits.end <= end) {
          if (isRead) read += value;
          else write += value;
        }
      }
    }
    line = end + 1;
  }
  return { read, write };
}

/** The files read from each controller's directory, joined once per container. */
interface V1Files {
  usage: string;
  memUsage: string;
  memStat: string;
  failcnt: string;
  oomControl: string;
  cpuStat?: string;
  bytes?: [recursive: string, own: string];
  ops?: [recursive: string, own: string];
  pids?: string;
}

const filesOf = new WeakMap<object, V1Files>();

function v1Files(dirs: Partial<Record<V1Controller, string>> & { cpuacct: string; memory: string }): V1Files {
  let f = filesOf.get(dirs);
  if (f) return f;
  const blkio = (file: string): [string, string] | undefined => (dirs.blkio === undefined ? undefined : [join(dirs.blkio, `${file}_recursive`), join(dirs.blkio, file)]);
  const bytes = blkio('blkio.throttle.io_service_bytes');
  const ops = blkio('blkio.throttle.io_serviced');
  f = {
    usage: join(dirs.cpuacct, 'cpuacct.usage'),
    memUsage: join(dirs.memory, 'memory.usage_in_bytes'),
    memStat: join(dirs.memory, 'memory.stat'),
    failcnt: join(dirs.memory, 'memory.failcnt'),
    oomControl: join(dirs.memory, 'memory.oom_control'),
    ...(dirs.cpu !== undefined ? { cpuStat: join(dirs.cpu, 'cpu.stat') } : {}),
    ...(bytes ? { bytes } : {}),
    ...(ops ? { ops } : {}),
    ...(dirs.pids !== undefined ? { pids: join(dirs.pids, 'pids.current') } : {}),
  };
  filesOf.set(dirs, f);
  return f;
}

/** Sums over the whole subtree when the kernel has the _recursive files, else the cgroup's own. */
function blkio(read: ReadText, files: [recursive: string, own: string] | undefined): { read: number; write: number } | undefined {
  if (files === undefined) return undefined;
  const text = mayRead(read, files[0]) ?? mayRead(read, files[1]);
  return text === undefined ? undefined : parseBlkio(text);
}

export function readCgroupV1(read: ReadText, dirs: Partial<Record<V1Controller, string>> & { cpuacct: string; memory: string }): CgroupSample {
  const f = v1Files(dirs);
  const usage = mustRead(read, f.usage);
  const memUsage = mustRead(read, f.memUsage);
  const memStat = mustRead(read, f.memStat);
  const cpuStat = mayRead(read, f.cpuStat);
  const failcnt = mayRead(read, f.failcnt);
  const oomControl = mayRead(read, f.oomControl);
  const bytes = blkio(read, f.bytes);
  const ops = blkio(read, f.ops);
  const pids = mayRead(read, f.pids);
  // total_* include child cgroups (use_hierarchy, always on since 5.x); older kernels may lack them.
  const inactiveFile = flatKeyed(memStat, 'total_inactive_file') ?? flatKeyed(memStat, 'inactive_file');
  const used = parseSingleNumber(memUsage) ?? 0;
  return {
    counters: defined({
      cpuNs: parseSingleNumber(usage) ?? 0,
      throttledPeriods: cpuStat === undefined ? undefined : flatKeyed(cpuStat, 'nr_throttled'),
      throttledNs: cpuStat === undefined ? undefined : flatKeyed(cpuStat, 'throttled_time'),
      readBytes: bytes?.read,
      writeBytes: bytes?.write,
      readOps: ops?.read,
      writeOps: ops?.write,
    }),
    gauges: defined({
      memory: Math.max(0, used - (inactiveFile ?? 0)),
      rss: flatKeyed(memStat, 'total_rss') ?? flatKeyed(memStat, 'rss'),
      cache: flatKeyed(memStat, 'total_cache') ?? flatKeyed(memStat, 'cache'),
      failcnt: failcnt === undefined ? undefined : parseSingleNumber(failcnt),
      oomKills: oomControl === undefined ? undefined : flatKeyed(oomControl, 'oom_kill'),
      pids: pids === undefined ? undefined : parseSingleNumber(pids),
    }),
  };
}
