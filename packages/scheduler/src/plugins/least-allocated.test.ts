import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastAllocated } from './least-allocated.js';
import { host, request } from '../testing.js';

const GiB = 1024 ** 3;

test('LeastAllocated prefers emptier hosts', () => {
  const empty = leastAllocated.score(host({ name: 'a' }), request(1, 2));
  const busy = leastAllocated.score(host({ name: 'b', allocated: { cpu: 2, memory: 4 * GiB, disk: 0 } }), request(1, 2));
  assert.equal(empty, 75);
  assert.equal(busy, 25);
  assert.equal(leastAllocated.score(host({ name: 'c', capacity: { cpu: 0, memory: 0, disk: 0 } }), request(1, 1)), 0);
});
