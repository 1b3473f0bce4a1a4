/**
 * What the load run and the soak share. What they read off the machine: memory in use
 * (MemTotal − MemAvailable, and the kernel's slab), the proportional set size of the
 * processes of the stack by kind (containerd shims, dockerd and containerd, agents,
 * the server), how busy the CPUs are, and the server's own RSS and heap from its
 * Prometheus metrics (Linux /proc only; nothing is spawned). And how they run: on the
 * e2e harness's hosts with the leak checker, torn down whatever happens.
 */
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { WharfClient } from '@wharf/client';
import { parseMeminfo, parsePidStat, parseProcStat } from '../../packages/agent/dist/metrics/procfs.js';
import { Cluster, defaultHosts } from '../../e2e/dist/harness/cluster.js';
import type { PlatformOptions } from '../../e2e/dist/harness/platform.js';
import { formatLeaks, LeakChecker, type Leak } from '../../e2e/dist/harness/leaks.js';
import { containersLeft } from './swarm.js';

export const MIB = 1024 * 1024;

/**
 * The main process of the load's containers: it sleeps without waking (no fork per
 * second, unlike the harness's LOOP) and exits at once on SIGTERM.
 */
export const IDLE = "trap 'exit 0' TERM; sleep 2147483647 & wait";

/** A set's containers for the load and the soak: one business container "app" of busybox running IDLE. */
export const IDLE_CONTAINERS = [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', IDLE] } } }];

export interface Memory {
  /** MemTotal − MemAvailable: what the machine cannot give back. */
  usedBytes: number;
  availableBytes: number;
  totalBytes: number;
  slabBytes: number;
}

export async function memory(): Promise<Memory> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const { total, available } = parseMeminfo(text) ?? { total: NaN, available: NaN };
  const slab = /^Slab:\s+(\d+) kB/m.exec(text);
  return { usedBytes: total - available, availableBytes: available, totalBytes: total, slabBytes: slab ? Number(slab[1]) * 1024 : NaN };
}

export type ProcessKind = 'shim' | 'engine' | 'agent' | 'server';

/** What a command line is to the stack, if anything. */
export function kindOf(cmdline: string): ProcessKind | undefined {
  if (cmdline.includes('containerd-shim')) return 'shim';
  if (/(^|\/)(dockerd|containerd)( |$)/.test(cmdline)) return 'engine';
  if (cmdline.includes('packages/agent/dist/main.js')) return 'agent';
  if (cmdline.includes('packages/server/dist/main.js')) return 'server';
  return undefined;
}

export interface Footprint {
  /** By kind: processes, their PSS (shared pages divided among their users), their CPU time so far in clock ticks. */
  kinds: Record<ProcessKind, { count: number; pssBytes: number; cpuTicks: number }>;
  /** memory.usage_in_bytes summed over the container cgroups (cgroup v1 memory/docker/<id>): the containers' own processes, page cache and kernel memory. */
  containersBytes: number;
  slabBytes: number;
  /** What the stack holds: every kind's PSS, the containers' cgroups and the kernel's slab. */
  totalBytes: number;
}

/** The stack's memory, measured from its own processes and cgroups, so that other work on the machine does not count. */
export async function footprint(): Promise<Footprint> {
  const zero = () => ({ count: 0, pssBytes: 0, cpuTicks: 0 });
  const kinds: Footprint['kinds'] = { shim: zero(), engine: zero(), agent: zero(), server: zero() };
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const kind = kindOf((await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' '));
    if (!kind) continue;
    const [rollup, stat] = await Promise.all([readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => ''), readFile(`/proc/${p}/stat`, 'utf8').catch(() => '')]);
    const pss = /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (!pss || !stat) continue; // gone meanwhile
    const times = parsePidStat(stat);
    kinds[kind].count++;
    kinds[kind].pssBytes += Number(pss[1]) * 1024;
    kinds[kind].cpuTicks += times ? times.utime + times.stime : NaN;
  }
  let containersBytes = 0;
  for (const id of await readdir('/sys/fs/cgroup/memory/docker').catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    containersBytes += Number(await readFile(`/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`, 'utf8').catch(() => '0')) || 0;
  }
  const { slabBytes } = await memory();
  const pss = Object.values(kinds).reduce((a, k) => a + k.pssBytes, 0);
  return { kinds, containersBytes, slabBytes, totalBytes: pss + containersBytes + slabBytes };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** The share (0–1) of the machine's CPUs the stack's processes used between two footprints `ms` apart. */
