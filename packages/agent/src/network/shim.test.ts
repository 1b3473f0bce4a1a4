import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShimLinks, parseShimRoutes, shimCommands, shimName, type ShimLink, type ShimRoute, type ShimWanted } from './shim.js';

test('shim: names fit in 15 characters and stay unique', () => {
  assert.equal(shimName('eth0'), 'wh-eth0');
  assert.equal(shimName('eth0.100'), 'wh-eth0.100');
  const a = shimName('enp0s31f6abcdef');
  const b = shimName('enp0s31f6abcdeg');
  assert.ok(a.length <= 15 && b.length <= 15, `${a} ${b}`);
  assert.notEqual(a, b);
  assert.match(a, /^wh-enp0s3-[0-9a-f]{5}$/);
});

const cases: { name: string; wanted: ShimWanted[]; links: ShimLink[]; routes: ShimRoute[]; want: string[] }[] = [
  {
    name: 'first set IP on an uplink: the shim is made, then its route',
    wanted: [{ parent: 'eth0', src: '10.0.0.12', ips: ['10.0.0.100'] }],
    links: [],
    routes: [],
    want: [
      'ip link add wh-eth0 link eth0 type macvlan mode bridge',
      'sysctl -qw net/ipv4/conf/wh-eth0/arp_filter=1',
      'ip link set wh-eth0 up',
      'ip route replace 10.0.0.100/32 dev wh-eth0 src 10.0.0.12',
    ],
  },
  {
    name: 'everything in place: nothing to do',
    wanted: [{ parent: 'eth0', src: '10.0.0.12', ips: ['10.0.0.100', '10.0.0.101'] }],
    links: [{ name: 'wh-eth0', up: true }],
    routes: [{ dst: '10.0.0.100', dev: 'wh-eth0', src: '10.0.0.12' }, { dst: '10.0.0.101', dev: 'wh-eth0', src: '10.0.0.12' }],
    want: [],
  },
  {
    name: 'a set left and another came: one route goes, one comes; a changed source is replaced',
    wanted: [{ parent: 'eth0', src: '10.0.0.13', ips: ['10.0.0.100', '10.0.0.102'] }],
    links: [{ name: 'wh-eth0', up: true }],
    routes: [{ dst: '10.0.0.100', dev: 'wh-eth0', src: '10.0.0.12' }, { dst: '10.0.0.101', dev: 'wh-eth0', src: '10.0.0.12' }],
    want: [
      'ip route replace 10.0.0.100/32 dev wh-eth0 src 10.0.0.13',
      'ip route replace 10.0.0.102/32 dev wh-eth0 src 10.0.0.13',
      'ip route del 10.0.0.101/32 dev wh-eth0',
    ],
  },
  {
    name: 'no set IP left on an uplink: its shim goes (with its routes); a shim that is down comes up',
    wanted: [{ parent: 'eth1', ips: ['10.1.0.5'] }, { parent: 'eth0', ips: [] }],
    links: [{ name: 'wh-eth0', up: true }, { name: 'wh-eth1', up: false }],
    routes: [{ dst: '10.0.0.100', dev: 'wh-eth0', src: '10.0.0.12' }, { dst: '10.1.0.5', dev: 'wh-eth1' }],
    want: ['ip link set wh-eth1 up', 'ip link del wh-eth0'],
  },
  {
    name: 'a VLAN parent gets its own shim',
    wanted: [{ parent: 'eth0.10', src: '10.0.0.12', ips: ['10.10.0.5'] }],
    links: [],
    routes: [],
    want: [
      'ip link add wh-eth0.10 link eth0.10 type macvlan mode bridge',
      'sysctl -qw net/ipv4/conf/wh-eth0.10/arp_filter=1',
      'ip link set wh-eth0.10 up',
      'ip route replace 10.10.0.5/32 dev wh-eth0.10 src 10.0.0.12',
    ],
  },
];

for (const c of cases) {
  test(`shim: ${c.name}`, () => {
    assert.deepEqual(shimCommands(c.wanted, { links: c.links, routes: c.routes }).map((x) => x.argv.join(' ')), c.want);
  });
}

test('shim: reads links and routes from ip -j', () => {
  const links = '[{"ifindex":7,"link":"eth0","ifname":"wh-eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"]},{"ifindex":8,"link":"eth0","ifname":"wn-tiny","flags":["BROADCAST","MULTICAST"]}]';
  assert.deepEqual(parseShimLinks(links), [{ name: 'wh-eth0', up: true }]);
  const routes = '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"},{"dst":"10.0.0.0/24","dev":"eth0","prefsrc":"10.0.0.12"},{"dst":"10.0.0.100","dev":"wh-eth0","scope":"link","prefsrc":"10.0.0.12","flags":[]}]';
  assert.deepEqual(parseShimRoutes(routes), [{ dst: '10.0.0.100', dev: 'wh-eth0', src: '10.0.0.12' }]);
  assert.deepEqual(parseShimLinks(''), []);
});
