/** Parsers of the /proc files the collector reads (pure: text in, numbers out). */

/** Cumulative counters of network interfaces, as in /proc/<pid>/net/dev. */
export interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export const ZERO_NET: NetCounters = { rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 };

/**
 * /proc/<pid>/net/dev (the namespace of that process): counters by interface.
 * Columns after "iface:": rx bytes packets errs drop fifo frame compressed multicast,
 * tx bytes packets errs drop fifo colls carrier compressed.
 */
export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (!name || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.set(name, {
      rxBytes: f[0]!, rxPackets: f[1]!, rxErrors: f[2]!, rxDropped: f[3]!,
      txBytes: f[8]!, txPackets: f[9]!, txErrors: f[10]!, txDropped: f[11]!,
    });
  }
  return out;
}

/**
 * Interfaces that carry a set's own traffic: all but loopback and ifb devices
 * (the ingress limiter redirects every received packet through one, which would
 * count it twice).
 */
export function isSetInterface(name: string): boolean {
  return name !== 'lo' && !name.startsWith('ifb') && name !== 'wharf-ifb';
}

export function sumNet(devs: Map<string, NetCounters>, include: (name: string) => boolean): NetCounters {
  const sum = { ...ZERO_NET };
  for (const [name, c] of devs) {
    if (!include(name)) continue;
    for (const k of Object.keys(sum) as (keyof NetCounters)[]) sum[k] += c[k];
  }
  return sum;
}

/** The first line of /proc/stat, in clock ticks; `cpus` counts the cpuN lines (online CPUs). */
export interface CpuTimes {
  busy: number;
  total: number;
  cpus: number;
}

export function parseProcStat(text: string): CpuTimes | undefined {
  let times: number[] | undefined;
  let cpus = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) times = line.slice(4).trim().split(/\s+/).map(Number);
    else if (/^cpu\d+\s/.test(line)) cpus++;
  }
  if (!times || times.length < 4 || times.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = times;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, cpus: Math.max(1, cpus) };
}

/** A process's /proc/PID/stat, in clock ticks: CPU time in user and kernel mode, and when it started (since boot). */
export interface PidStat {
  utime: number;
  stime: number;
  start: number;
}

export function parsePidStat(text: string): PidStat | undefined {
  // Fields after the command name (field 2, which may hold spaces and parentheses), from field 3 on.
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  const f = text.slice(end + 2).split(' ');
  const [utime, stime, start] = [Number(f[11]), Number(f[12]), Number(f[19])];
  return [utime, stime, start].every(Number.isFinite) ? { utime, stime, start } : undefined;
}

/** /proc/meminfo: MemTotal and MemAvailable in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const kib = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kib('MemTotal');
  const available = kib('MemAvailable') ?? kib('MemFree');
  return total === undefined || available === undefined ? undefined : { total, available };
}

export function parseLoadavg(text: string): [number, number, number] | undefined {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return a !== undefined && b !== undefined && c !== undefined && [a, b, c].every(Number.isFinite) ? [a, b, c] : undefined;
}
