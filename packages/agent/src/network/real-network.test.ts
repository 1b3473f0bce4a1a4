/**
 * The data plane against a real dockerd (opt-in: WHARF_DOCKER_TESTS=1, run under
 * e2e's with-docker, needs wharf/busybox:latest, root, ip/tc/iptables/nsenter).
 *
 * The uplink is a veth pair `wt0`/`wt0p` made in dockerd's network namespace (found
 * through its pidfile next to the socket); two platform networks share it, so the
 * second one also exercises the stand-in parent. Everything it creates carries tenant
 * "wharfnet" or a wt/wh/wn/wharf- name and is removed at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import type { NetworkAttachment, SetEvent, SetFirewall, SetObject } from '@wharf/types';
import { DockerodeEngine } from '../docker/dockerode-engine.js';
import { ExitTracker } from '../exits.js';
import { resolvePrivilege } from '../privilege.js';
import { SetReconciler, type ReconcileResult, type ReportedStatus } from '../reconciler.js';
import { setObject as fixture } from '../testing/fixtures.js';
import { execRunner, Netns, processNetns } from './netns.js';
import { NetworkPlane } from './plane.js';
import { testVolumes } from '../testing/dir-volumes.js';

const enabled = process.env.WHARF_DOCKER_TESTS === '1';
const skip = !enabled && 'set WHARF_DOCKER_TESTS=1 (run under e2e/dist/harness/with-docker.js)';
const IMAGE = 'wharf/busybox:latest';
const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
const engine = new DockerodeEngine(socket);

/** dockerd's network namespace: its pidfile sits next to the test harness's socket. */
function dockerNetns(): string | undefined {
  const pidfile = join(dirname(socket), 'dockerd.pid');
  if (!existsSync(pidfile)) return undefined;
  return processNetns(Number(readFileSync(pidfile, 'utf8').trim()));
}

const hostNs = enabled ? dockerNetns() : undefined;
const host = new Netns(execRunner, hostNs);
const lan: NetworkAttachment = { name: 'wtlan', subnet: '10.250.0.0/24', gateway: '10.250.0.1', uplink: 'wt0' };
const dmz: NetworkAttachment = { name: 'wtdmz', subnet: '10.251.0.0/24', gateway: '10.251.0.1', uplink: 'wt0' };
const attachments = [lan, dmz];
const HOST_IP = '10.250.0.2';

let dataDir = '';
let network: NetworkPlane;
let reconciler: SetReconciler;
const events: SetEvent[] = [];
const hooks = { onEvent: (e: SetEvent) => events.push(e) };

const httpd = ['-c', "mkdir -p /www && echo hello from $(hostname) > /www/index.html && httpd -p 80 -h /www; trap 'exit 0' TERM; sleep 100000 & wait"];

const setObject = (id: number, over: Partial<SetObject>, bandwidth?: number): SetObject =>
  fixture(
    {
      appkey: 'net',
      id,
      resources: { cpu: 0.5, memory: '64Mi', ...(bandwidth ? { bandwidth } : {}) },
      containers: [{ index: 0, image: IMAGE, options: { name: 'web', command: { cmd: 'sh', args: httpd } } }],
    },
    { tenant: 'wharfnet', createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), ...over },
  );

const server = (over: Partial<SetObject> = {}, bandwidth?: number) =>
  setObject(1, { ips: [{ network: 'wtlan', ip: '10.250.0.100' }, { network: 'wtlan', ip: '10.250.0.101' }, { network: 'wtdmz', ip: '10.251.0.100' }], ...over }, bandwidth);
const client = () => setObject(2, { ips: [{ network: 'wtlan', ip: '10.250.0.120' }] });
/** Only the upper half of the subnet, port 80 (the client at .120 is outside). */
const strict: SetFirewall = { allow: [{ cidr: '10.250.0.128/25', ports: [{ port: 80 }] }] };

