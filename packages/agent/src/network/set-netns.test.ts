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

  // A new firewall: one iptables-restore (the jump it wrote is known, so not read again, nor added twice).
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ bandwidth: { egress: 80 }, firewall: { allow: [{ cidr: '10.7.0.0/16' }] } })), ['firewall']);
  assert.deepEqual(runner.lines(NS), ['iptables-restore --noflush']);
  assert.doesNotMatch(runner.calls[0]?.input ?? '', /INPUT/);

  // The firewall entry went away: the chain goes.
  runner.clear();
  assert.deepEqual(await programmer.apply('t/a/1', input({ bandwidth: { egress: 80 }, firewall: undefined })), ['firewall']);
  assert.equal(runner.calls[0]?.input, '*filter\n:WHARF-IN - [0:0]\n-D INPUT -j WHARF-IN\n-X WHARF-IN\nCOMMIT\n');

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

test('set netns: address groups are expanded when written; refresh rewrites only the firewall, and only when a group changed', async () => {
  const { runner, programmer } = setup();
  const fw = { allow: [{ group: 'tenant:t' }, { group: 'app:u/api', ports: [{ port: 80, protocol: 'tcp' as const }] }] };
  // Nothing programmed yet: nothing to refresh (the reconcile uses the current groups).
  assert.equal(await programmer.refresh('t/a/1'), false);
  programmer.setAddressGroups({ 'tenant:t': ['10.0.0.5/32'], 'app:u/api': [] });
  await programmer.apply('t/a/1', input({ firewall: fw }));
  assert.match(runner.calls[1]?.input ?? '', /-A WHARF-IN -s 10\.0\.0\.5\/32 -j ACCEPT\n-A WHARF-IN -j DROP/);

  runner.clear();
  assert.equal(await programmer.refresh('t/a/1'), false, 'the same groups: nothing written');
  assert.equal(runner.calls.length, 0);

  programmer.setAddressGroups({ 'tenant:t': ['10.0.0.5/32', '10.0.0.9/32'], 'app:u/api': ['10.3.0.2/32'] });
  assert.equal(await programmer.refresh('t/a/1'), true);
  assert.deepEqual(runner.lines(NS), ['iptables-restore --noflush']);
  assert.match(runner.calls[0]?.input ?? '', /-s 10\.0\.0\.5\/32 -j ACCEPT\n-A WHARF-IN -s 10\.0\.0\.9\/32 -j ACCEPT\n-A WHARF-IN -s 10\.3\.0\.2\/32 -p tcp --dport 80 -j ACCEPT\n-A WHARF-IN -j DROP/);

  // A group the answer does not carry is an error naming it; the next refresh programs everything again.
  programmer.setAddressGroups({ 'tenant:t': [] });
  await assert.rejects(programmer.refresh('t/a/1'), /address group "app:u\/api"/);
  // Forgotten: nothing left to refresh.
  programmer.forget('t/a/1');
  assert.equal(await programmer.refresh('t/a/1'), false);
});

test('set netns: work on one namespace runs one at a time, in the order asked', async () => {
  const runner = new RecordingRunner();
  const programmer = new SetNetnsProgrammer(runner.run);
  runner.answer(/ip -j -4 addr show$/, { stdout: ipAddr([['eth0', ['10.0.0.5']]]) });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const order: string[] = [];
  runner.answer(/iptables-restore/, async (c) => {
    order.push(`start ${/10\.9\.9\.9/.test(c.input ?? '') ? 'new' : 'old'}`);
    if (order.length === 1) await gate;
    order.push('end');
    return {};
  });
  programmer.setAddressGroups({ g: ['10.0.0.1/32'] });
  const first = programmer.apply('t/a/1', input({ firewall: { allow: [{ group: 'g' }] } }));
  await new Promise((r) => setTimeout(r, 10));
  programmer.setAddressGroups({ g: ['10.9.9.9/32'] });
  const second = programmer.refresh('t/a/1');
  await new Promise((r) => setTimeout(r, 10));
  release();
  await first;
  assert.equal(await second, true);
  assert.deepEqual(order, ['start old', 'end', 'start new', 'end']);
});
