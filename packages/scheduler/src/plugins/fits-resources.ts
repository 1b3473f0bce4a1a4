import { formatBytes, type HostCapacity } from '@wharf/types';
import type { FilterPlugin, Resource, Topology } from '../framework.js';

const RESOURCES: readonly Resource[] = ['cpu', 'memory', 'disk'];
/** Fractional cores add up with rounding error (0.1 + 0.2 > 0.3); bytes are integers. */
const CPU_EPSILON = 1e-9;

export const show: Record<Resource, (v: number) => string> = {
  cpu: (v) => `${Math.round(v * 100) / 100} cores`,
  memory: formatBytes,
  disk: formatBytes,
};

/** Free amount of one resource on a host (never negative). */
export function free(capacity: HostCapacity, allocated: HostCapacity, r: Resource): number {
  return Math.max(0, capacity[r] - allocated[r]);
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
    const [freeCpu, freeMemory, freeDisk] = [t.free.cpu, t.free.memory, t.free.disk];
    const short = (i: number) => RESOURCES.filter((r) => req.resources[r] > freeOn(t, i, r) + (r === 'cpu' ? CPU_EPSILON : 0));
    return {
      pass: (i) => cpu <= (freeCpu[i] as number) + CPU_EPSILON && memory <= (freeMemory[i] as number) && disk <= (freeDisk[i] as number),
      explain: (i) => {
        const rs = short(i);
        return {
          kind: `insufficient ${rs.join(' and ')}`,
          reason: rs.map((r) => `insufficient ${r}: requested ${show[r](req.resources[r])}, free ${show[r](freeOn(t, i, r))}`).join('; '),
        };
      },
      // "insufficient memory (requested 64Gi, at most 8Gi free)": one line however many hosts.
      group: (_kind, hosts) => {
        const rs = short(hosts[0] ?? 0);
        const most = (r: Resource) => hosts.reduce((m, i) => Math.max(m, freeOn(t, i, r)), 0);
        return `insufficient ${rs.map((r) => `${r} (requested ${show[r](req.resources[r])}, at most ${show[r](most(r))} free)`).join(' and ')}`;
      },
    };
  },
};
