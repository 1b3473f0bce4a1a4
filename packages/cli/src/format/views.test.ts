import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeNetwork, makePolicy, makeSet, container, T0, iso } from '../testing/fixtures.js';
import { ipCell, readiness, renderSets } from './sets.js';
import { bandwidthUse, describeHost, renderHosts } from './hosts.js';
import { describeSet } from './describe.js';
import { describeNetwork, renderNetworks } from './networks.js';
import { ingressText, renderPolicies } from './policies.js';
import { describeBandwidth } from './units.js';

function columns(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

test('get sets: default columns', () => {
  const out = renderSets([makeSet({ id: '2', status: 'starting', containers: [container({ name: 'web', state: 'running' }), container({ name: 'log', index: 2, state: 'created' })] }), makeSet()], false, T0);
  const [header, first, second] = out.split('\n');
  assert.deepEqual(columns(header ?? ''), ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE']);
  // sorted by appkey then id
  assert.deepEqual(columns(first ?? ''), ['com.x', '1', 'running', '2/2', 'h1', '60m']);
  assert.deepEqual(columns(second ?? ''), ['com.x', '2', 'starting', '1/2', 'h1', '60m']);
});

test('get sets -o wide: adds IP, CPU, MEMORY, DISK, IMAGES, GEN', () => {
  const out = renderSets([makeSet({ generation: 3, observedGeneration: 2, host: undefined as unknown as string })], true, T0);
  const [header, row] = out.split('\n');
  assert.deepEqual(columns(header ?? ''), ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE', 'IP', 'CPU', 'MEMORY', 'DISK', 'IMAGES', 'GEN']);
  assert.deepEqual(columns(row ?? ''), ['com.x', '1', 'running', '2/2', '<none>', '60m', '10.99.0.5', '2', '1Gi', '10Gi', 'nginx:1,fluent:2', '2/3']);
  // the wide header lines up with the row
  assert.equal((header ?? '').indexOf('IMAGES'), (row ?? '').indexOf('nginx:1'));
});

test('readiness counts business containers of the spec, not infra', () => {
  assert.deepEqual(readiness(makeSet()), { running: 2, ready: 2, total: 2 });
  assert.deepEqual(readiness(makeSet({ containers: [] })), { running: 0, ready: 0, total: 2 });
  const [infra, web, log] = makeSet().containers;
  // a running container that fails its readiness probe is running but not ready
  assert.deepEqual(readiness(makeSet({ containers: [infra!, web!, { ...log!, ready: false }] })), { running: 2, ready: 1, total: 2 });
});

test('get hosts: columns, allocated/capacity and cordon', () => {
  const out = renderHosts([makeHost(), makeHost({ name: 'h0', state: 'not-ready', cordoned: true })], false, T0);
  const lines = out.split('\n');
  assert.deepEqual(columns(lines[0] ?? ''), ['NAME', 'STATE', 'ZONE', 'RACK', 'CPU', 'MEMORY', 'SETS', 'AGE']);
  assert.deepEqual(columns(lines[1] ?? ''), ['h0', 'not-ready,cordoned', 'dc1', 'r1', '███░░░░░ 2.5/8', '██░░░░░░ 4Gi/16Gi', '3', '2d']);
  assert.deepEqual(columns(lines[2] ?? ''), ['h1', 'ready', 'dc1', 'r1', '███░░░░░ 2.5/8', '██░░░░░░ 4Gi/16Gi', '3', '2d']);
  const wide = renderHosts([makeHost()], true, T0).split('\n');
  assert.deepEqual(columns(wide[0] ?? '').slice(8), ['DISK', 'POOL', 'BANDWIDTH', 'NETWORKS', 'HEARTBEAT', 'AGENT', 'DOCKER', 'LABELS', 'IN USE']);
  assert.deepEqual(columns(wide[1] ?? '').slice(8), ['█░░░░░░░ 10Gi/100Gi', '-', '██░░░░░░ 2500/10000 Mbit/s', 'net1=eth0', '3s ago', '0.1.0', '20.10.24', 'ssd=true', '-']);
  const two = renderHosts([makeHost({ networks: [{ name: 'net1', uplink: 'eth0' }, { name: 'v20', uplink: 'bond0' }] })], true, T0).split('\n');
  assert.equal(columns(two[1] ?? '')[11], 'net1=eth0,v20=bond0');
  const pooled = renderHosts([makeHost({ pool: { driver: 'btrfs', size: 100 * 1024 ** 3, used: 12 * 1024 ** 3, free: 88 * 1024 ** 3, trash: 2 * 1024 ** 3, trashCount: 3 } })], true, T0).split('\n');
  assert.equal(columns(pooled[1] ?? '')[9], 'btrfs 12Gi/100Gi, bin 2Gi (3)');
});

test('host bandwidth: allocated/capacity, unlimited without a declared capacity', () => {
  assert.equal(bandwidthUse(makeHost()), '██░░░░░░ 2500/10000 Mbit/s');
  const h = makeHost();
  assert.equal(bandwidthUse({ ...h, capacity: { cpu: 8, memory: 1, disk: 1 }, allocated: { cpu: 0, memory: 0, disk: 0 } }), 'unlimited');
  assert.equal(bandwidthUse({ ...h, capacity: { cpu: 8, memory: 1, disk: 1 }, allocated: { cpu: 0, memory: 0, disk: 0, bandwidth: 300 } }), '300/unlimited Mbit/s');
});

test('set IPs: the primary, +N when there are more', () => {
  assert.equal(ipCell(makeSet()), '10.99.0.5');
  assert.equal(ipCell(makeSet({ ips: [] })), '<none>');
  assert.equal(ipCell(makeSet({ ips: [{ network: 'net1', ip: '10.99.0.5' }, { network: 'net2', ip: '10.98.0.9' }, { network: 'net2', ip: '10.98.0.10' }] })), '10.99.0.5 +2');
});

test('describe set: IPs with their networks and the bandwidth limits', () => {
  const spec = makeSet().spec;
  const set = makeSet({
    ips: [{ network: 'net1', ip: '10.99.0.5' }, { network: 'net2', ip: '10.98.0.9' }],
    spec: { ...spec, resources: { ...spec.resources, bandwidth: { egress: 100, ingress: 50 } } },
  });
  const lines = describeSet(set, [], T0).split('\n');
  const at = lines.findIndex((l) => l.startsWith('IPs:'));
  assert.match(lines[at] ?? '', /^IPs: +10\.99\.0\.5 on net1 \(primary\)$/);
  // the second address continues under the value column
  assert.equal((lines[at + 1] ?? '').indexOf('10.98.0.9'), (lines[at] ?? '').indexOf('10.99.0.5'));
  assert.equal((lines[at + 1] ?? '').trim(), '10.98.0.9 on net2');
  assert.ok(lines.some((l) => /^Bandwidth: +egress 100 Mbit\/s, ingress 50 Mbit\/s$/.test(l)));
  const none = describeSet(makeSet({ ips: [], spec: { ...spec, network: { name: 'net2' } } }), [], T0);
  assert.match(none, /^IPs: +<none yet; the spec asks for on net2>$/m);
  assert.match(describeSet(makeSet({ ips: [] }), [], T0), /^IPs: +<none>$/m);
  assert.match(describeSet(makeSet(), [], T0), /^Bandwidth: +unlimited$/m);
  assert.equal(describeBandwidth(200), '200 Mbit/s each way');
  assert.equal(describeBandwidth({ ingress: 20 }), 'egress unlimited, ingress 20 Mbit/s');
});

test('network ls: columns and values; wide adds SIZE, AGE, HOST NAMES', () => {
  const nets = [makeNetwork({ name: 'v20', subnet: '10.20.0.0/16', gateway: '10.20.0.1', rangeStart: '10.20.0.10', rangeEnd: '10.20.0.20', range: '10.20.0.10-10.20.0.20', zone: 'dc1', vlan: 20, size: 11, used: 0, free: 11, hosts: [] }), makeNetwork({ default: true, hosts: ['h1', 'h2'] })];
  const lines = renderNetworks(nets, false, T0).split('\n');
  assert.deepEqual(columns(lines[0] ?? ''), ['NAME', 'SUBNET', 'GATEWAY', 'RANGE', 'ZONE', 'VLAN', 'USED', 'FREE', 'HOSTS', 'DEFAULT']);
  assert.deepEqual(columns(lines[1] ?? ''), ['net1', '10.99.0.0/24', '10.99.0.1', '10.99.0.1-10.99.0.254', '<any>', '-', '1', '252', '2', 'yes']);
  assert.deepEqual(columns(lines[2] ?? ''), ['v20', '10.20.0.0/16', '10.20.0.1', '10.20.0.10-10.20.0.20', 'dc1', '20', '0', '11', '0', 'no']);
  const wide = renderNetworks(nets, true, T0).split('\n');
  assert.deepEqual(columns(wide[0] ?? '').slice(10), ['SIZE', 'AGE', 'HOST NAMES']);
  assert.deepEqual(columns(wide[1] ?? '').slice(10), ['253', '24h', 'h1,h2']);
  assert.deepEqual(columns(wide[2] ?? '').slice(10), ['11', '24h', '<none>']);
});

test('network inspect: fields and the allocations table in address order', () => {
  const text = describeNetwork(
    makeNetwork({
      vlan: 20,
      used: 2,
      free: 251,
      allocations: [
        { network: 'net1', ip: '10.99.0.10', tenant: 'team-a', appkey: 'com.y', id: '2', primary: false, allocatedAt: iso(T0 - 30_000) },
        { network: 'net1', ip: '10.99.0.9', tenant: 'default', appkey: 'com.x', id: '1', primary: true, allocatedAt: iso(T0 - 300_000) },
      ],
    }),
    T0,
  );
  assert.match(text, /^Range: +10\.99\.0\.1-10\.99\.0\.254 \(253 addresses; the gateway is never handed out\)$/m);
  assert.match(text, /^VLAN: +20 \(hosts attach through <uplink>\.20\)$/m);
  assert.match(text, /^Used: +2$/m);
  assert.match(text, /^Free: +251$/m);
  assert.match(text, /^Hosts: +h1$/m);
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.trim().startsWith('IP '));
  assert.equal(lines[header - 1], 'Allocations:');
  assert.deepEqual(columns(lines[header] ?? ''), ['IP', 'SET', 'TENANT', 'PRIMARY', 'SINCE']);
  assert.deepEqual(columns(lines[header + 1] ?? ''), ['10.99.0.9', 'com.x/1', 'default', 'yes', '5m']);
  assert.deepEqual(columns(lines[header + 2] ?? ''), ['10.99.0.10', 'com.y/2', 'team-a', 'no', '30s']);
  assert.match(describeNetwork(makeNetwork({ hosts: [], allocations: [] }), T0), /^Hosts: +<none> .*\n[^]*^Allocations: +<none>$/m);
});

test('describe host: resources with bandwidth, networks with their subnet and whether they attach', () => {
  const h = makeHost({ networks: [{ name: 'net1', uplink: 'eth0' }, { name: 'v20', uplink: 'bond0' }, { name: 'gone', uplink: 'eth9' }], overrides: { networks: [], bandwidth: 10_000 } });
  const nets = [makeNetwork(), makeNetwork({ name: 'v20', subnet: '10.20.0.0/16', vlan: 20, zone: 'dc2', hosts: [] })];
  const lines = describeHost(h, nets, T0).split('\n');
  const bw = lines.find((l) => l.trim().startsWith('bandwidth')) ?? '';
  assert.deepEqual(columns(bw), ['bandwidth', '2500 Mbit/s', '10000 Mbit/s (set by wharf host set)', '-']);
  const at = lines.indexOf('Networks (set by wharf host set):');
  assert.ok(at > 0, lines.join('\n'));
  assert.deepEqual(columns(lines[at + 1] ?? ''), ['NETWORK', 'UPLINK', 'INTERFACE', 'SUBNET', 'ATTACHED']);
  assert.deepEqual(columns(lines[at + 2] ?? ''), ['net1', 'eth0', 'eth0', '10.99.0.0/24', 'yes']);
  assert.deepEqual(columns(lines[at + 3] ?? ''), ['v20', 'bond0', 'bond0.20', '10.20.0.0/16', 'no (network is in zone dc2)']);
  assert.deepEqual(columns(lines[at + 4] ?? ''), ['gone', 'eth9', '-', '-', 'no (no such network)']);
  const plain = describeHost(makeHost({ networks: [] }), new Error('boom'), T0);
  assert.match(plain, /^Networks: +<none>$/m);
  const draining = describeHost(makeHost({ draining: true, drain: { remaining: 2, moving: 1, blocked: [], total: 5, startedAt: new Date(T0 - 90_000).toISOString() } }), [], T0);
  assert.match(draining, /^Drain: +2 set\(s\) left of 5 \(began 90s ago\), 1 starting elsewhere$/m);
  const failed = describeHost(makeHost(), new Error('boom'), T0);
  assert.match(failed, /^Networks:\n {2}NETWORK +UPLINK\n {2}net1 +eth0\n {2}<network details unavailable: boom>$/m);
});

test('policies: one row each, rules as "peers → ports"', () => {
  const other = makePolicy({ appkey: 'com.a', name: 'ops', tenant: 'team-a', ingress: [{ from: [{ app: 'com.mon', tenant: 'ops' }, { app: 'com.b', tenant: 'team-a' }] }, { from: [{ cidr: '192.168.0.0/16' }], ports: [{ port: 22 }] }] });
  assert.equal(ingressText(makePolicy()), 'app:com.lb,cidr:10.0.0.0/8 → 8080/tcp,53/udp');
  assert.equal(ingressText(other), 'app:com.mon tenant:ops,app:com.b → all ports; cidr:192.168.0.0/16 → 22/tcp');
  const lines = renderPolicies([makePolicy(), other], false, T0).split('\n');
  assert.deepEqual(columns(lines[0] ?? ''), ['APPKEY', 'NAME', 'INGRESS', 'AGE']);
  assert.deepEqual(columns(lines[1] ?? ''), ['com.a', 'ops', 'app:com.mon tenant:ops,app:com.b → all ports; cidr:192.168.0.0/16 → 22/tcp', '10m']);
  assert.deepEqual(columns(lines[2] ?? ''), ['com.x', 'allow-lb', 'app:com.lb,cidr:10.0.0.0/8 → 8080/tcp,53/udp', '10m']);
  assert.deepEqual(columns(renderPolicies([makePolicy()], true, T0).split('\n')[1] ?? '').slice(4), ['default', '60s']);
});

test('describe set: fields, containers table and events', () => {
  const set = makeSet({
    status: 'degraded',
    ready: false,
    message: 'container log exited',
    containers: [
      ...makeSet().containers.slice(0, 2),
      container({
        name: 'log', index: 2, image: 'fluent:2', state: 'exited', exitCode: 137, oomKilled: true, restartCount: 4, containerId: 'cccccccccccccccccccc', message: 'OOM',
        ready: false, lastTermination: { reason: 'OOMKilled', exitCode: 137, oomKilled: true, finishedAt: iso(T0 - 30_000) },
      }),
    ],
    spec: {
      ...makeSet().spec,
      containers: makeSet().spec.containers.map((c) => c.options.name === 'log'
        ? { ...c, options: { ...c.options, restartPolicy: 'on-failure' as const, readiness: { tcp: { port: 24224 }, periodSeconds: 5 } } }
        : c),
    },
  });
  const text = describeSet(
    set,
    [
      { time: iso(T0 - 10_000), type: 'Warning', reason: 'BackOff', message: 'restarting log' },
      { time: iso(T0 - 70_000), type: 'Normal', reason: 'Scheduled', message: 'placed on h1' },
    ],
    T0,
  );
  assert.match(text, /^Name: +com\.x\/1$/m);
  assert.match(text, /^Status: +degraded \(1\/2 containers running, 1\/2 ready; the set is not ready\)$/m);
  assert.match(text, /^Message: +container log exited$/m);
  assert.match(text, /^Generation: +1 \(observed 1\)$/m);
  assert.match(text, /^Resources: +cpu 2, memory 1Gi, disk 10Gi$/m);
  assert.match(text, /^Volume: +10Gi, mounted at \/data \(web\)$/m);
  const lines = text.split('\n');
  const header = lines.find((l) => l.includes('INDEX')) ?? '';
  assert.deepEqual(columns(header), ['INDEX', 'NAME', 'ROLE', 'IMAGE', 'STATE', 'READY', 'RESTARTS', 'EXIT', 'LAST TERMINATION', 'STARTED', 'CPU', 'MEMORY', 'ID']);
  const infra = lines[lines.indexOf(header) + 1] ?? '';
  assert.deepEqual(columns(infra), ['0', 'infra', 'infra', 'wharf/busybox:latest', 'running', '-', '0', '-', '-', '60s', '-', '-', 'aaaaaaaaaaaa']);
  const web = lines[lines.indexOf(header) + 2] ?? '';
  assert.deepEqual(columns(web), ['1', 'web', 'business', 'nginx:1', 'running', 'yes', '0', '-', '-', '60s', '1.6', '512Mi', 'bbbbbbbbbbbb']);
  const log = lines[lines.indexOf(header) + 3] ?? '';
  assert.deepEqual(columns(log), ['2', 'log', 'business', 'fluent:2', 'exited', 'no', '4', '137 (OOMKilled)', 'OOMKilled (exit 137) 30s ago', '-', '-', '-', 'cccccccccccc']);
  assert.match(text, /^ {4}log: OOM$/m);
  assert.match(text, /^ {4}log: restart on-failure; readiness tcp :24224 every 5s, timeout 1s, 3 failure\(s\)$/m);
  assert.doesNotMatch(text, /^ {4}web: restart/m);
  // events oldest first
  const ev = lines.slice(lines.indexOf('Events:') + 1);
  assert.deepEqual(columns(ev[0] ?? ''), ['AGE', 'TYPE', 'REASON', 'MESSAGE']);
  assert.deepEqual(columns(ev[1] ?? ''), ['70s', 'Normal', 'Scheduled', 'placed on h1']);
  assert.deepEqual(columns(ev[2] ?? ''), ['10s', 'Warning', 'BackOff', 'restarting log']);
});

test('describe set survives missing events and unreported containers', () => {
  const text = describeSet(makeSet({ containers: [], status: 'pending', host: undefined as unknown as string }), new Error('404 Not Found'), T0);
  assert.match(text, /^Host: +<not scheduled>$/m);
  assert.match(text, /^Containers: +<none reported by the agent yet>$/m);
  assert.match(text, /^Events: +<unavailable: 404 Not Found>$/m);
});
