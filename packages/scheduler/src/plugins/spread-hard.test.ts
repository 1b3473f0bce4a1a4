import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitsResources } from './fits-resources.js';
import { spreadHard } from './spread-hard.js';
import { zoneSelector } from './zone-selector.js';
import { filterReasons, GiB, host, placed, request } from '../testing.js';

const full = { cpu: 4, memory: 8 * GiB, disk: 0 };

test('SpreadHard', () => {
  const zones = [
    host({ name: 'a', zone: 'z1', apps: { app: 2 } }),
    host({ name: 'b', zone: 'z2', apps: { app: 1, other: 5 } }),
    host({ name: 'c', zone: 'z3', rack: 'r1', apps: { app: 1 } }),
    host({ name: 'd', zone: 'z3', rack: 'r2' }),
  ];
  const overZ1 = 'zone z1 would have 3 sets of app; the emptiest allowed zone, z2, has 1 sets of app (maxSkew 1)';
  const cases = [
    { name: 'no spread', hosts: zones, req: request(1, 1), want: [undefined, undefined, undefined, undefined] },
    { name: 'soft spread is not a filter', hosts: zones, req: placed({ spread: { by: 'zone' } }), want: [undefined, undefined, undefined, undefined] },
    { name: 'by zone, maxSkew 1', hosts: zones, req: placed({ spread: { by: 'zone', mode: 'hard' } }), want: [overZ1, undefined, undefined, undefined] },
    { name: 'by zone, maxSkew 2', hosts: zones, req: placed({ spread: { by: 'zone', mode: 'hard', maxSkew: 2 } }), want: [undefined, undefined, undefined, undefined] },
    {
      name: 'by host: only the emptiest may take it',
      hosts: zones,
      req: placed({ spread: { by: 'host', mode: 'hard' } }),
      want: [
        'host a would have 3 sets of app; the emptiest allowed host, d, has 0 sets of app (maxSkew 1)',
        'host b would have 2 sets of app; the emptiest allowed host, d, has 0 sets of app (maxSkew 1)',
        'host c would have 2 sets of app; the emptiest allowed host, d, has 0 sets of app (maxSkew 1)',
        undefined,
      ],
    },
    {
      name: 'by rack: racks are named within their zone',
      hosts: zones,
      req: placed({ spread: { by: 'rack', mode: 'hard' } }),
      want: [
        'rack z1/r1 would have 3 sets of app; the emptiest allowed rack, z3/r2, has 0 sets of app (maxSkew 1)',
        'rack z2/r1 would have 2 sets of app; the emptiest allowed rack, z3/r2, has 0 sets of app (maxSkew 1)',
        'rack z3/r1 would have 2 sets of app; the emptiest allowed rack, z3/r2, has 0 sets of app (maxSkew 1)',
        undefined,
      ],
    },
    {
      name: 'zones not selected do not count',
      hosts: zones,
      req: placed({ zones: ['z1'], spread: { by: 'zone', mode: 'hard' } }),
      want: [undefined, 'zone z2 is not in placement.zones (z1)', 'zone z3 is not in placement.zones (z1)', 'zone z3 is not in placement.zones (z1)'],
    },
    {
      name: 'a full zone still counts',
      hosts: [host({ name: 'a', zone: 'z1', apps: { app: 1 } }), host({ name: 'b', zone: 'z2', allocated: full })],
      req: placed({ spread: { by: 'zone', mode: 'hard' } }),
      want: [
        'zone z1 would have 2 sets of app; the emptiest allowed zone, z2, has 0 sets of app (maxSkew 1)',
        'insufficient cpu: requested 1 cores, free 0 cores; insufficient memory: requested 1Gi, free 0',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([zoneSelector, fitsResources, spreadHard], c.hosts, c.req), c.want, c.name);
});
