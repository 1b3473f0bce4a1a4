/** Test data for `wharf top`: a set's and a host's newest figures, overridable field by field. */
import type { HostTop } from '@wharf/client';
import type { SetTop } from '@wharf/types';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

export function topSet(over: Partial<SetTop> = {}): SetTop {
  return {
    tenant: 'default', appkey: 'com.x', id: '1', host: 'h1', time: '2025-01-01T12:00:00.000Z',
    set: { cpu: 0.4234, cpuLimit: 2, memory: 412 * Mi, memoryLimit: Gi, rxBytes: 1.2 * Mi, txBytes: 300 * 1024, readBytes: 0, writeBytes: 52_000, pids: 12 },
    containers: {},
    volumeUsed: 1.5 * Gi, volumeQuota: 10 * Gi,
    ...over,
  };
}

export function topHost(over: Partial<HostTop> = {}): HostTop {
  return {
    host: 'h1', time: '2025-01-01T12:00:00.000Z', cpu: 1.3, cpus: 8, memory: 6.2 * Gi, memoryTotal: 16 * Gi,
    load1: 0.52, load5: 0.4811, load15: 0.4, poolUsed: 12 * Gi, poolSize: 100 * Gi,
    uplinks: [{ name: 'eth0', rxBytes: 2 * Mi, txBytes: 512, rxPackets: 1, txPackets: 1 }], containers: 14,
    ...over,
  };
}
