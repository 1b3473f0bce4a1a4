import type { Domain, ScorePlugin } from '../framework.js';

/**
 * Fewer sets of the same appkey in the host's domain scores higher, normalized over
 * the feasible hosts like Kubernetes' PodTopologySpread score: 100 × (max + min − n) / max,
 * so the emptiest domain gets 100 and the fullest min/max of that.
 * The domain is `placement.spread.by` for a soft spread; otherwise `implicit`
 * (the spread profile spreads every app across hosts; binpack has no implicit spread).
 */
export function spreadSoft(implicit: Domain | undefined, weight = 2): ScorePlugin {
  return {
    name: 'SpreadSoft',
    weight,
    prepare({ topology: t, placement, req, feasible, feasibleCount }) {
      const spread = placement.spread;
      const by = spread && spread.mode !== 'hard' ? spread.by : implicit;
      if (!by) return undefined;
      const dom = t.domainOf(by);
      const counts = t.counts(req.appkey, by);
      let lo = Infinity;
      let hi = 0;
      for (let j = 0; j < feasibleCount; j++) {
        const c = counts[dom[feasible[j] as number] as number] as number;
        if (c < lo) lo = c;
        if (c > hi) hi = c;
      }
      if (hi === lo) return () => 100;
      return (i) => (100 * (hi + lo - (counts[dom[i] as number] as number))) / hi;
    },
  };
}
