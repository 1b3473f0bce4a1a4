import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeEngine } from '../docker/fake-engine.js';
import { RecordingRunner } from '../testing/recording-runner.js';
import { aliasParent, desiredNetwork, DockerNetworks, macvlanParent, networkMismatch } from './docker-networks.js';
import { Netns } from './netns.js';

const lan = { name: 'lan', subnet: '10.0.0.0/24', gateway: '10.0.0.1', uplink: 'eth0' };

test('docker networks: name, parent (VLAN sub-interface), labels', () => {
  assert.deepEqual(desiredNetwork(lan), { name: 'wharf-lan', subnet: '10.0.0.0/24', gateway: '10.0.0.1', parent: 'eth0', labels: { 'wharf.managed': 'true', 'wharf.network': 'lan' } });
  assert.equal(macvlanParent({ uplink: 'eth1', vlan: 42 }), 'eth1.42');
  assert.equal(aliasParent('tiny'), 'wn-tiny');
  assert.ok(aliasParent('a-very-long-network-name').length <= 15);
});

test('docker networks: what counts as different', () => {
  const want = desiredNetwork(lan);
  const base = { id: 'n1', name: 'wharf-lan', driver: 'macvlan', subnets: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }], parent: 'eth0', labels: {} };
  const cases: [Partial<typeof base>, string | undefined][] = [
    [{}, undefined],
    [{ parent: 'wn-lan' }, undefined],
    [{ parent: 'eth1' }, 'parent eth1 (not eth0)'],
    [{ subnets: [{ subnet: '10.0.0.0/16', gateway: '10.0.0.1' }] }, 'subnet 10.0.0.0/16 (not 10.0.0.0/24)'],
    [{ subnets: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.254' }] }, 'gateway 10.0.0.254 (not 10.0.0.1)'],
    [{ driver: 'bridge', parent: undefined as unknown as string }, 'driver bridge (not macvlan), parent none (not eth0)'],
  ];
  for (const [over, want2] of cases) assert.equal(networkMismatch({ ...base, ...over }, want, 'lan'), want2, JSON.stringify(over));
});

function setup() {
  const engine = new FakeEngine();
  const runner = new RecordingRunner();
  const nets = new DockerNetworks(engine, new Netns(runner.run, '/run/netns/h1'));
  return { engine, runner, nets };
}

test('docker networks: created once, then found as is', async () => {
  const { engine, nets } = setup();
  assert.deepEqual(await nets.ensure(lan), { created: true });
  assert.deepEqual(await nets.ensure(lan), {});
  assert.deepEqual(engine.calls, ['createNetwork wharf-lan 10.0.0.0/24 parent=eth0']);
  // Concurrent ensures of one network create it once.
  const { engine: e2, nets: n2 } = setup();
  await Promise.all([n2.ensure(lan), n2.ensure(lan), n2.ensure(lan)]);
  assert.deepEqual(e2.calls, ['createNetwork wharf-lan 10.0.0.0/24 parent=eth0']);
});

test('docker networks: a different one is recreated when unused, kept with a warning when used', async () => {
  const { engine, nets } = setup();
  await nets.ensure(lan);
  const moved = { ...lan, subnet: '10.5.0.0/24', gateway: '10.5.0.1' };
  assert.deepEqual(await nets.ensure(moved), { created: true });
  assert.deepEqual(engine.calls.slice(1), ['removeNetwork wharf-lan', 'createNetwork wharf-lan 10.5.0.0/24 parent=eth0']);

  engine.images.add('i');
  await engine.create({ dockerName: 'x', image: 'i', env: [], labels: {}, ports: [], privileged: false, ipcMode: '', networkMode: 'wharf-lan', ips: [{ network: 'wharf-lan', ip: '10.5.0.9' }], binds: [], restartPolicy: 'unless-stopped' });
  const r = await nets.ensure(lan);
  assert.match(r.warning ?? '', /^Docker network wharf-lan has subnet 10\.5\.0\.0\/24 \(not 10\.0\.0\.0\/24\), gateway 10\.5\.0\.1 \(not 10\.0\.0\.1\); it is kept because 1 container\(s\) use it/);
});

test('docker networks: a second network on the same uplink gets a stand-in parent (Docker allows one macvlan network per parent)', async () => {
  const { engine, runner, nets } = setup();
  await nets.ensure(lan);
  await nets.ensure({ name: 'tiny', subnet: '10.9.0.0/24', gateway: '10.9.0.1', uplink: 'eth0' });
  assert.deepEqual(runner.lines(), ['nsenter --net=/run/netns/h1 ip link add wn-tiny link eth0 type macvlan mode bridge']);
  assert.deepEqual(engine.calls, ['createNetwork wharf-lan 10.0.0.0/24 parent=eth0', 'createNetwork wharf-tiny 10.9.0.0/24 parent=wn-tiny']);
  // And it counts as matching from then on.
  assert.deepEqual(await nets.ensure({ name: 'tiny', subnet: '10.9.0.0/24', gateway: '10.9.0.1', uplink: 'eth0' }), {});
});

test('docker networks: a failure says which network, how, and for a VLAN what the kernel needs', async () => {
  const { engine, nets } = setup();
  engine.failNext.set('createNetwork', 'failed to create the macvlan port: operation not supported');
  await assert.rejects(nets.ensure({ ...lan, vlan: 10 }), {
    message: 'cannot create Docker network wharf-lan for platform network lan (macvlan on eth0.10, VLAN 10 of eth0, subnet 10.0.0.0/24): failed to create the macvlan port: operation not supported; VLAN sub-interfaces need the 8021q kernel module on the host',
  });
});

test('docker networks: two networks on one uplink ensured at once: one takes the uplink, the other the stand-in', async () => {
  const { engine, nets } = setup();
  await Promise.all([nets.ensure(lan), nets.ensure({ name: 'tiny', subnet: '10.9.0.0/24', gateway: '10.9.0.1', uplink: 'eth0' })]);
  assert.deepEqual([...engine.networks.values()].map((n) => `${n.name} ${n.parent}`), ['wharf-lan eth0', 'wharf-tiny wn-tiny']);
});
