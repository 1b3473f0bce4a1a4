import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoneSelector } from './zone-selector.js';
import { filterReasons, host, placed, request } from '../testing.js';

test('ZoneSelector', () => {
  const hosts = [host({ name: 'a', zone: 'z1' }), host({ name: 'b', zone: 'z2' }), host({ name: 'c', zone: 'z3' })];
  const cases = [
    { name: 'no zones: every host', req: request(1, 1), want: [undefined, undefined, undefined] },
    { name: 'one zone', req: placed({ zones: ['z2'] }), want: ['zone z1 is not in placement.zones (z2)', undefined, 'zone z3 is not in placement.zones (z2)'] },
    { name: 'two zones', req: placed({ zones: ['z1', 'z3'] }), want: [undefined, 'zone z2 is not in placement.zones (z1, z3)', undefined] },
    {
      name: 'a zone without hosts',
      req: placed({ zones: ['z9'] }),
      want: ['zone z1 is not in placement.zones (z9)', 'zone z2 is not in placement.zones (z9)', 'zone z3 is not in placement.zones (z9)'],
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([zoneSelector], hosts, c.req), c.want, c.name);
});
