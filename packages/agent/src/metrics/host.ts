/** The host's own figures: CPU (/proc/stat), memory (/proc/meminfo), load (/proc/loadavg), uplink counters (net/dev). */
import { parseLoadavg, parseMeminfo, parseNetDev, parseProcStat, type CpuTimes, type NetCounters } from './procfs.js';
import { mayRead, type ReadText } from './cgroup-sample.js';
import type { NetnsLocator } from './netns-locator.js';

export interface HostReading {
  cpu?: CpuTimes;
  memory?: { total: number; available: number };
  load?: [number, number, number];
  /** Counters of the uplinks found, by name. */
  uplinks: Map<string, NetCounters>;
}

export interface HostReaderDeps {
  read: ReadText;
  /** Default /proc. */
  procRoot?: string;
  /** The uplinks the agent knows (--network NAME=IFACE). */
  uplinks: string[];
  netns: Pick<NetnsLocator, 'netDev'>;
}

export async function readHost(d: HostReaderDeps): Promise<HostReading> {
  const proc = d.procRoot ?? '/proc';
  const netDev = d.uplinks.length > 0 ? await d.netns.netDev() : undefined;
  const [stat, meminfo, loadavg, dev] = [`${proc}/stat`, `${proc}/meminfo`, `${proc}/loadavg`, netDev].map((p) => mayRead(d.read, p));
  const devs = dev === undefined ? new Map<string, NetCounters>() : parseNetDev(dev);
  const uplinks = new Map<string, NetCounters>();
  for (const name of d.uplinks) {
    const c = devs.get(name);
    if (c) uplinks.set(name, c);
  }
  const cpu = stat === undefined ? undefined : parseProcStat(stat);
  const memory = meminfo === undefined ? undefined : parseMeminfo(meminfo);
  const load = loadavg === undefined ? undefined : parseLoadavg(loadavg);
  return { uplinks, ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...(load ? { load } : {}) };
}
