/**
 * The leak checker finds what is planted, by name, on both sides, and nothing on a
 * clean platform: first on inventories written by hand, then on a real one-host
 * platform where each kind of leak is made for real (a container with Wharf's labels
 * run by hand, a set's container removed, a subvolume, recycle-bin metadata, a
 * host-shim route, a cgroup and an IPAM allocation with no set), while a container
 * another engine on the machine starts meanwhile is not reported. A stale qgroup is
 * checked on inventories only: this kernel (6.x) drops a deleted subvolume's qgroup
 * itself and refuses to create a level-0 one without its subvolume.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '@wharf/store';
import { Cluster } from './cluster.js';
import { must, quiet } from './exec.js';
import { LOOP } from './images.js';
import { containerCgroups, findLeaks, formatLeaks, LeakChecker, type HostInventory, type Inventory } from './leaks.js';

const host = (over: Partial<HostInventory> = {}): HostInventory => ({
  host: 'h1', allIds: [], containers: [], volumes: [], trashSubvolumes: [], trashMeta: [], staleQgroups: [], shimRoutes: [], shims: [], ...over,
});
const ID = (n: number) => String(n).repeat(64).slice(0, 64);

describe('findLeaks', () => {
  const clean: Inventory = {
    store: {
      sets: [{ ref: 'default/web/1', host: 'h1', status: 'running', ips: ['lan/10.0.0.100'] }],
      allocations: [{ ip: 'lan/10.0.0.100', ref: 'default/web/1' }],
    },
    hosts: [host({
      allIds: [ID(1), ID(2)],
      containers: [
        { id: ID(1), name: 'default_web_1_infra', set: 'default/web/1', role: 'infra', state: 'running', ips: ['lan/10.0.0.100'] },
        { id: ID(2), name: 'default_web_1_app', set: 'default/web/1', role: 'business', state: 'running', ips: [] },
      ],
      volumes: ['default/web/1'],
      trashSubvolumes: ['t1'],
      trashMeta: ['t1'],
      shimRoutes: ['10.0.0.100'],
      shims: [ID(1), ID(2)],
    }), host({ host: 'h2' })],
    cgroups: [`memory/docker/${ID(1)}`, `pids/docker/${ID(2)}`],
  };

  it('finds nothing when both sides agree', () => {
    assert.deepEqual(findLeaks(clean), []);
  });

  it('names every orphan on either side', () => {
    const inv = structuredClone(clean);
    const h1 = inv.hosts[0] as HostInventory;
    const h2 = inv.hosts[1] as HostInventory;
    h1.containers.pop(); // the set's business container is gone
    h2.allIds.push(ID(3));
    h2.containers.push({ id: ID(3), name: 'default_web_1_app', set: 'default/web/1', role: 'business', state: 'running', ips: [] }); // …and runs on the wrong host
    h1.volumes.push('default/gone/2');
    h1.trashMeta.push('t2');
    h1.trashSubvolumes.push('t3');
    h1.staleQgroups.push('0/300');
    h1.shimRoutes.push('10.0.0.200');
    h1.shims.push(ID(4));
    (h1.containers[0] as { ips: string[] }).ips = ['lan/10.0.0.101'];
    inv.store.allocations.push({ ip: 'lan/10.0.0.150', ref: 'default/gone/2' });
    inv.store.sets.push({ ref: 'default/web/2', host: 'h2', status: 'pending', ips: ['lan/10.0.0.102'] });
    inv.cgroups.push(`memory/docker/${ID(5)}`);
    assert.deepEqual(findLeaks(inv).map((l) => `${l.kind} ${l.host ?? '-'} ${l.name}`), [
      `cgroup - memory/docker/${ID(5)}`,
      'container h2 default_web_1_app',
      'docker-ip h1 lan/10.0.0.101',
      'ip - lan/10.0.0.150',
      'qgroup h1 0/300',
      'route h1 10.0.0.200',
      'set-containers - default/web/1',
      'set-ip - lan/10.0.0.102',
      `shim h1 ${ID(4)}`,
      'trash h1 t2',
      'trash h1 t3',
      'volume h1 default/gone/2',
    ]);
  });
});

describe('LeakChecker on a real platform (1 host)', () => {
  let cluster: Cluster | undefined;
  let checker: LeakChecker;
  const cgroup = `/sys/fs/cgroup/memory/docker/${randomBytes(32).toString('hex')}`;
  // Another engine: the private dockerd the tests run beside (as a test file running
  // at the same time has its own).
  const other = ['-H', process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'];
  const foreign = `leakcheck-foreign-${process.pid}`;

  before(async () => {
    cluster = await Cluster.start(1);
    await cluster.addLan();
    checker = await LeakChecker.start(cluster.platform);
  });

  after(async () => {
    quiet('docker', [...other, 'rm', '-f', foreign]);
    try {
      rmdirSync(cgroup);
    } catch {
      // not planted
    }
    await cluster?.stop();
  });

  it('finds nothing on a clean platform, then every planted leak by name and nothing else', async () => {
    const c = cluster as Cluster;
    const p = c.platform;
    const h = c.host('h1');
    await p.client.applySet({
      appkey: 'leakcheck', id: 1, resources: { cpu: 0.1, memory: '32Mi', disk: '64Mi' },
      containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
    });
    const set = await p.waitRunning('leakcheck', 1);
    const setIp = set.ips[0]?.ip;
    assert.ok(setIp, 'the set has a lan address');
    const foreignId = (await must('docker', [...other, 'run', '-d', '--name', foreign, 'wharf/busybox:latest', '/bin/sh', '-c', LOOP])).trim();
    assert.ok((await containerCgroups()).some((p) => p.endsWith(foreignId)), `the other engine's container ${foreignId} has a cgroup on this machine`);
    const clean = await checker.check({ settleMs: 20_000 });
    assert.deepEqual(clean, [], formatLeaks(clean));

    // The agent would repair some of these: plant them with it stopped.
    await p.stopAgent('h1');
    const prefix = c.gateway.replace(/\.1$/, '');
    const pool = join(p.agentDataDir('h1'), 'pool');
    await must('docker', ['-H', `unix://${h.socket}`, 'run', '-d', '--name', 'ghost', '--label', 'wharf.managed=true', '--label', 'wharf.set=default/ghost/1',
      '--label', 'wharf.role=business', 'wharf/busybox:latest', '/bin/sh', '-c', LOOP]);
    await must('docker', ['-H', `unix://${h.socket}`, 'rm', '-f', 'default_leakcheck_1_app']);
    mkdirSync(join(pool, 'volumes/default/ghost'), { recursive: true });
    await must('btrfs', ['subvolume', 'create', join(pool, 'volumes/default/ghost/2')]);
    writeFileSync(join(pool, 'trash/ghost-trash.json'), '{}');
    await must('ip', ['-n', h.netns, 'route', 'add', `${prefix}.250/32`, 'dev', 'wh-eth0']);
    mkdirSync(cgroup);
    await p.stopServer();
    const store = SqliteStore.open(join(p.serverDir, 'wharf.db'));
    await store.put(`/ipam/lan/${prefix}.251`, { network: 'lan', ip: `${prefix}.251`, tenant: 'default', appkey: 'ghost', id: '3', primary: true, allocatedAt: new Date().toISOString() });
    await store.close();
    await p.startServer();

    const found = await checker.check();
    assert.deepEqual(found.map((l) => `${l.kind} ${l.host ?? '-'} ${l.name}`), [
      `cgroup - ${cgroup.replace('/sys/fs/cgroup/', '')}`,
      'container h1 ghost',
      `ip - lan/${prefix}.251`,
      `route h1 ${prefix}.250`,
      'set-containers - default/leakcheck/1',
      'trash h1 ghost-trash',
      'volume h1 default/ghost/2',
    ], formatLeaks(found));
    assert.match(formatLeaks(found), /container\s+h1: ghost — running container \(business\) of set default\/ghost\/1 is not in the store/);
    quiet('btrfs', ['subvolume', 'delete', join(pool, 'volumes/default/ghost/2')]);
  });
});
