import { formatBytes, type HostCapacity } from '@wharf/types';
import type { FilterPlugin, Resource, Topology } from '../framework.js';
import { amount } from '../snapshot.js';

const RESOURCES: readonly Resource[] = ['cpu', 'memory', 'disk', 'bandwidth'];
/** Fractional cores add up with rounding error (0.1 + 0.2 > 0.3); bytes are integers. */
const CPU_EPSILON = 1e-9;

export const show: Record<Resource, (v: number) => string> = {
  cpu: (v) => `${Math.round(v * 100) / 100} cores`,
  memory: formatBytes,
  disk: formatBytes,
  bandwidth: (v) => `${Math.round(v * 10) / 10} Mbit/s`,
};

/** Free amount of one resource on a host (never negative). */
export function free(capacity: HostCapacity, allocated: HostCapacity, r: Resource): number {
  return Math.max(0, amount(capacity, r, Infinity) - amount(allocated, r, 0));
}

function freeOn(t: Topology, i: number, r: Resource): number {
  return Math.max(0, t.free[r][i] ?? 0);
}

/** A host fits when every requested resource is at most what is left unreserved. */
export const fitsResources: FilterPlugin = {
  name: 'FitsResources',
  stage: 'check',
  prepare({ topology: t, req }) {
    const { cpu, memory, disk } = req.resources;
    const bandwidth = req.resources.bandwidth ?? 0;
    const [freeCpu, freeMemory, freeDisk, freeBandwidth] = [t.free.cpu, t.free.memory, t.free.disk, t.free.bandwidth];
    const asked = (r: Resource) => amount(req.resources, r, 0);
    const short = (i: number) => RESOURCES.filter((r) => asked(r) > freeOn(t, i, r) + (r === 'cpu' ? CPU_EPSILON : 0));
    return {
      pass: (i) =>
        cpu <= (freeCpu[i] as number) + CPU_EPSILON && memory <= (freeMemory[i] as number) && disk <= (freeDisk[i] as number) &&
        (bandwidth === 0 || bandwidth <= (freeBandwidth[i] as number)),
      explain: (i) => {
        const rs = short(i);
        return {
          kind: `insufficient ${rs.join(' and ')}`,
          reason: rs.map((r) => `insufficient ${r}: requested ${show[r](asked(r))}, free ${show[r](freeOn(t, i, r))}`).join('; '),
        };
      },
      // "insufficient memory (requested 64Gi, at most 8Gi free)": one line however many hosts.
      group: (_kind, hosts) => {
        const rs = short(hosts[0] ?? 0);
        const most = (r: Resource) => hosts.reduce((m, i) => Math.max(m, freeOn(t, i, r)), 0);
        return `insufficient ${rs.map((r) => `${r} (requested ${show[r](asked(r))}, at most ${show[r](most(r))} free)`).join(' and ')}`;
      },
    };
  },
};
