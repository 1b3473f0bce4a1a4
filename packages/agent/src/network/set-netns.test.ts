import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingRunner } from '../testing/recording-runner.js';
import { parseIpAddr } from './addresses.js';
import { addressCommands, SetNetnsProgrammer, type SetNetnsInput } from './set-netns.js';

const NS = '/proc/4242/ns/net';
const ipAddr = (ifaces: [string, string[]][]): string =>
  JSON.stringify([
    { ifname: 'lo', flags: ['LOOPBACK', 'UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    ...ifaces.map(([name, ips]) => ({ ifname: name, flags: ['UP'], addr_info: ips.map((ip) => ({ family: 'inet', local: ip, prefixlen: 24 })) })),
  ]);

const lan = (ip: string) => ({ network: 'lan', ip, prefix: 24, gateway: '10.0.0.1' });
const dmz = (ip: string) => ({ network: 'dmz', ip, prefix: 16, gateway: '10.1.0.1' });

test('set netns: secondary addresses go on the interface of their network; several networks: the primary gateway is the default route', () => {
  const ifaces = parseIpAddr(ipAddr([['eth0', ['10.1.0.5']], ['eth1', ['10.0.0.5']]]));
  const cases: { ips: ReturnType<typeof lan>[]; want: string[] }[] = [
    { ips: [lan('10.0.0.5')], want: [] },
    { ips: [lan('10.0.0.5'), lan('10.0.0.6')], want: ['ip addr replace 10.0.0.6/24 dev eth1'] },
    { ips: [lan('10.0.0.5'), dmz('10.1.0.5'), dmz('10.1.0.6')], want: ['ip addr replace 10.1.0.6/16 dev eth0', 'ip route replace default via 10.0.0.1 dev eth1'] },
  ];
  for (const c of cases) assert.deepEqual(addressCommands(ifaces, c.ips).map((x) => x.argv.join(' ')), c.want);
  // Already there: not added again.
  const done = parseIpAddr(ipAddr([['eth0', ['10.0.0.5', '10.0.0.6']]]));
  assert.deepEqual(addressCommands(done, [lan('10.0.0.5'), lan('10.0.0.6')]), []);
  assert.throws(() => addressCommands(ifaces, [lan('10.0.0.99')]), /the set's namespace has no interface with 10\.0\.0\.99 \(network lan\); interfaces: lo 127\.0\.0\.1; eth0 10\.1\.0\.5; eth1 10\.0\.0\.5/);
});

function setup() {
  const runner = new RecordingRunner();
  runner.answer(/ip -j -4 addr show$/, { stdout: ipAddr([['eth0', ['10.0.0.5']]]) });
  let rules = '-P INPUT ACCEPT\n';
  runner.answer(/iptables -S$/, () => ({ stdout: rules }));
  runner.answer(/iptables-restore/, (c) => {
    rules = c.input?.includes('-X WHARF-IN') ? '-P INPUT ACCEPT\n' : '-P INPUT ACCEPT\n-N WHARF-IN\n-A INPUT -j WHARF-IN\n';
    return {};
  });
  return { runner, programmer: new SetNetnsProgrammer(runner.run) };
}

const input = (over: Partial<SetNetnsInput> = {}): SetNetnsInput => ({
  pid: 4242,
  startedAt: 'T1',
  ips: [lan('10.0.0.5'), lan('10.0.0.6')],
  bandwidth: { egress: 40 },
  firewall: { allow: [{ cidr: '10.0.0.0/24' }] },
  hostIps: ['10.0.0.12'],
  ...over,
});

test('set netns: everything on first sight, in the infra namespace; then nothing until an input changes', async () => {
  const { runner, programmer } = setup();
  assert.deepEqual(await programmer.apply('t/a/1', input()), ['firewall', 'addresses', 'bandwidth']);
  assert.ok(runner.calls.every((c) => c.argv.slice(0, 2).join(' ') === `nsenter --net=${NS}`));
  assert.deepEqual(runner.lines(NS), [
    'iptables -S',
    'iptables-restore --noflush',
    'ip -j -4 addr show',
    'ip addr replace 10.0.0.6/24 dev eth0',
    'tc qdisc replace dev eth0 root tbf rate 40000kbit burst 50000 latency 50ms',
    'tc qdisc del dev eth0 ingress',
    'ip link del wharf-ifb',
    // A new namespace: gratuitous ARP for each IP, in the background.
    'busybox arping -U -q -c 1 -w 1 -I eth0 -s 10.0.0.5 10.0.0.5',
    'busybox arping -U -q -c 1 -w 1 -I eth0 -s 10.0.0.6 10.0.0.6',
  ]);
  assert.match(runner.calls[1]?.input ?? '', /-A WHARF-IN -s 10\.0\.0\.12\/32 -j ACCEPT\n-A WHARF-IN -s 10\.0\.0\.0\/24 -j ACCEPT\n-A WHARF-IN -j DROP/);

  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input()), []);
  assert.equal(runner.calls.length, 0);

  // A new limit: only tc, online.
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ bandwidth: { egress: 80 } })), ['bandwidth']);
  assert.deepEqual(runner.lines(NS), ['ip -j -4 addr show', 'tc qdisc replace dev eth0 root tbf rate 80000kbit burst 100000 latency 50ms', 'tc qdisc del dev eth0 ingress', 'ip link del wharf-ifb']);

  // A new firewall: only iptables; the jump is not added twice.
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ bandwidth: { egress: 80 }, firewall: { allow: [{ cidr: '10.7.0.0/16' }] } })), ['firewall']);
  assert.deepEqual(runner.lines(NS), ['iptables -S', 'iptables-restore --noflush']);
  assert.doesNotMatch(runner.calls[1]?.input ?? '', /INPUT/);

  // The firewall entry went away: the chain goes.
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ bandwidth: { egress: 80 }, firewall: undefined })), ['firewall']);
  assert.equal(runner.calls[1]?.input, '*filter\n:WHARF-IN - [0:0]\n-D INPUT -j WHARF-IN\n-X WHARF-IN\nCOMMIT\n');

  // The infra container restarted (a new namespace): everything again.
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ pid: 5000, startedAt: 'T2' })), ['firewall', 'addresses', 'bandwidth']);
  assert.ok(runner.calls.every((c) => c.argv[1] === '--net=/proc/5000/ns/net'));
});

test('set netns: a set without IPs, limits or firewall needs no namespace work', async () => {
  const { runner, programmer } = setup();
  assert.deepEqual(await programmer.apply('t/a/1', input({ ips: [], bandwidth: {}, firewall: undefined })), []);
  assert.equal(runner.calls.length, 0);
  // A limit on a set without IPs (Docker's bridge): tc on its eth0.
  assert.deepEqual(await programmer.apply('t/a/1', input({ ips: [], bandwidth: { ingress: 5 }, firewall: undefined })), ['bandwidth']);
  assert.ok(runner.lines(NS).includes('tc qdisc replace dev wharf-ifb root tbf rate 5000kbit burst 32768 latency 50ms'));
});

test('set netns: a failure says where, and the next call tries everything again', async () => {
  const { runner, programmer } = setup();
  runner.answer(/tc qdisc replace dev eth0 root/, { code: 2, stderr: 'Error: Specified qdisc kind is unknown.' }, true);
  await assert.rejects(programmer.apply('t/a/1', input()), {
    message: `cannot program the set's network namespace (${NS}): tc qdisc replace dev eth0 root tbf rate 40000kbit burst 50000 latency 50ms failed: Error: Specified qdisc kind is unknown.`,
  });
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input()), ['firewall', 'addresses', 'bandwidth']);
});
