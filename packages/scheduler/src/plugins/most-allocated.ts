import type { Cycle, ScorePlugin } from '../framework.js';

/**
 * Share of a host's CPU plus share of its memory that would be reserved after placing
 * the request, 0..2 (clamped): the one measure behind both strategies.
 */
export function usedAfter({ topology: t, req }: Cycle): (i: number) => number {
  const { cpu, memory } = req.resources;
  const [capC, capM, usedC, usedM] = [t.capacity.cpu, t.capacity.memory, t.allocated.cpu, t.allocated.memory];
  return (i) => {
    const cc = capC[i] as number;
    const cm = capM[i] as number;
    // A resource the host does not offer at all counts as fully used.
    const used = (cc > 0 ? ((usedC[i] as number) + cpu) / cc : 1) + (cm > 0 ? ((usedM[i] as number) + memory) / cm : 1);
    return Math.min(2, Math.max(0, used));
  };
}

/** Strategy binpack: prefers the host whose CPU and memory would be the most used after placing. */
export const mostAllocated: ScorePlugin = {
  name: 'MostAllocated',
  weight: 1,
  prepare(cycle) {
    const used = usedAfter(cycle);
    return (i) => 50 * used(i);
  },
};
