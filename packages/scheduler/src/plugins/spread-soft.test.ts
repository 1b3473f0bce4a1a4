import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostReady } from './host-ready.js';
import { spreadSoft } from './spread-soft.js';
import { host, placed, request, scores } from '../testing.js';

test('SpreadSoft', () => {
  const hosts = [
    host({ name: 'a', zone: 'z1', apps: { app: 4 } }),
    host({ name: 'b', zone: 'z1', apps: { app: 1, other: 9 } }),
    host({ name: 'c', zone: 'z2', apps: { app: 2 } }),
    host({ name: 'd', zone: 'z2' }),
  ];
  const byHost = spreadSoft('host');
  const none = spreadSoft(undefined);
  const cases = [
    // 100 × (max + min − n) / max, with max 4 and min 0 over the feasible hosts.
    { name: 'implicit: by host', scorer: byHost, req: request(1, 1), want: [0, 75, 50, 100] },
    { name: 'no implicit spread (binpack)', scorer: none, req: request(1, 1), want: [undefined, undefined, undefined, undefined] },
    { name: 'explicit soft by zone (z1: 5, z2: 2)', scorer: none, req: placed({ spread: { by: 'zone' } }), want: [40, 40, 100, 100] },
    { name: 'explicit soft by zone wins over implicit', scorer: byHost, req: placed({ spread: { by: 'zone', mode: 'soft' } }), want: [40, 40, 100, 100] },
    { name: 'hard spread falls back to implicit', scorer: byHost, req: placed({ spread: { by: 'zone', mode: 'hard' } }), want: [0, 75, 50, 100] },
    { name: 'an app with no sets: all equal', scorer: byHost, req: request(1, 1, 1, { appkey: 'new' }), want: [100, 100, 100, 100] },
  ];
  for (const c of cases) assert.deepEqual(scores(c.scorer, hosts, c.req), c.want, c.name);
  // Normalized over the feasible hosts only: without d the emptiest has 1.
  const down = [...hosts.slice(0, 3), host({ name: 'd', ready: false })];
  assert.deepEqual(scores(byHost, down, request(1, 1), [hostReady]), [25, 100, 75, undefined]);
});
