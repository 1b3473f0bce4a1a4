import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostSelector } from './host-selector.js';
import { filterReasons, host, placed, request } from '../testing.js';

test('HostSelector', () => {
  const hosts = [
    host({ name: 'ssd', labels: { disk: 'ssd', gpu: 'yes' } }),
    host({ name: 'hdd', labels: { disk: 'hdd' } }),
    host({ name: 'bare' }),
  ];
  const cases = [
    { name: 'no selector', req: request(1, 1), want: [undefined, undefined, undefined] },
    { name: 'empty selector', req: placed({ hostSelector: {} }), want: [undefined, undefined, undefined] },
    {
      name: 'one label',
      req: placed({ hostSelector: { disk: 'ssd' } }),
      want: [undefined, 'label disk=hdd (placement.hostSelector wants disk=ssd)', 'no label disk (placement.hostSelector wants disk=ssd)'],
    },
    {
      name: 'all labels must match',
      req: placed({ hostSelector: { disk: 'ssd', gpu: 'yes' } }),
      want: [undefined, 'label disk=hdd (placement.hostSelector wants disk=ssd)', 'no label disk (placement.hostSelector wants disk=ssd)'],
    },
    {
      name: 'first mismatch is reported',
      req: placed({ hostSelector: { gpu: 'yes', disk: 'ssd' } }),
      want: [undefined, 'no label gpu (placement.hostSelector wants gpu=yes)', 'no label gpu (placement.hostSelector wants gpu=yes)'],
    },
  ];
  for (const c of cases) assert.deepEqual(filterReasons([hostSelector], hosts, c.req), c.want, c.name);
});
