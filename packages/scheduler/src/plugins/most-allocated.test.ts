import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mostAllocated } from './most-allocated.js';
import { GiB, host, request, scores } from '../testing.js';

test('MostAllocated', () => {
  const cases = [
    { name: 'empty host', h: host({ name: 'a' }), req: request(1, 2), want: 25 },
    { name: 'busy host', h: host({ name: 'a', allocated: { cpu: 2, memory: 4 * GiB, disk: 0 } }), req: request(1, 2), want: 75 },
    { name: 'exactly full after', h: host({ name: 'a' }), req: request(4, 8), want: 100 },
    { name: 'bigger host, same sets: less full', h: host({ name: 'a', capacity: { cpu: 8, memory: 16 * GiB, disk: 0 } }), req: request(1, 2), want: 12.5 },
    { name: 'no capacity counts as full (FitsResources rejects such a host anyway)', h: host({ name: 'a', capacity: { cpu: 0, memory: 0, disk: 0 } }), req: request(1, 1), want: 100 },
  ];
  for (const c of cases) assert.deepEqual(scores(mostAllocated, [c.h], c.req), [c.want], c.name);
});
