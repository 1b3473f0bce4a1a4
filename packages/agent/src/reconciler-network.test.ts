/** The reconciler with platform IPs, bandwidth limits and firewalls, on the fake engine with recorded network commands. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { NetworkAttachment, SetEvent, SetObject } from '@wharf/types';
import { FakeEngine } from './docker/fake-engine.js';
import { ExitTracker } from './exits.js';
import { HealthBook } from './health/book.js';
import { NetworkPlane, type SetNetworkContext } from './network/plane.js';
import type { CommandRunner } from './network/netns.js';
import { SetReconciler, type ReportedStatus } from './reconciler.js';
import { RecordingRunner } from './testing/recording-runner.js';
import { setObject as fixture } from './testing/fixtures.js';
import { testVolumes } from './testing/dir-volumes.js';

const INFRA = 'wharf/busybox:latest';
const attachments: NetworkAttachment[] = [
  { name: 'lan', subnet: '10.0.0.0/24', gateway: '10.0.0.1', uplink: 'eth0' },
  { name: 'dmz', subnet: '10.1.0.0/16', gateway: '10.1.0.1', uplink: 'eth1' },
];
const ips = [{ network: 'lan', ip: '10.0.0.5' }, { network: 'lan', ip: '10.0.0.6' }, { network: 'dmz', ip: '10.1.0.5' }];

const setObject = (over: Partial<SetObject> = {}, bandwidth?: number): SetObject =>
  fixture({
    appkey: 'app',
    id: 1,
    resources: { cpu: 1, memory: '256Mi', ...(bandwidth ? { bandwidth } : {}) },
    containers: [{ index: 0, image: 'web:1', options: { name: 'web', ports: [{ containerPort: 80, hostPort: 8080 }] } }],
  }, { ips, ...over });

async function setup() {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-net-'));
  const engine = new FakeEngine([INFRA, 'web:1']);
  const rec = new RecordingRunner();
  // Inside a set: eth0 on dmz, eth1 on lan (Docker does not name them in attach order).
  rec.answer(/ip -j -4 addr show$/, {
    stdout: JSON.stringify([
      { ifname: 'lo', flags: ['UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.1.0.5', prefixlen: 16 }] },
      { ifname: 'eth1', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }] },
    ]),
  });
  // Commands and engine calls in one log, to check what happens before what.
  const run: CommandRunner = (argv, opts) => {
    engine.calls.push(`$ ${argv.slice(argv[0] === 'nsenter' ? 2 : 0).join(' ')}`);
    return rec.run(argv, opts);
  };
  const network = new NetworkPlane({ engine, runner: run, hostNetns: '/run/netns/h1' });
  const { volumes } = await testVolumes(dataDir);
  const health = new HealthBook(dataDir);
  const reconciler = new SetReconciler({ engine, host: 'h1', dataDir, infraImage: INFRA, log: pino({ level: 'silent' }), exits: new ExitTracker(), network, volumes, health });
  const events: SetEvent[] = [];
  const hooks = { onEvent: (e: SetEvent) => events.push(e) };
  const cleanup = async (): Promise<void> => {
    await health.flushed();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { engine, rec, reconciler, events, hooks, cleanup };
}

const statusOf = (r: { report?: unknown }): ReportedStatus => (r.report as { status: ReportedStatus }).status;
const ctx = (over: SetNetworkContext = {}): SetNetworkContext => ({ attachments, firewall: { allow: [{ cidr: '10.0.0.0/24' }] }, ...over });

test('reconciler network: networks ensured, infra on its IPs, namespace programmed before the business container starts', async () => {
  const s = await setup();
  try {
    const r = await s.reconciler.reconcile(setObject({}, 40), s.hooks, ctx());
    assert.equal(statusOf(r).phase, 'running', statusOf(r).message);
    assert.deepEqual(s.engine.calls, [
      'createNetwork wharf-lan 10.0.0.0/24 parent=eth0',
      'createNetwork wharf-dmz 10.1.0.0/16 parent=eth1',
      'create infra',
      'connect infra wharf-dmz 10.1.0.5',
      'start infra',
      '$ ip -j -4 addr show', // the host's addresses (host namespace), let through the firewall
      '$ iptables -S',
      '$ iptables-restore --noflush',
      '$ ip -j -4 addr show',
      '$ ip addr replace 10.0.0.6/24 dev eth1',
      '$ ip route replace default via 10.0.0.1 dev eth1',
      '$ tc qdisc replace dev eth0 root tbf rate 40000kbit burst 50000 latency 50ms',
      '$ tc qdisc replace dev eth1 root tbf rate 40000kbit burst 50000 latency 50ms',
      '$ ip link add wharf-ifb type ifb',
      '$ ip link set wharf-ifb up',
      '$ tc qdisc replace dev wharf-ifb root tbf rate 40000kbit burst 50000 latency 50ms',
      '$ tc qdisc replace dev eth0 handle ffff: ingress',
      '$ tc filter replace dev eth0 parent ffff: protocol all pref 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev wharf-ifb',
      '$ tc qdisc replace dev eth1 handle ffff: ingress',
      '$ tc filter replace dev eth1 parent ffff: protocol all pref 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev wharf-ifb',
      '$ busybox arping -U -q -c 1 -w 1 -I eth1 -s 10.0.0.5 10.0.0.5',
      '$ busybox arping -U -q -c 1 -w 1 -I eth1 -s 10.0.0.6 10.0.0.6',
      '$ busybox arping -U -q -c 1 -w 1 -I eth0 -s 10.1.0.5 10.1.0.5',
      'create web',
      'start web',
    ]);
    const infra = s.engine.byName('t_app_1_infra');
    assert.equal(infra?.config.networkMode, 'wharf-lan');
    assert.deepEqual(infra?.config.ports, [], 'hostPort 8080 is not published');
    assert.deepEqual(infra?.endpoints, { 'wharf-lan': '10.0.0.5', 'wharf-dmz': '10.1.0.5' });
    // Everything in the infra container's namespace; the firewall lets the host in (it read its uplink addresses in the host namespace).
    const fw = s.rec.calls.find((c) => c.argv.includes('iptables-restore'));
    assert.equal(fw?.argv[1], `--net=/proc/${infra?.pid}/ns/net`);
    assert.ok(s.rec.lines().includes('nsenter --net=/run/netns/h1 ip -j -4 addr show'));

    // Again: nothing at all.
    s.engine.calls.length = 0;
    const again = await s.reconciler.reconcile(setObject({ generation: 2 }, 40), s.hooks, ctx());
    assert.deepEqual(again.actions, []);
    assert.equal(s.engine.calls.length, 0);

    // A new limit: tc only, no container touched.
    const bw = await s.reconciler.reconcile(setObject({ generation: 3 }, 80), s.hooks, ctx());
    assert.equal(bw.ok, true);
    assert.deepEqual(s.engine.calls.filter((c) => !c.startsWith('$ ')), []);
    assert.ok(s.engine.calls.includes('$ tc qdisc replace dev wharf-ifb root tbf rate 80000kbit burst 100000 latency 50ms'));
    assert.ok(!s.engine.calls.some((c) => c.includes('iptables')));

    // A new firewall entry: one iptables-restore (the chain's jump is known from the first write).
    s.engine.calls.length = 0;
    await s.reconciler.reconcile(setObject({ generation: 3 }, 80), s.hooks, ctx({ firewall: { allow: [{ cidr: '10.9.0.0/16', ports: [{ port: 80 }] }] } }));
    assert.deepEqual(s.engine.calls, ['$ iptables-restore --noflush']);
    assert.match(s.rec.calls.at(-1)?.input ?? '', /-A WHARF-IN -s 10\.9\.0\.0\/16 -p tcp --dport 80 -j ACCEPT/);
  } finally {
    await s.cleanup();
  }
});

test('reconciler network: a changed IP recreates the set on the new IP', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject({}), s.hooks, ctx());
    s.engine.calls.length = 0;
    const r = await s.reconciler.reconcile(setObject({ ips: [{ network: 'lan', ip: '10.0.0.9' }] }), s.hooks, ctx());
    assert.deepEqual(r.actions.filter((a) => a.startsWith('create')), ['create infra', 'create web']);
    assert.deepEqual(s.engine.byName('t_app_1_infra')?.endpoints, { 'wharf-lan': '10.0.0.9' });
  } finally {
    await s.cleanup();
  }
});

test('reconciler network: an IP on a network this host is not attached to fails the set clearly', async () => {
  const s = await setup();
  try {
    const r = await s.reconciler.reconcile(setObject({}), s.hooks, ctx({ attachments: [attachments[0]!] }));
    assert.equal(r.ok, false);
    const st = statusOf(r);
    assert.equal(st.phase, 'failed');
    assert.equal(st.message, 'cannot create container infra with 10.0.0.5, 10.0.0.6, 10.1.0.5: this host is not attached to network dmz (of IP 10.1.0.5); declare it with --network dmz=IFACE on the agent or `wharf host set`');
    assert.equal(s.events.at(-1)?.reason, 'NetworkFailed');
    assert.equal(s.engine.containers.size, 0);
  } finally {
    await s.cleanup();
  }
});

test('reconciler network: a connect that fails leaves no half-attached infra container', async () => {
  const s = await setup();
  try {
    s.engine.failNext.set('connect', 'Address already in use');
    const r = await s.reconciler.reconcile(setObject({}), s.hooks, ctx());
    assert.equal(statusOf(r).phase, 'failed');
    assert.equal(statusOf(r).message, 'cannot attach container infra to Docker network wharf-dmz with 10.1.0.5: Address already in use');
    assert.equal(s.engine.containers.size, 0);
  } finally {
    await s.cleanup();
  }
});

test('reconciler network: a namespace that cannot be programmed holds the business containers back (never unfiltered), then recovers', async () => {
  const s = await setup();
  try {
    s.rec.answer(/iptables-restore/, { code: 1, stderr: 'iptables-restore: line 3 failed' }, true);
    const r = await s.reconciler.reconcile(setObject({}), s.hooks, ctx());
    assert.equal(r.ok, false);
    const st = statusOf(r);
    assert.equal(st.phase, 'failed');
    assert.match(st.message ?? '', /^cannot program the set's network namespace \(\/proc\/\d+\/ns\/net\): iptables-restore --noflush failed: iptables-restore: line 3 failed$/);
    assert.equal(s.events.at(-1)?.reason, 'NetworkFailed');
    assert.ok(!s.engine.calls.includes('create web'));

    const retry = await s.reconciler.reconcile(setObject({}), s.hooks, ctx());
    assert.equal(retry.ok, true);
    assert.equal(statusOf(retry).phase, 'running');
  } finally {
    await s.cleanup();
  }
});

test('reconciler network: an infra container restarted by Docker gets its namespace programmed again before its business containers restart', async () => {
  const s = await setup();
  try {
    await s.reconciler.reconcile(setObject({}, 10), s.hooks, ctx());
    const infra = s.engine.byName('t_app_1_infra')!;
    await s.engine.stop(infra.id);
    await s.engine.start(infra.id);
    s.engine.calls.length = 0;
    const r = await s.reconciler.reconcile(setObject({}, 10), s.hooks, ctx());
    assert.equal(r.ok, true);
    const calls = s.engine.calls;
    assert.ok(calls.indexOf('$ iptables-restore --noflush') < calls.indexOf('start web'), calls.join('\n'));
    assert.ok(calls.includes('$ tc qdisc replace dev wharf-ifb root tbf rate 10000kbit burst 32768 latency 50ms'));
  } finally {
    await s.cleanup();
  }
});