const statusOf = (r: ReconcileResult): ReportedStatus => {
  assert.ok(r.report && 'status' in r.report);
  return r.report.status;
};
const ids = (s: ReportedStatus): (string | undefined)[] => s.containers.map((c) => c.containerId);

async function exec(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const e = await engine.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.docker.modem.demuxStream(stream, out, out);
  await new Promise((r) => stream.on('end', r));
  const info = await e.inspect();
  return { code: info.ExitCode ?? -1, out: Buffer.concat(chunks).toString().trim() };
}

async function infraPid(ref: string): Promise<number> {
  const infra = (await engine.listSet(ref)).find((c) => c.role === 'infra');
  assert.ok(infra?.pid, `${ref} infra runs`);
  return infra.pid;
}

/** Runs a command in a set's namespace. */
const inSet = async (ref: string, argv: string[]): Promise<string> => new Netns(execRunner, processNetns(await infraPid(ref))).read(argv);

async function cleanup(): Promise<void> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: ['wharf.tenant=wharfnet'] } });
  await Promise.all(list.map((c) => engine.docker.getContainer(c.Id).remove({ force: true })));
  for (const n of ['wharf-wtlan', 'wharf-wtdmz']) await engine.removeNetwork(n).catch(() => undefined);
  for (const link of ['wh-wt0', 'wn-wtdmz', 'wt0']) await host.run({ argv: ['ip', 'link', 'del', link], tolerate: /Cannot find device/ }).catch(() => undefined);
}

before(async () => {
  if (!enabled) return;
  assert.ok(hostNs, `no dockerd.pid next to ${socket}: run under e2e/dist/harness/with-docker.js`);
  await cleanup();
  await host.run(['ip', 'link', 'add', 'wt0', 'type', 'veth', 'peer', 'name', 'wt0p']);
  await host.run(['ip', 'link', 'set', 'wt0p', 'up']);
  await host.run(['ip', 'link', 'set', 'wt0', 'up']);
  await host.run(['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', 'wt0']);
  dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-net-'));
  network = new NetworkPlane({ engine, hostNetns: hostNs });
  const { volumes } = await testVolumes(dataDir);
  reconciler = new SetReconciler({ engine, host: 'local', dataDir, infraImage: IMAGE, infraPrivilege: resolvePrivilege('auto'), log: pino({ level: 'silent' }), exits: new ExitTracker(), network, volumes });
});

