export * from './framework.js';
export * from './schedule.js';
export { hostReady } from './plugins/host-ready.js';
export { fitsResources, free } from './plugins/fits-resources.js';
export { leastAllocated } from './plugins/least-allocated.js';
