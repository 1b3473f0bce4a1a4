import type { FilterPlugin } from '../framework.js';

/**
 * `placement.spread` with mode 'hard' (Kubernetes PodTopologySpread, DoNotSchedule):
 * placing here must not leave this host's domain more than `maxSkew` (default 1)
 * sets of the appkey above the emptiest domain. Only domains with a *selected* host
 * count (one passing zones, hostSelector and sameZoneAs); a domain that is full or
 * down still counts — that is what makes the spread hard.
 */
export const spreadHard: FilterPlugin = {
  name: 'SpreadHard',
  stage: 'topology',
  prepare({ topology: t, placement, req, selected }) {
    const spread = placement.spread;
    if (!spread || spread.mode !== 'hard') return undefined;
    const { by } = spread;
    const maxSkew = spread.maxSkew ?? 1;
    const dom = t.domainOf(by);
    const counts = t.counts(req.appkey, by);
    let min = Infinity;
    let minDomain = -1;
    for (let i = 0; i < t.size; i++) {
      if (selected[i] !== 1) continue;
      const c = counts[dom[i] as number] as number;
      if (c < min) {
        min = c;
        minDomain = dom[i] as number;
      }
    }
    if (minDomain < 0) return undefined; // nothing selected: the select filters have already said why
    const limit = min + maxSkew;
    const kind = `hard spread by ${by} would exceed maxSkew ${maxSkew}`;
    const emptiest = `the emptiest allowed ${by}, ${t.domainName(by, minDomain)}, has ${min} sets of ${req.appkey}`;
    return {
      pass: (i) => (counts[dom[i] as number] as number) < limit,
      explain: (i) => {
        const d = dom[i] as number;
        return { kind, reason: `${by} ${t.domainName(by, d)} would have ${(counts[d] as number) + 1} sets of ${req.appkey}; ${emptiest} (maxSkew ${maxSkew})` };
      },
      group: () => `${kind} (${emptiest})`,
    };
  },
};
