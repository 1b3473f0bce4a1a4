/** Fixtures and harnesses for the scheduler's own tests. */
import type { PlacementSpec } from '@wharf/types';
import type { FilterPlugin, HostView, PlacementRequest, ScorePlugin } from './framework.js';
import { diagnose } from './schedule.js';

export const GiB = 1024 ** 3;

/** A ready, empty 4-core 8Gi host with a 100Gi pool in zone z1, rack r1; override what matters. */
export function host(over: Partial<HostView> & { name: string }): HostView {
  return {
    ready: true,
    cordoned: false,
    zone: 'z1',
    rack: 'r1',
    labels: {},
    images: [],
    capacity: { cpu: 4, memory: 8 * GiB, disk: 100 * GiB },
    allocated: { cpu: 0, memory: 0, disk: 0 },
    apps: {},
    ...over,
  };
}

/** A set of appkey "app" (override with `over`). */
export function request(cpu: number, memoryGi: number, diskGi = 1, over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { set: 'default/app/1', appkey: 'app', images: [], resources: { cpu, memory: memoryGi * GiB, disk: diskGi * GiB }, ...over };
}

export function placed(placement: PlacementSpec, over: Partial<PlacementRequest> = {}): PlacementRequest {
  return request(1, 1, 1, { placement, ...over });
}

/** Runs the filters alone (framework stages included) and returns each host's reason, or undefined when it passes, in `hosts` order. */
export function filterReasons(filters: FilterPlugin[], hosts: HostView[], req: PlacementRequest): (string | undefined)[] {
  const byName = new Map(diagnose({ hosts }, req, { filters, scorers: [] }).map((v) => [v.host, v]));
  return hosts.map((h) => byName.get(h.name)?.reason);
}

/** One scorer's 0..100 score per host, in `hosts` order (undefined: filtered out, or the scorer does not apply). */
export function scores(scorer: ScorePlugin, hosts: HostView[], req: PlacementRequest, filters: FilterPlugin[] = []): (number | undefined)[] {
  const byName = new Map(diagnose({ hosts }, req, { filters, scorers: [scorer] }).map((v) => [v.host, v]));
  return hosts.map((h) => byName.get(h.name)?.scores?.[scorer.name]);
}
