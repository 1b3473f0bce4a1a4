/**
 * The metrics collector: every interval, every running container of every managed
 * set (cgroup v1 or v2 files, found through /proc/<pid>/cgroup) summed per set, the
 * set's network (its infra container's namespace: /proc/<infra pid>/net/dev) and
 * volume, and the host (/proc, the uplinks in the Docker host's namespace). Counters
 * become rates over the interval (rates.ts). Never the Docker stats API: Docker
 * sees a list call and an inspect only when a container is new or changed (inventory.ts,
 * and the engine's cache while its event stream runs); cgroup files stay open between
 * collections (open-files.ts). Its own cost goes into the report (collectMs, collectCpuMs).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { HostMetrics, MetricsReport, ResourceSample, SetMetrics, UplinkSample, VolumePool, VolumeUsage } from '@wharf/types';
import { sleep } from '../backoff.js';
import type { Engine } from '../docker/engine.js';
import { CgroupGone, type CgroupSample, type ReadText } from './cgroup-sample.js';
import { readCgroupV1 } from './cgroup-v1.js';
import { readCgroupV2 } from './cgroup-v2.js';
import { readHost } from './host.js';
import { ContainerInventory, type MeasuredContainer } from './inventory.js';
import { NetnsLocator } from './netns-locator.js';
import { OpenFiles } from './open-files.js';
import { isSetInterface, parseNetDev, sumNet, type CpuTimes } from './procfs.js';
import { RateKeeper, type Instant, type Counters } from './rates.js';
import { containerSample, networkSample, round, setSample } from './samples.js';

export interface VolumeFigures {
  pool: VolumePool;
  volumes: VolumeUsage[];
}

export interface CollectorOptions {
  engine: Pick<Engine, 'listManaged' | 'inspect'>;
  /** Uplink interfaces (from --network), read in the Docker host's namespace. */
  uplinks: string[];
  /** The Docker host's network namespace file (--netns); default the agent's own. */
  netns?: string;
  /** The newest volume pool and usage figures the agent has (no command of its own). */
  volumes?: () => VolumeFigures | undefined;
  intervalMs: number;
  log: Logger;
  /** For tests: where /proc is, how files are read, what time it is (both clocks). */
  procRoot?: string;
  read?: ReadText;
  clock?: () => Instant;
}

export interface CycleStats {
  ms: number;
  cpuMs: number;
  ok: boolean;
}

/**
 * /proc and cgroupfs files are made by the kernel on read and never wait for a disk:
 * a synchronous read costs a tenth of the CPU of fs.promises' open-stat-read-close
 * round trips through the thread pool. The collector yields between sets instead.
 */
const readText: ReadText = (path) => readFileSync(path, 'utf8');
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const nowInstant = (): Instant => ({ mono: performance.now(), wall: Date.now() });

export class Collector {
  readonly inventory: ContainerInventory;
  private readonly rates = new RateKeeper();
  private readonly netns: NetnsLocator;
  private readonly read: ReadText;
  /** cgroup files: through descriptors kept open between collections, unless a test reads for us. */
  private readonly files: OpenFiles | undefined;
  private readonly readCgroup: ReadText;
  private readonly proc: string;
  private prevCpu: CpuTimes | undefined;
  /** Wall clock of the previous collection. */
  private since: number | undefined;

  constructor(private readonly o: CollectorOptions) {
    this.read = o.read ?? readText;
    this.files = o.read ? undefined : new OpenFiles();
    this.readCgroup = this.files?.readText ?? this.read;
    this.proc = o.procRoot ?? '/proc';
    this.inventory = new ContainerInventory({ engine: o.engine, read: this.read, procRoot: this.proc, log: o.log });
    this.netns = new NetnsLocator(o.netns, this.proc);
  }

