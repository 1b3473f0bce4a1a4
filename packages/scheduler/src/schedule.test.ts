import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from './schedule.js';
import { host, request } from './testing.js';

const GiB = 1024 ** 3;

test('places on the least allocated fitting host', () => {
  const view = {
    hosts: [
      host({ name: 'busy', allocated: { cpu: 3, memory: 6 * GiB, disk: 0 } }),
      host({ name: 'idle' }),
      host({ name: 'down', ready: false }),
    ],
  };
  assert.deepEqual(schedule(view, request(1, 1)), { kind: 'placed', host: 'idle', score: 81.25 });
});

test('ties go to the first name', () => {
  const r = schedule({ hosts: [host({ name: 'b' }), host({ name: 'a' })] }, request(1, 1));
  assert.equal(r.kind === 'placed' && r.host, 'a');
});

test('unschedulable is a result with reasons per host', () => {
  const r = schedule({ hosts: [host({ name: 'a', cordoned: true }), host({ name: 'b' })] }, request(8, 1));
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return;
  assert.deepEqual(r.reasons, [
    { host: 'a', plugin: 'HostReady', reason: 'host is cordoned' },
    { host: 'b', plugin: 'FitsResources', reason: 'insufficient cpu: requested 8 cores, free 4 cores' },
  ]);
  assert.match(r.message, /^0\/2 hosts fit: 1× host is cordoned; 1× insufficient cpu/);
});

test('no hosts', () => {
  const r = schedule({ hosts: [] }, request(1, 1));
  assert.deepEqual(r, { kind: 'unschedulable', reasons: [], message: 'no hosts are registered' });
});
