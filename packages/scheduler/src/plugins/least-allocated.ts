import type { ScorePlugin } from '../framework.js';
import { free } from './fits-resources.js';

/** Spreads sets: prefers the host with the largest share of CPU and memory left after placing. */
export const leastAllocated: ScorePlugin = {
  name: 'LeastAllocated',
  weight: 1,
  score(host, req) {
    const left = (['cpu', 'memory'] as const).map((r) => {
      const cap = host.capacity[r];
      return cap > 0 ? (free(host.capacity, host.allocated, r) - req.resources[r]) / cap : 0;
    });
    return Math.max(0, Math.min(100, (100 * left.reduce((a, b) => a + b, 0)) / left.length));
  },
};
