import type { FilterPlugin } from '../framework.js';

/** A set with platform IPs runs only on hosts that attach sets to every one of its networks. */
export const networkReach: FilterPlugin = {
  name: 'NetworkReach',
  stage: 'select',
  prepare({ topology: t, req }) {
    const wanted = req.networks ?? [];
    if (wanted.length === 0) return undefined;
    const missing = (i: number) => wanted.filter((n) => !(t.host(i).networks ?? []).includes(n));
    return {
      pass: (i) => missing(i).length === 0,
      explain: (i) => {
        const m = missing(i);
        return { kind: `no uplink to network ${m.join(', ')}`, reason: `does not reach network ${m.join(', ')}` };
      },
    };
  },
};
