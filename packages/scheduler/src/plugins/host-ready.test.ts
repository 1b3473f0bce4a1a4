import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostReady } from './host-ready.js';
import { host, request } from '../testing.js';

test('HostReady', () => {
  const cases = [
    { h: host({ name: 'a' }), want: undefined },
    { h: host({ name: 'a', ready: false }), want: 'host is not ready (no recent heartbeat)' },
    { h: host({ name: 'a', cordoned: true }), want: 'host is cordoned' },
  ];
  for (const c of cases) assert.equal(hostReady.filter(c.h, request(1, 1)), c.want);
});
