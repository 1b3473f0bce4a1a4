import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandwidthCommands, tbfArgs } from './tc.js';

const show = (cmds: ReturnType<typeof bandwidthCommands>): string[] => cmds.map((c) => `${c.argv.join(' ')}${c.tolerate ? ' (?)' : ''}`);

test('tc: tbf rate in kbit, burst max(32 KiB, 10 ms at the rate), 50 ms latency', () => {
  const cases: [number, string][] = [
    [40, 'tbf rate 40000kbit burst 50000 latency 50ms'],
    [1, 'tbf rate 1000kbit burst 32768 latency 50ms'],
    [0.5, 'tbf rate 500kbit burst 32768 latency 50ms'],
    [1000, 'tbf rate 1000000kbit burst 1250000 latency 50ms'],
  ];
  for (const [mbit, want] of cases) assert.equal(tbfArgs(mbit).join(' '), want, `${mbit} Mbit/s`);
  assert.throws(() => tbfArgs(0));
  assert.throws(() => tbfArgs(Number.NaN));
});

const cases: { name: string; ifaces: string[]; bw: { egress?: number; ingress?: number }; want: string[] }[] = [
  {
    name: 'egress and ingress on one interface',
    ifaces: ['eth0'],
    bw: { egress: 40, ingress: 40 },
    want: [
      'tc qdisc replace dev eth0 root tbf rate 40000kbit burst 50000 latency 50ms',
      'ip link add wharf-ifb type ifb (?)',
      'ip link set wharf-ifb up',
      'tc qdisc replace dev wharf-ifb root tbf rate 40000kbit burst 50000 latency 50ms',
      'tc qdisc replace dev eth0 handle ffff: ingress',
      'tc filter replace dev eth0 parent ffff: protocol all pref 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev wharf-ifb',
    ],
  },
  {
    name: 'egress only: ingress hooks and the ifb go',
    ifaces: ['eth0', 'eth1'],
    bw: { egress: 10 },
    want: [
      'tc qdisc replace dev eth0 root tbf rate 10000kbit burst 32768 latency 50ms',
      'tc qdisc replace dev eth1 root tbf rate 10000kbit burst 32768 latency 50ms',
      'tc qdisc del dev eth0 ingress (?)',
      'tc qdisc del dev eth1 ingress (?)',
      'ip link del wharf-ifb (?)',
    ],
  },
  {
    name: 'ingress only on two interfaces: both redirect to the one ifb (one limit for the set)',
    ifaces: ['eth0', 'eth1'],
    bw: { ingress: 100 },
    want: [
      'tc qdisc del dev eth0 root (?)',
      'tc qdisc del dev eth1 root (?)',
      'ip link add wharf-ifb type ifb (?)',
      'ip link set wharf-ifb up',
      'tc qdisc replace dev wharf-ifb root tbf rate 100000kbit burst 125000 latency 50ms',
      'tc qdisc replace dev eth0 handle ffff: ingress',
      'tc filter replace dev eth0 parent ffff: protocol all pref 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev wharf-ifb',
      'tc qdisc replace dev eth1 handle ffff: ingress',
      'tc filter replace dev eth1 parent ffff: protocol all pref 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev wharf-ifb',
    ],
  },
  {
    name: 'no limit: everything is removed (each removal tolerates "nothing there")',
    ifaces: ['eth0'],
    bw: {},
    want: ['tc qdisc del dev eth0 root (?)', 'tc qdisc del dev eth0 ingress (?)', 'ip link del wharf-ifb (?)'],
  },
];

for (const c of cases) {
  test(`tc: ${c.name}`, () => {
    assert.deepEqual(show(bandwidthCommands(c.ifaces, c.bw)), c.want);
  });
}

test('tc: removals tolerate what tc and ip say when there is nothing to remove', () => {
  const [root, ingress, ifb] = bandwidthCommands(['eth0'], {});
  assert.ok(root?.tolerate?.test('Error: Cannot delete qdisc with handle of zero.'));
  assert.ok(ingress?.tolerate?.test('Error: Invalid handle.'));
  assert.ok(ingress?.tolerate?.test('Error: Cannot find specified qdisc on specified device.'));
  assert.ok(ifb?.tolerate?.test('Cannot find device "wharf-ifb"'));
  assert.equal(root?.tolerate?.test('RTNETLINK answers: Operation not permitted'), false);
});
