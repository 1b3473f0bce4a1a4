import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastAllocated } from './least-allocated.js';
import { GiB, host, request, scores } from '../testing.js';

test('LeastAllocated', () => {
  const cases = [
    { name: 'empty host', h: host({ name: 'a' }), req: request(1, 2), want: 75 },
    { name: 'busy host', h: host({ name: 'a', allocated: { cpu: 2, memory: 4 * GiB, disk: 0 } }), req: request(1, 2), want: 25 },
    { name: 'exactly full after', h: host({ name: 'a' }), req: request(4, 8), want: 0 },
    { name: 'cpu and memory weigh the same', h: host({ name: 'a' }), req: request(4, 0), want: 50 },
    { name: 'no capacity', h: host({ name: 'a', capacity: { cpu: 0, memory: 0, disk: 0 } }), req: request(1, 1), want: 0 },
  ];
  for (const c of cases) assert.deepEqual(scores(leastAllocated, [c.h], c.req), [c.want], c.name);
});
