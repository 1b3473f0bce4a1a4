import type { FilterPlugin } from '../framework.js';

/** `placement.zones`: only hosts in one of these zones. */
export const zoneSelector: FilterPlugin = {
  name: 'ZoneSelector',
  stage: 'select',
  prepare({ topology: t, placement }) {
    const zones = placement.zones;
    if (!zones) return undefined;
    const zoneOf = t.domainOf('zone');
    const allowed = new Uint8Array(t.domainCount('zone'));
    for (let z = 0; z < allowed.length; z++) if (zones.includes(t.domainName('zone', z))) allowed[z] = 1;
    const kind = `zone not in placement.zones (${zones.join(', ')})`;
    return {
      pass: (i) => allowed[zoneOf[i] as number] === 1,
      explain: (i) => ({ kind, reason: `zone ${t.host(i).zone} is not in placement.zones (${zones.join(', ')})` }),
    };
  },
};
