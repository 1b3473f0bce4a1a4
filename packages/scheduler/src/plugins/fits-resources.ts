import { formatBytes, type HostCapacity } from '@wharf/types';
import type { FilterPlugin } from '../framework.js';

type Resource = keyof HostCapacity;

const show: Record<Resource, (v: number) => string> = {
  cpu: (v) => `${Math.round(v * 100) / 100} cores`,
  memory: formatBytes,
  disk: formatBytes,
};

/** Free amount of one resource on a host (never negative). */
export function free(capacity: HostCapacity, allocated: HostCapacity, r: Resource): number {
  return Math.max(0, capacity[r] - allocated[r]);
}

/** A host fits when every requested resource is at most what is left unreserved. */
export const fitsResources: FilterPlugin = {
  name: 'FitsResources',
  filter(host, req) {
    const short = (['cpu', 'memory', 'disk'] as const).filter((r) => req.resources[r] > free(host.capacity, host.allocated, r));
    if (short.length === 0) return undefined;
    return short
      .map((r) => `insufficient ${r}: requested ${show[r](req.resources[r])}, free ${show[r](free(host.capacity, host.allocated, r))}`)
      .join('; ');
  },
};