after(async () => {
  if (!enabled) return;
  await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

test('real network: the infra container gets its platform IPs (second network by connect, secondary IP on the same network), limits and firewall', { skip }, async () => {
  const t0 = performance.now();
  const r = await reconciler.reconcile(server({}, 40), hooks, { attachments, firewall: strict });
  const st = statusOf(r);
  assert.equal(st.phase, 'running', `${st.message} ${JSON.stringify(events.slice(-3))}`);
  console.log(`# set with 3 IPs, limits and firewall running in ${(performance.now() - t0).toFixed(0)} ms`);

  const infra = await engine.docker.getContainer(st.containers[0]!.containerId!).inspect();
  assert.equal(infra.HostConfig.NetworkMode, 'wharf-wtlan');
  assert.deepEqual(infra.NetworkSettings.Networks['wharf-wtlan']?.IPAMConfig?.IPv4Address, '10.250.0.100');
  assert.deepEqual(infra.NetworkSettings.Networks['wharf-wtdmz']?.IPAMConfig?.IPv4Address, '10.251.0.100');
  assert.deepEqual(infra.HostConfig.PortBindings ?? {}, {});
  // Docker allows one macvlan network per parent: the second one hangs off a stand-in on the same uplink.
  assert.equal((await engine.inspectNetwork('wharf-wtdmz'))?.parent, 'wn-wtdmz');

  const ref = 'wharfnet/net/1';
  const addrs = await inSet(ref, ['ip', '-4', '-o', 'addr', 'show']);
  for (const ip of ['10.250.0.100/24', '10.250.0.101/24', '10.251.0.100/24']) assert.match(addrs, new RegExp(ip.replace(/\./g, '\\.')), addrs);
  assert.match(await inSet(ref, ['ip', 'route', 'show', 'default']), /default via 10\.250\.0\.1 dev/);

  const qdiscs = await inSet(ref, ['tc', 'qdisc', 'show']);
  assert.match(qdiscs, /qdisc tbf \S+ dev eth0 root .*rate 40Mbit/);
  assert.match(qdiscs, /qdisc tbf \S+ dev eth1 root .*rate 40Mbit/);
  assert.match(qdiscs, /qdisc tbf \S+ dev wharf-ifb root .*rate 40Mbit/);
  assert.match(qdiscs, /qdisc ingress ffff: dev eth0/);
  const rules = await inSet(ref, ['iptables', '-S']);
  assert.match(rules, /-A INPUT -j WHARF-IN/);
  assert.match(rules, /-A WHARF-IN -s 10\.250\.0\.128\/25 -p tcp -m tcp --dport 80 -j ACCEPT/);
  assert.match(rules, new RegExp(`-A WHARF-IN -s ${HOST_IP.replace(/\./g, '\\.')}/32 -j ACCEPT`));

  const again = await reconciler.reconcile(server({ generation: 2 }, 40), hooks, { attachments, firewall: strict });
  assert.deepEqual(again.actions, []);
  assert.deepEqual(ids(statusOf(again)), ids(st));
});

test('real network: the host reaches its sets through the shim, and only through it', { skip }, async () => {
  const wget = (ip: string) => host.run({ argv: ['timeout', '3', 'busybox', 'wget', '-q', '-O', '-', `http://${ip}/`], tolerate: /.*/s });
  await network.syncShims([], attachments);
  assert.notEqual((await wget('10.250.0.100')).code, 0, 'a macvlan child cannot talk to its parent');
  const cmds = await network.syncShims([server()], attachments);
  assert.ok(cmds.includes(`ip route replace 10.250.0.100/32 dev wh-wt0 src ${HOST_IP}`), cmds.join('\n'));
  for (const ip of ['10.250.0.100', '10.250.0.101', '10.251.0.100']) {
    const r = await wget(ip);
    assert.equal(r.code, 0, `${ip}: ${r.stderr}`);
    assert.match(r.stdout, /^hello from /);
  }
  assert.deepEqual(await network.syncShims([server()], attachments), [], 'in step: nothing to do');
});

test('real network: the firewall shuts out other sources and opens when the server says so', { skip }, async () => {
  const c = statusOf(await reconciler.reconcile(client(), hooks, { attachments }));
  assert.equal(c.phase, 'running', c.message);
  const web = c.containers[1]!.containerId!;
  const fetch = () => exec(web, ['timeout', '2', 'wget', '-q', '-O', '-', 'http://10.250.0.100/']);
  assert.notEqual((await fetch()).code, 0, 'client .120 is outside 10.250.0.128/25');
  const opened = await reconciler.reconcile(server({}, 40), hooks, { attachments, firewall: { allow: [...strict.allow, { cidr: '10.250.0.120/32' }] } });
  assert.deepEqual(opened.actions, []);
  const r = await fetch();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^hello from /);
  // No entry: not filtered at all (the chain goes).
  await reconciler.reconcile(server({}, 40), hooks, { attachments });
  assert.doesNotMatch(await inSet('wharfnet/net/1', ['iptables', '-S']), /WHARF-IN/);
  await reconciler.reconcile(server({}, 40), hooks, { attachments, firewall: strict });
  assert.notEqual((await fetch()).code, 0, 'shut again');
});

test('real network: a new limit is applied online (no container touched), no limit removes the qdiscs', { skip }, async () => {
  const before = statusOf(await reconciler.reconcile(server({}, 40), hooks, { attachments, firewall: strict }));
  const r = await reconciler.reconcile(server({ generation: 3 }, 80), hooks, { attachments, firewall: strict });
  assert.deepEqual(r.actions, []);
  assert.deepEqual(ids(statusOf(r)), ids(before));
  const qdiscs = await inSet('wharfnet/net/1', ['tc', 'qdisc', 'show']);
  assert.match(qdiscs, /dev eth0 root .*rate 80Mbit/);
  assert.match(qdiscs, /dev wharf-ifb root .*rate 80Mbit/);
  assert.equal((await inSet('wharfnet/net/1', ['tc', 'filter', 'show', 'dev', 'eth0', 'parent', 'ffff:'])).match(/mirred/g)?.length, 1, 'one redirect, not one per apply');

  const none = await reconciler.reconcile(server({ generation: 4 }), hooks, { attachments, firewall: strict });
  assert.deepEqual(ids(statusOf(none)), ids(before));
  const after = await inSet('wharfnet/net/1', ['tc', 'qdisc', 'show']);
  assert.doesNotMatch(after, /tbf|ingress|wharf-ifb/);
});

test('real network: the IPs stay across an infra restart, and the namespace is programmed again', { skip }, async () => {
  const st = statusOf(await reconciler.reconcile(server({ generation: 5 }, 40), hooks, { attachments, firewall: strict }));
  const infraId = st.containers[0]!.containerId!;
  await engine.docker.getContainer(infraId).restart({ t: 1 });
  const r = await reconciler.reconcile(server({ generation: 5 }, 40), hooks, { attachments, firewall: strict });
  assert.deepEqual(r.actions, ['stop web', 'restart web']);
  assert.equal(statusOf(r).containers[0]?.containerId, infraId, 'not recreated');
  const addrs = await inSet('wharfnet/net/1', ['ip', '-4', '-o', 'addr', 'show']);
  for (const ip of ['10.250.0.100/24', '10.250.0.101/24', '10.251.0.100/24']) assert.ok(addrs.includes(ip), `${ip} after restart:\n${addrs}`);
  assert.match(await inSet('wharfnet/net/1', ['tc', 'qdisc', 'show']), /dev wharf-ifb root .*rate 40Mbit/);
  assert.match(await inSet('wharfnet/net/1', ['iptables', '-S']), /-A INPUT -j WHARF-IN/);
  const res = await host.run({ argv: ['timeout', '3', 'busybox', 'wget', '-q', '-O', '-', 'http://10.250.0.100/'], tolerate: /.*/s });
  assert.equal(res.code, 0, 'the host reaches the set again');
});

test('real network: a VLAN network on a kernel without 8021q fails with a clear message', { skip }, async () => {
  const vlan = { name: 'wtvlan', subnet: '10.252.0.0/24', gateway: '10.252.0.1', uplink: 'wt0p', vlan: 10 };
  try {
    await network.ensureNetworks([{ network: 'wtvlan', ip: '10.252.0.5' }], [vlan]);
    console.log('# this kernel has 8021q: the VLAN network was created');
  } catch (err) {
    assert.match((err as Error).message, /^cannot create Docker network wharf-wtvlan for platform network wtvlan \(macvlan on wt0p\.10, VLAN 10 of wt0p, subnet 10\.252\.0\.0\/24\): .+; VLAN sub-interfaces need the 8021q kernel module on the host$/);
    console.log(`# ${(err as Error).message}`);
  } finally {
    await engine.removeNetwork('wharf-wtvlan');
  }
});

test('real network: deleting the sets removes their shim routes', { skip }, async () => {
  for (const s of [server({ generation: 6 }), client()]) {
    const r = await reconciler.reconcile({ ...s, deleting: true }, hooks, { attachments });
    assert.deepEqual(r.report, { deleted: true });
  }
  const cmds = await network.syncShims([], attachments);
  assert.ok(cmds.includes('ip link del wh-wt0'), cmds.join('\n'));
  assert.doesNotMatch(await host.read(['ip', 'route', 'show']), /10\.250\.0\.100/);
});
