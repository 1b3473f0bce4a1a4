import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitsResources } from './fits-resources.js';
import { filterReasons, GiB, host, request } from '../testing.js';

test('FitsResources', () => {
  const cases = [
    { name: 'empty host fits', h: host({ name: 'a' }), req: request(4, 8, 100), want: undefined },
    { name: 'too much cpu', h: host({ name: 'a' }), req: request(5, 1), want: 'insufficient cpu: requested 5 cores, free 4 cores' },
    {
      name: 'allocation counts',
      h: host({ name: 'a', allocated: { cpu: 3.5, memory: 7 * GiB, disk: 0 } }),
      req: request(1, 2),
      want: 'insufficient cpu: requested 1 cores, free 0.5 cores; insufficient memory: requested 2Gi, free 1Gi',
    },
    { name: 'disk', h: host({ name: 'a' }), req: request(1, 1, 200), want: 'insufficient disk: requested 200Gi, free 100Gi' },
    {
      name: 'fractional cores add up without rounding trouble',
      h: host({ name: 'a', capacity: { cpu: 0.6, memory: 8 * GiB, disk: 100 * GiB }, allocated: { cpu: 0.1 + 0.2, memory: 0, disk: 0 } }),
      req: request(0.3, 1),
      want: undefined,
    },
    {
      name: 'overcommitted host shows nothing free',
      h: host({ name: 'a', allocated: { cpu: 6, memory: 0, disk: 0 } }),
      req: request(1, 1),
      want: 'insufficient cpu: requested 1 cores, free 0 cores',
    },
    {
      name: 'bandwidth counts against the uplink',
      h: host({ name: 'a', capacity: { cpu: 4, memory: 8 * GiB, disk: 100 * GiB, bandwidth: 1000 }, allocated: { cpu: 0, memory: 0, disk: 0, bandwidth: 800 } }),
      req: request(1, 1, 1, { resources: { cpu: 1, memory: GiB, disk: GiB, bandwidth: 300 } }),
      want: 'insufficient bandwidth: requested 300 Mbit/s, free 200 Mbit/s',
    },
    {
      name: 'a host without a stated uplink capacity is not limited',
      h: host({ name: 'a' }),
      req: request(1, 1, 1, { resources: { cpu: 1, memory: GiB, disk: GiB, bandwidth: 5000 } }),
      want: undefined,
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([fitsResources], [c.h], c.req), [c.want], c.name);
});
