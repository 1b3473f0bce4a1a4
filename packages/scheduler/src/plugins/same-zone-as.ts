import type { FilterPlugin } from '../framework.js';

/** `placement.sameZoneAs`: the host's zone must already run at least one set of each of these appkeys. */
export const sameZoneAs: FilterPlugin = {
  name: 'SameZoneAs',
  stage: 'select',
  prepare({ topology: t, placement }) {
    const appkeys = placement.sameZoneAs;
    if (!appkeys) return undefined;
    const zoneOf = t.domainOf('zone');
    const perZone = appkeys.map((a) => t.counts(a, 'zone'));
    const missing = (i: number) => perZone.findIndex((c) => (c[zoneOf[i] as number] as number) === 0);
    return {
      pass: (i) => missing(i) === -1,
      explain: (i) => {
        const app = appkeys[missing(i)] ?? '';
        return { kind: `zone runs no set of ${app} (placement.sameZoneAs)`, reason: `zone ${t.host(i).zone} runs no set of ${app} (placement.sameZoneAs)` };
      },
    };
  },
};
