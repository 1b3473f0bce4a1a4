import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterView, PlacementRequest } from './framework.js';
import { diagnose, profileFor, schedule, binpackProfile, spreadProfile } from './schedule.js';
import { assume } from './snapshot.js';
import { GiB, host, placed, request } from './testing.js';

/** Places `n` copies of `req` one after another, like one pass of the placement controller. */
function fill(view: ClusterView, req: PlacementRequest, n: number): { view: ClusterView; hosts: string[]; failures: string[] } {
  const hosts: string[] = [];
  const failures: string[] = [];
  for (let k = 0; k < n; k++) {
    const r = schedule(view, req);
    if (r.kind === 'unschedulable') {
      failures.push(r.message);
      continue;
    }
    hosts.push(r.host);
    view = assume(view, r.host, req);
  }
  return { view, hosts, failures };
}

const tally = (names: string[]) => names.reduce<Record<string, number>>((t, h) => ({ ...t, [h]: (t[h] ?? 0) + 1 }), {});
const big = { cpu: 16, memory: 64 * GiB, disk: 1000 * GiB };

test('places on the emptiest fitting host', () => {
  const view = {
    hosts: [host({ name: 'busy', allocated: { cpu: 3, memory: 6 * GiB, disk: 0 } }), host({ name: 'idle' }), host({ name: 'down', ready: false })],
  };
  const r = schedule(view, request(1, 1));
  assert.equal(r.kind === 'placed' && r.host, 'idle');
  // SpreadSoft 100 × 2 and LeastAllocated 81.25 × 1 over their weights (ImageLocality: no images, does not apply).
  assert.equal(r.kind === 'placed' && r.score, (200 + 81.25) / 3);
});

test('ties go to the first name, whatever the order of the view', () => {
  const r = schedule({ hosts: [host({ name: 'b' }), host({ name: 'a' })] }, request(1, 1));
  assert.equal(r.kind === 'placed' && r.host, 'a');
});

test('profileFor picks the scorers by strategy', () => {
  assert.equal(profileFor(), spreadProfile);
  assert.equal(profileFor({ strategy: 'spread' }), spreadProfile);
  assert.equal(profileFor({ strategy: 'binpack' }), binpackProfile);
});

