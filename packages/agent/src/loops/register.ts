/** Registration, repeated every heartbeat interval (it is the heartbeat). */
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { WharfClient } from '@wharf/client';
import { WHARF_VERSION, type HostNetwork, type HostRegistration } from '@wharf/types';
import { Backoff, sleep } from '../backoff.js';
import type { Engine } from '../docker/engine.js';
import { FailureLog } from '../failure-log.js';

export interface RegisterDeps {
  client: Pick<WharfClient, 'registerHost'>;
  engine: Engine;
  host: { name: string; zone: string; rack: string; labels: Record<string, string> };
  dataDir: string;
  advertise: string;
  /** Cores offered to the scheduler per physical core (CPU is shared, memory never is). */
  cpuOvercommit: number;
  /** Platform networks this host reaches, and through which uplink (--network). */
  networks: HostNetwork[];
  /** Uplink capacity, Mbit/s per direction. */
  bandwidth: number;
  intervalMs: number;
  log: Logger;
  signal: AbortSignal;
  onRegistered: () => void;
}

/** Total and used bytes of the filesystem holding `dir`. */
export async function diskBytes(dir: string): Promise<{ total: number; used: number }> {
  const s = await statfs(dir);
  return { total: Number(s.blocks) * Number(s.bsize), used: (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize) };
}

export async function hostRegistration(d: Pick<RegisterDeps, 'engine' | 'host' | 'dataDir' | 'advertise' | 'cpuOvercommit' | 'networks' | 'bandwidth'>): Promise<HostRegistration> {
  const [dockerVersion, images, disk] = await Promise.all([d.engine.version(), d.engine.imageTags(), diskBytes(d.dataDir)]);
  return {
    ...d.host,
    capacity: { cpu: cpus().length * d.cpuOvercommit, memory: totalmem(), disk: disk.total, bandwidth: d.bandwidth },
    used: { cpu: Math.round(loadavg()[0] as number * 100) / 100, memory: totalmem() - freemem(), disk: disk.used },
    agentUrl: d.advertise,
    agentVersion: WHARF_VERSION,
    dockerVersion,
    images,
    networks: d.networks,
  };
}

export async function registerLoop(d: RegisterDeps): Promise<void> {
  const backoff = new Backoff(200, 5_000);
  const failures = new FailureLog(d.log, 'registration');
  let registered = false;
  while (!d.signal.aborted) {
    try {
      const reg = await hostRegistration(d);
      await d.client.registerHost(reg);
      failures.ok();
      backoff.reset();
      if (!registered) {
        registered = true;
        d.log.info({ host: reg.name, agentUrl: d.advertise, capacity: reg.capacity, docker: reg.dockerVersion }, 'registered');
        d.onRegistered();
      }
      await sleep(d.intervalMs, d.signal);
    } catch (err) {
      if (d.signal.aborted) return;
      failures.fail(err);
      await sleep(backoff.next(), d.signal);
    }
  }
}
