import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostReady } from './host-ready.js';
import { filterReasons, host, request } from '../testing.js';

test('HostReady', () => {
  const cases = [
    { name: 'ready', h: host({ name: 'a' }), want: undefined },
    { name: 'silent', h: host({ name: 'a', ready: false }), want: 'host is not ready (no recent heartbeat)' },
    { name: 'cordoned', h: host({ name: 'a', cordoned: true }), want: 'host is cordoned' },
    { name: 'silent and cordoned', h: host({ name: 'a', ready: false, cordoned: true }), want: 'host is not ready (no recent heartbeat)' },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([hostReady], [c.h], request(1, 1)), [c.want], c.name);
});