  /**
   * Collects until `signal` aborts: at once (which gives no rates yet), then every
   * interval. `onReport` gets each report, `onCycle` every collection's cost.
   */
  async run(signal: AbortSignal, onReport: (r: MetricsReport) => void, onCycle?: (s: CycleStats) => void): Promise<void> {
    // A Docker call that hangs must not hold up the agent's stop.
    const aborted = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    while (!signal.aborted) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let ok = true;
      try {
        const report = await Promise.race([this.collect(), aborted]);
        if (report && !signal.aborted) onReport(report);
      } catch (err) {
        ok = false;
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics collection failed');
      }
      const cpu = process.cpuUsage(cpu0);
      onCycle?.({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, ok });
      await sleep(Math.max(0, this.o.intervalMs - (performance.now() - t0)), signal);
    }
    this.files?.closeAll();
  }

  /** One collection; undefined the first time (nothing to make rates from yet). */
  async collect(): Promise<MetricsReport | undefined> {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let containers: MeasuredContainer[] | undefined;
    try {
      containers = await this.inventory.running();
    } catch (err) {
      this.o.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'metrics: docker did not list the containers; host figures only');
    }
    // After Docker answered (its time varies), right before the files are read.
    const since = this.since;
    const now = (this.o.clock ?? nowInstant)();
    this.since = now.wall;
    const [hostReading, sets] = await Promise.all([
      readHost({ read: this.read, procRoot: this.proc, uplinks: [...new Set(this.o.uplinks)], netns: this.netns }),
      containers ? this.measureSets(containers, now, since) : Promise.resolve(undefined),
    ]);

    const cpu = hostReading.cpu;
    const prevCpu = this.prevCpu;
    this.prevCpu = cpu;
    const uplinks: UplinkSample[] = [];
    for (const [name, c] of hostReading.uplinks) {
      const r = this.rates.rate(`uplink:${name}`, { incarnation: name, values: { ...c } }, now, since);
      if (r.kind === 'rates') uplinks.push({ name, rxBytes: round(r.rates.rxBytes ?? 0), txBytes: round(r.rates.txBytes ?? 0), rxPackets: round(r.rates.rxPackets ?? 0), txPackets: round(r.rates.txPackets ?? 0) });
    }
    this.files?.sweep();
    if (sets) this.rates.retain(new Set([...sets.keys, ...[...hostReading.uplinks.keys()].map((n) => `uplink:${n}`)]));
    if (!cpu || !prevCpu || cpu.total <= prevCpu.total || since === undefined) return undefined;

    const pool = this.o.volumes?.()?.pool;
    const spent = process.cpuUsage(cpu0);
    const host: HostMetrics = {
      time: new Date(now.wall).toISOString(),
      cpu: round((Math.max(0, cpu.busy - prevCpu.busy) / (cpu.total - prevCpu.total)) * cpu.cpus),
      cpus: cpu.cpus,
      memory: hostReading.memory ? hostReading.memory.total - hostReading.memory.available : 0,
      memoryTotal: hostReading.memory?.total ?? 0,
      load1: hostReading.load?.[0] ?? 0,
      load5: hostReading.load?.[1] ?? 0,
      load15: hostReading.load?.[2] ?? 0,
      ...(pool ? { poolUsed: pool.used, poolSize: pool.size } : {}),
      uplinks,
      containers: sets?.measured ?? 0,
      collectMs: round(performance.now() - t0),
      collectCpuMs: round((spent.user + spent.system) / 1000),
    };
    return { host, sets: sets?.sets ?? [] };
  }

  private async measureSets(containers: MeasuredContainer[], now: Instant, since: number | undefined): Promise<{ sets: SetMetrics[]; keys: string[]; measured: number }> {
    const bySet = new Map<string, MeasuredContainer[]>();
    for (const c of containers) {
      const members = bySet.get(c.setRef);
      if (members) members.push(c);
      else bySet.set(c.setRef, [c]);
    }
    const volumes = new Map((this.o.volumes?.()?.volumes ?? []).map((v) => [`${v.tenant}/${v.appkey}/${v.id}`, v]));
    const out = { sets: [] as SetMetrics[], keys: [] as string[], measured: 0 };
    const time = new Date(now.wall).toISOString();
    for (const [ref, members] of bySet) {
      await yieldToEvents();
      const samples = members.map((c) => this.measureContainer(c, now, since));
      const infra = members.find((c) => c.role === 'infra');
      const network = infra ? this.measureNetwork(ref, infra, now, since) : {};
      out.keys.push(...members.map((c) => `c:${c.id}`), `net:${ref}`);
      out.measured += samples.filter((x) => x !== undefined).length;
      // A set whose container has no rate yet (just seen, restarted unseen) waits one interval: a partial sum would dip.
      if (samples.some((x) => x === undefined)) continue;
      const first = members[0] as MeasuredContainer;
      const parts = members.map((c, i) => ({ role: c.role, name: c.name, sample: samples[i] as ResourceSample }));
      const volume = volumes.get(ref);
      out.sets.push({
        tenant: first.tenant,
        appkey: first.appkey,
        id: first.setId,
        time,
        set: setSample(parts, network),
        containers: Object.fromEntries(parts.filter((p) => p.role === 'business').map((p) => [p.name, p.sample])),
        ...(volume ? { volumeUsed: volume.used, volumeQuota: volume.quota } : {}),
      });
    }
    return out;
  }

  private measureContainer(c: MeasuredContainer, now: Instant, since: number | undefined): ResourceSample | undefined {
    let sample: CgroupSample;
    try {
      sample = c.cgroup.version === 1 ? readCgroupV1(this.readCgroup, c.cgroup.dirs) : readCgroupV2(this.readCgroup, c.cgroup.dir);
    } catch (err) {
      if (!(err instanceof CgroupGone)) throw err;
      this.inventory.invalidate(c.id);
      return undefined;
    }
    // The sample is made afresh at every read: the rate keeper may keep it as it is.
    const r = this.rates.rate(`c:${c.id}`, { incarnation: `${c.id}@${c.startedAt}`, ...(c.startedAtMs !== undefined ? { startedAt: c.startedAtMs } : {}), values: sample.counters as unknown as Counters }, now, since);
    if (r.kind === 'fresh') {
      if (r.wentBackwards) this.inventory.invalidate(c.id);
      return undefined;
    }
    return containerSample(r.rates, sample.gauges, c);
  }

  /** The set's namespace is its infra container's: all interfaces but lo (and the ingress ifb). */
  private measureNetwork(ref: string, infra: MeasuredContainer, now: Instant, since: number | undefined): Partial<ResourceSample> {
    let text: string;
    try {
      text = this.read(`${this.proc}/${infra.pid}/net/dev`);
    } catch {
      this.inventory.invalidate(infra.id);
      return {};
    }
    const values = { ...sumNet(parseNetDev(text), isSetInterface) };
    const r = this.rates.rate(`net:${ref}`, { incarnation: `${infra.id}@${infra.startedAt}`, ...(infra.startedAtMs !== undefined ? { startedAt: infra.startedAtMs } : {}), values }, now, since);
    if (r.kind === 'fresh' && r.wentBackwards) this.inventory.invalidate(infra.id);
    return r.kind === 'rates' ? networkSample(r.rates) : {};
  }
}
