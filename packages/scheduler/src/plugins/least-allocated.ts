import type { ScorePlugin } from '../framework.js';
import { usedAfter } from './most-allocated.js';

/** Strategy spread: prefers the host with the largest share of CPU and memory left after placing. */
export const leastAllocated: ScorePlugin = {
  name: 'LeastAllocated',
  weight: 1,
  prepare(cycle) {
    const used = usedAfter(cycle);
    return (i) => 100 - 50 * used(i);
  },
};
