import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkReach } from './network-reach.js';
import { filterReasons, host, request } from '../testing.js';

test('NetworkReach', () => {
  const hosts = [
    host({ name: 'both', networks: ['front', 'back'] }),
    host({ name: 'front', networks: ['front'] }),
    host({ name: 'none' }),
  ];
  const cases = [
    { name: 'no network asked', req: request(1, 1), want: [undefined, undefined, undefined] },
    { name: 'one network', req: request(1, 1, 1, { networks: ['front'] }), want: [undefined, undefined, 'does not reach network front'] },
    {
      name: 'every network is needed',
      req: request(1, 1, 1, { networks: ['front', 'back'] }),
      want: [undefined, 'does not reach network back', 'does not reach network front, back'],
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([networkReach], hosts, c.req), c.want, c.name);
});
