import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from './schedule.js';
import { assume, normalizeImage, snapshot, StaleViewError, UnknownHostError } from './snapshot.js';
import { GiB, host, request } from './testing.js';

test('assume accounts resources and app counts, and never changes a plain view', () => {
  const plain = { hosts: [host({ name: 'a', apps: { app: 1, db: 2 } }), host({ name: 'b' })] };
  const next = assume(plain, 'b', request(1, 2));
  const after = assume(next, 'b', request(1, 2, 1, { appkey: 'db' }));
  const b = after.hosts.find((h) => h.name === 'b');
  assert.deepEqual(b?.allocated, { cpu: 2, memory: 4 * GiB, disk: 2 * GiB });
  assert.deepEqual(b?.apps, { app: 1, db: 1 });
  assert.deepEqual(plain.hosts[1]?.allocated, { cpu: 0, memory: 0, disk: 0 });
  assert.deepEqual(plain.hosts[1]?.apps, {});
  // The plain view still schedules as it was.
  assert.equal((schedule(plain, request(1, 1)) as { host: string }).host, 'b');
});

test('a plain view indexed by schedule stays as it was after assume takes the index over', () => {
  const plain = { hosts: [host({ name: 'a' }), host({ name: 'b', capacity: { cpu: 2, memory: 8 * GiB, disk: 100 * GiB } })] };
  assert.equal((schedule(plain, request(1, 1)) as { host: string }).host, 'a');
  const next = assume(plain, 'a', request(3, 1));
  assert.equal((schedule(next, request(2, 1)) as { host: string }).host, 'b');
  assert.equal((schedule(plain, request(2, 1)) as { host: string }).host, 'a');
});

test('a view assume has moved on from is stale', () => {
  const v1 = snapshot({ hosts: [host({ name: 'a' })] });
  const v2 = assume(v1, 'a', request(1, 1));
  assert.throws(() => schedule(v1, request(1, 1)), StaleViewError);
  assert.throws(() => v1.hosts, StaleViewError);
  assert.throws(() => assume(v1, 'a', request(1, 1)), StaleViewError);
  assert.throws(() => snapshot(v1), StaleViewError);
  assert.equal(v2.hosts[0]?.allocated.cpu, 1);
});

test('unknown hosts and duplicate names are programming errors', () => {
  assert.throws(() => assume({ hosts: [host({ name: 'a' })] }, 'zz', request(1, 1)), UnknownHostError);
  assert.throws(() => schedule({ hosts: [host({ name: 'a' }), host({ name: 'a' })] }, request(1, 1)), /two hosts named "a"/);
});

test('normalizeImage', () => {
  const cases = [
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['reg.local:5000/team/web', 'reg.local:5000/team/web:latest'],
    ['reg.local:5000/team/web:2', 'reg.local:5000/team/web:2'],
    ['web@sha256:abc', 'web@sha256:abc'],
  ];
  for (const [ref, want] of cases) assert.equal(normalizeImage(ref as string), want);
});