test('spread: 12 sets of one app on 3 equal empty hosts land 4/4/4', () => {
  const view = { hosts: ['a', 'b', 'c'].map((name) => host({ name, capacity: big })) };
  const { hosts, failures } = fill(view, request(1, 2), 12);
  assert.deepEqual(failures, []);
  assert.deepEqual(tally(hosts), { a: 4, b: 4, c: 4 });
  assert.deepEqual(hosts.slice(0, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
});

test('binpack fills the first host before the next', () => {
  const view = { hosts: ['a', 'b', 'c'].map((name) => host({ name, capacity: { cpu: 8, memory: 32 * GiB, disk: 1000 * GiB } })) };
  const { hosts, failures } = fill(view, placed({ strategy: 'binpack' }, { resources: { cpu: 2, memory: 4 * GiB, disk: GiB } }), 10);
  assert.deepEqual(failures, []);
  assert.deepEqual(hosts, ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'c', 'c']);
});

test('binpack prefers the fuller host; a soft spread in the spec still spreads', () => {
  const hosts = [host({ name: 'a' }), host({ name: 'b', allocated: { cpu: 2, memory: 4 * GiB, disk: 0 }, apps: { app: 1 } })];
  assert.equal((schedule({ hosts }, placed({ strategy: 'binpack' })) as { host: string }).host, 'b');
  assert.equal((schedule({ hosts }, placed({ strategy: 'binpack', spread: { by: 'host' } })) as { host: string }).host, 'a');
});

test('the zone selector is obeyed', () => {
  const view = { hosts: [host({ name: 'a', zone: 'z1' }), host({ name: 'b', zone: 'z2' }), host({ name: 'c', zone: 'z3' })] };
  const { hosts } = fill(view, placed({ zones: ['z2', 'z3'] }), 6);
  assert.deepEqual(tally(hosts), { b: 3, c: 3 });
});

test('hard spread: unschedulable with a clear reason when the only open zone would exceed maxSkew', () => {
  const view = {
    hosts: [
      host({ name: 'a1', zone: 'z1', capacity: big }),
      host({ name: 'b1', zone: 'z2', allocated: { cpu: 4, memory: 8 * GiB, disk: 0 } }), // full
    ],
  };
  const req = placed({ spread: { by: 'zone', mode: 'hard' } });
  const { hosts, failures } = fill(view, req, 2);
  assert.deepEqual(hosts, ['a1']);
  assert.deepEqual(failures, [
    '0/2 hosts fit: 1 host: insufficient cpu: requested 1 cores, free 0 cores; insufficient memory: requested 1Gi, free 0; ' +
      '1 host: zone z1 would have 2 sets of app; the emptiest allowed zone, z2, has 0 sets of app (maxSkew 1)',
  ]);
});

test('sameZoneAs: only where the other app runs', () => {
  const view = {
    hosts: [host({ name: 'a', zone: 'z1' }), host({ name: 'b', zone: 'z2', apps: { db: 1 } }), host({ name: 'c', zone: 'z2' })],
  };
  const { hosts } = fill(view, placed({ sameZoneAs: ['db'] }, { appkey: 'web' }), 4);
  assert.deepEqual(tally(hosts), { b: 2, c: 2 });
  const r = schedule(view, placed({ sameZoneAs: ['cache'] }));
  assert.equal(r.kind === 'unschedulable' && r.message, '0/3 hosts fit: 3 hosts: zone runs no set of cache (placement.sameZoneAs)');
});

test('too big for every host: reasons counted per kind', () => {
  const view = {
    hosts: [
      host({ name: 'a', capacity: { cpu: 64, memory: 8 * GiB, disk: 100 * GiB } }),
      host({ name: 'b', capacity: { cpu: 64, memory: 8 * GiB, disk: 100 * GiB }, allocated: { cpu: 0, memory: 2 * GiB, disk: 0 } }),
      host({ name: 'c', capacity: { cpu: 64, memory: 4 * GiB, disk: 100 * GiB } }),
      host({ name: 'd', cordoned: true }),
    ],
  };
  const r = schedule(view, request(1, 64));
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return;
  assert.equal(r.message, '0/4 hosts fit: 3 hosts: insufficient memory (requested 64Gi, at most 8Gi free); 1 host: host is cordoned');
  assert.deepEqual(r.reasons, [
    { host: 'a', plugin: 'FitsResources', kind: 'insufficient memory', reason: 'insufficient memory: requested 64Gi, free 8Gi' },
    { host: 'b', plugin: 'FitsResources', kind: 'insufficient memory', reason: 'insufficient memory: requested 64Gi, free 6Gi' },
    { host: 'c', plugin: 'FitsResources', kind: 'insufficient memory', reason: 'insufficient memory: requested 64Gi, free 4Gi' },
    { host: 'd', plugin: 'HostReady', kind: 'host is cordoned', reason: 'host is cordoned' },
  ]);
  const both = schedule(view, request(100, 64));
  assert.match((both as { message: string }).message, /^0\/4 hosts fit: 3 hosts: insufficient cpu \(requested 100 cores, at most 64 cores free\) and memory \(requested 64Gi, at most 8Gi free\); 1 host: host is cordoned$/);
});

test('no hosts', () => {
  assert.deepEqual(schedule({ hosts: [] }, request(1, 1)), { kind: 'unschedulable', reasons: [], message: 'no hosts are registered' });
});

test('image locality breaks ties, not real differences', () => {
  const equal = [host({ name: 'a' }), host({ name: 'b', images: ['web:1'] })];
  assert.equal((schedule({ hosts: equal }, request(1, 1, 1, { images: ['web:1'] })) as { host: string }).host, 'b');
  // A quarter core less used on a 64-core host outweighs holding the image.
  const unequal = [
    host({ name: 'a', capacity: big }),
    host({ name: 'b', capacity: big, images: ['web:1'], allocated: { cpu: 0.25, memory: 0, disk: 0 } }),
  ];
  assert.equal((schedule({ hosts: unequal }, request(1, 1, 1, { images: ['web:1'] })) as { host: string }).host, 'a');
});

test('deterministic: the same input gives the same placements', () => {
  const make = (order: number[]) => ({
    hosts: order.map((k) => host({ name: `h${k}`, zone: `z${k % 3}`, rack: `r${k % 2}`, capacity: big, images: k % 4 === 0 ? ['web'] : [] })),
  });
  const req = placed({ spread: { by: 'zone' } }, { images: ['web'] });
  const run = (order: number[]) => fill(make(order), req, 40).hosts;
  const first = run([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(run([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), first);
  assert.deepEqual(run([9, 3, 7, 1, 5, 0, 8, 2, 6, 4]), first);
  assert.deepEqual(schedule(make([1, 2, 3]), request(100, 1)), schedule(make([3, 2, 1]), request(100, 1)));
});

test('diagnose shows every host: the filter that rejected it, or its scores', () => {
  const view = { hosts: [host({ name: 'a', cordoned: true }), host({ name: 'b', apps: { app: 1 } }), host({ name: 'c' })] };
  assert.deepEqual(diagnose(view, request(1, 2)), [
    { host: 'a', fits: false, plugin: 'HostReady', kind: 'host is cordoned', reason: 'host is cordoned' },
    { host: 'b', fits: true, scores: { SpreadSoft: 0, LeastAllocated: 75 }, score: 75 / 3 },
    { host: 'c', fits: true, scores: { SpreadSoft: 100, LeastAllocated: 75 }, score: 275 / 3 },
  ]);
});