export function stackCpu(a: Footprint, b: Footprint, ms: number): number {
  const ticks = (f: Footprint) => Object.values(f.kinds).reduce((x, k) => x + k.cpuTicks, 0);
  return (ticks(b) - ticks(a)) / USER_HZ / (ms / 1000) / cpus().length;
}

/** VmRSS of one process in bytes; NaN when it is gone. */
export async function rssOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

const cpuTimes = async () => parseProcStat(await readFile('/proc/stat', 'utf8')) ?? { busy: NaN, total: NaN };

/** The share (0–1) of all CPUs busy over the next `ms`. */
export async function cpuBusy(ms: number): Promise<number> {
  const a = await cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = await cpuTimes();
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

/**
 * CPU time a process's threads ran and waited runnable for a CPU, in ns, from
 * /proc/<pid>/task/<tid>/schedstat: its main thread (the event loop, for node) and
 * all of them. Waiting is time the process had work and the machine gave it no core.
 */
export interface SchedTimes {
  mainRunNs: number;
  mainWaitNs: number;
  runNs: number;
  waitNs: number;
}

export async function schedTimes(pid: number | undefined): Promise<SchedTimes> {
  const t: SchedTimes = { mainRunNs: NaN, mainWaitNs: NaN, runNs: 0, waitNs: 0 };
  if (pid === undefined) return { ...t, runNs: NaN, waitNs: NaN };
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const [run = NaN, wait = NaN] = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '')).split(' ').map(Number);
    if (Number.isNaN(run)) continue;
    t.runNs += run;
    t.waitNs += wait;
    if (tid === String(pid)) Object.assign(t, { mainRunNs: run, mainWaitNs: wait });
  }
  return t;
}

/** Between two readings over `ms` of wall time: shares of that time (1 = all of it; summed over threads for `run`/`wait`). */
export function schedShares(a: SchedTimes, b: SchedTimes, ms: number) {
  const share = (x: number, y: number) => Math.round(((y - x) / 1e6 / ms) * 1000) / 1000;
  return { mainRun: share(a.mainRunNs, b.mainRunNs), mainWait: share(a.mainWaitNs, b.mainWaitNs), run: share(a.runNs, b.runNs), wait: share(a.waitNs, b.waitNs) };
}

export interface ServerMemory {
  rssBytes: number;
  heapUsedBytes: number;
}

/** The server's RSS and V8 heap in use, from its `GET /metrics` (prom-client's process metrics). */
export async function serverMemory(client: WharfClient): Promise<ServerMemory> {
  const text = await (await client.raw('GET', '/metrics')).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rssBytes: gauge('process_resident_memory_bytes'), heapUsedBytes: gauge('nodejs_heap_size_used_bytes') };
}

/** Runs `fn` and resolves with how long it took in ms (and throws what it throws). */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;

// ---- the run ----

/** A progress line to stderr, after the run's name. */
export const logger = (name: string) => (line: string) => {
  process.stderr.write(`${name}: ${line}\n`);
};

/**
 * Starts `hosts` hosts of the e2e harness (a dockerd and an agent each, one wharf-server),
 * takes the leak checker's baseline, runs `fn` and stops the hosts whatever happens. An
 * error of the run is printed before the teardown, whose own errors would hide it, and
 * sets the exit code to 1.
 */
export async function onCluster(hosts: number, log: (line: string) => void, fn: (cluster: Cluster, checker: LeakChecker) => Promise<void>, platform: PlatformOptions = {}): Promise<void> {
  let cluster: Cluster | undefined;
  try {
    log(`starting ${hosts} hosts, a wharf-server and ${hosts} agents …`);
    cluster = await Cluster.start({ hosts: defaultHosts(hosts), platform });
    await fn(cluster, await LeakChecker.start(cluster.platform));
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await cluster?.stop().catch((err: unknown) => log(`teardown: ${String(err).slice(0, 500)}`));
  }
}

/** No set left in the store and no Wharf container on any host. */
export async function allGone(cluster: Cluster): Promise<boolean> {
  return (await containersLeft(cluster.hosts, 'wharf.managed=true')) === 0 && (await cluster.platform.client.listSets()).length === 0;
}

/** The leak checker's finding, given 2 minutes to come to none (what is in flight settles), logged. */
export async function leakCheck(checker: LeakChecker, what: string, log: (line: string) => void): Promise<Leak[]> {
  const leaks = await checker.check({ settleMs: 120_000, everyMs: 5000 });
  log(`leak check ${what}: ${formatLeaks(leaks)}`);
  return leaks;
}
