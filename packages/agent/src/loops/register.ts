/** Registration, repeated every heartbeat interval (it is the heartbeat). */
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { WharfClient } from '@wharf/client';
import { WHARF_VERSION, type HostNetwork, type HostRegistration, type MetricsReport } from '@wharf/types';
import { Backoff, sleep } from '../backoff.js';
import type { Engine } from '../docker/engine.js';
import { FailureLog } from '../failure-log.js';
import type { VolumeManager } from '../volumes/manager.js';

export interface RegisterDeps {
  client: Pick<WharfClient, 'registerHost'>;
  engine: Engine;
  host: { name: string; zone: string; rack: string; labels: Record<string, string> };
  dataDir: string;
  /** The volume pool: its size less the recycle bin is the disk capacity; without it, the filesystem of dataDir. */
  volumes?: Pick<VolumeManager, 'report'>;
  advertise: string;
  /** Cores offered to the scheduler per physical core (CPU is shared, memory never is). */
  cpuOvercommit: number;
  /** Disk offered per byte of pool (volume limits are caps on one shared pool). */
  diskOvercommit?: number;
  /** Platform networks this host reaches, and through which uplink (--network). */
  networks: HostNetwork[];
  /** Uplink capacity, Mbit/s per direction. */
  bandwidth: number;
  intervalMs: number;
  log: Logger;
  signal: AbortSignal;
  onRegistered: () => void;
  /** The collector's newest report not sent yet: it goes with the next heartbeat, once. */
  metrics?: { take(): MetricsReport | undefined; giveBack(report: MetricsReport): void };
}

/** Total and used bytes of the filesystem holding `dir`. */
export async function diskBytes(dir: string): Promise<{ total: number; used: number }> {
  const s = await statfs(dir);
  return { total: Number(s.blocks) * Number(s.bsize), used: (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize) };
}

/**
 * Disk: with a volume manager, capacity = the pool's size less what its recycle bin
 * holds (deleted volumes count until purged) and used = the pool's used bytes, plus
 * the pool and every volume's usage (one cheap pass: one btrfs command). While the
 * pool is not ready the capacity is 0: no volume can be made here.
 */
export async function hostRegistration(d: Pick<RegisterDeps, 'engine' | 'host' | 'dataDir' | 'advertise' | 'cpuOvercommit' | 'diskOvercommit' | 'networks' | 'bandwidth' | 'volumes'>): Promise<HostRegistration> {
  const disk = async (): Promise<{ total: number; used: number; pool?: HostRegistration['pool']; volumes?: HostRegistration['volumes'] }> => {
    if (!d.volumes) return diskBytes(d.dataDir);
    const r = await d.volumes.report();
    if (!r) return { total: 0, used: 0 };
    return { total: Math.floor(Math.max(0, r.pool.size - r.pool.trash) * (d.diskOvercommit ?? 1)), used: r.pool.used, pool: r.pool, volumes: r.volumes };
  };
  const [dockerVersion, images, storage] = await Promise.all([d.engine.version(), d.engine.imageTags(), disk()]);
  return {
    ...d.host,
    capacity: { cpu: cpus().length * d.cpuOvercommit, memory: totalmem(), disk: storage.total, bandwidth: d.bandwidth },
    used: { cpu: Math.round(loadavg()[0] as number * 100) / 100, memory: totalmem() - freemem(), disk: storage.used },
    agentUrl: d.advertise,
    agentVersion: WHARF_VERSION,
    dockerVersion,
    images,
    networks: d.networks,
    ...(storage.pool ? { pool: storage.pool, volumes: storage.volumes ?? [] } : {}),
  };
}

export async function registerLoop(d: RegisterDeps): Promise<void> {
  const backoff = new Backoff(200, 5_000);
  const failures = new FailureLog(d.log, 'registration');
  let registered = false;
  while (!d.signal.aborted) {
    let metrics: MetricsReport | undefined;
    try {
      const reg = await hostRegistration(d);
      metrics = d.metrics?.take();
      if (metrics) reg.metrics = metrics;
      await d.client.registerHost(reg);
      metrics = undefined;
      failures.ok();
      backoff.reset();
      if (!registered) {
        registered = true;
        d.log.info({ host: reg.name, agentUrl: d.advertise, capacity: reg.capacity, docker: reg.dockerVersion }, 'registered');
        d.onRegistered();
      }
      await sleep(d.intervalMs, d.signal);
    } catch (err) {
      if (metrics) d.metrics?.giveBack(metrics);
      if (d.signal.aborted) return;
      failures.fail(err);
      await sleep(backoff.next(), d.signal);
    }
  }
}
