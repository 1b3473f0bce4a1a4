import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameZoneAs } from './same-zone-as.js';
import { filterReasons, host, placed, request } from '../testing.js';

test('SameZoneAs', () => {
  const hosts = [
    host({ name: 'a1', zone: 'a', apps: { db: 1 } }),
    host({ name: 'a2', zone: 'a', apps: { cache: 2 } }), // same zone as a db: that is what counts
    host({ name: 'b1', zone: 'b', apps: { cache: 1 } }),
    host({ name: 'c1', zone: 'c', apps: { db: 0 } }),
  ];
  const cases = [
    { name: 'no affinity', req: request(1, 1), want: [undefined, undefined, undefined, undefined] },
    {
      name: 'zones running db',
      req: placed({ sameZoneAs: ['db'] }),
      want: [undefined, undefined, 'zone b runs no set of db (placement.sameZoneAs)', 'zone c runs no set of db (placement.sameZoneAs)'],
    },
    {
      name: 'both db and cache',
      req: placed({ sameZoneAs: ['db', 'cache'] }),
      want: [undefined, undefined, 'zone b runs no set of db (placement.sameZoneAs)', 'zone c runs no set of db (placement.sameZoneAs)'],
    },
    {
      name: 'an appkey nowhere',
      req: placed({ sameZoneAs: ['ghost'] }),
      want: ['a', 'a', 'b', 'c'].map((z) => `zone ${z} runs no set of ghost (placement.sameZoneAs)`),
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([sameZoneAs], hosts, c.req), c.want, c.name);
});
