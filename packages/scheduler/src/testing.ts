import type { HostView } from './framework.js';

const GiB = 1024 ** 3;

/** A ready, empty 4-core 8Gi host with a 100Gi pool, for tests; override what matters. */
export function host(over: Partial<HostView> & { name: string }): HostView {
  return {
    ready: true,
    cordoned: false,
    zone: 'z1',
    labels: {},
    capacity: { cpu: 4, memory: 8 * GiB, disk: 100 * GiB },
    allocated: { cpu: 0, memory: 0, disk: 0 },
    ...over,
  };
}

export function request(cpu: number, memoryGi: number, diskGi = 1) {
  return { set: 'default/app/1', resources: { cpu, memory: memoryGi * GiB, disk: diskGi * GiB } };
}
