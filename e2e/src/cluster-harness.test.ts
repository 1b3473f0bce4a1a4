/**
 * The multi-host harness itself, on 3 hosts: agents register with their zone and
 * rack, hosts reach each other over the switch, a cut cable and a killed host behave
 * as the failure tests expect, and stop() leaves nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Cluster } from './harness/cluster.js';
import { cmdline } from './harness/docker-host.js';
import { quiet, waitFor } from './harness/exec.js';
import { listNetns } from './harness/network.js';

describe('cluster harness (3 hosts)', () => {
  let cluster: Cluster | undefined;
  let startedInMs = 0;

  before(async () => {
    const t0 = Date.now();
    cluster = await Cluster.start(3);
    startedInMs = Date.now() - t0;
  });

  after(async () => {
    await cluster?.stop();
  });

  it('registers every agent ready with its zone and rack', async (t) => {
    t.diagnostic(`3-host cluster up in ${startedInMs} ms`);
    const c = cluster as Cluster;
    const hosts = await c.platform.client.listHosts();
    assert.deepEqual(
      hosts.map((h) => [h.name, h.zone, h.rack, h.state]).sort(),
      [['h1', 'z1', 'r1', 'ready'], ['h2', 'z1', 'r2', 'ready'], ['h3', 'z2', 'r3', 'ready']],
    );
  });

  it('cables every host to the switch: eth0 with its address, a bridge port in the switch namespace', async () => {
    const c = cluster as Cluster;
    for (const [i, h] of c.hosts.entries()) {
      assert.equal(h.address, c.addressOf(i));
      const eth0 = await c.exec(h.name, 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      assert.match(eth0.stdout, new RegExp(`inet ${h.address?.replace(/\./g, '\\.')}/24`));
      assert.match(quiet('ip', ['-n', c.switch.netns, '-o', 'link', 'show', 'master', c.switch.bridge]), new RegExp(`${h.uplink?.port}@`));
    }
    // The root namespace got nothing: no bridge, no veth end.
    assert.doesNotMatch(quiet('ip', ['-o', 'link']), /veth-h\d/);
  });

  it('lets every host ping every other over the bridge', async () => {
    const c = cluster as Cluster;
    for (const from of c.hosts) {
      for (const to of c.hosts) {
        if (from !== to) assert.ok(await c.ping(from.name, to.name), `${from.name} → ${to.name} (${to.address})`);
      }
      assert.ok(await c.ping(from.name, c.gateway), `${from.name} → switch ${c.gateway}`);
    }
  });

  it('cutNetwork isolates a host and healNetwork reconnects it', async () => {
    const c = cluster as Cluster;
    await c.cutNetwork('h3');
    assert.equal(await c.ping('h1', 'h3'), false);
    assert.equal(await c.ping('h3', 'h2'), false);
    assert.ok(await c.ping('h1', 'h2'), 'the others still reach each other');
    await c.healNetwork('h3');
    await waitFor('h3 reachable again', () => c.ping('h1', 'h3'), 10_000, 200);
  });

  it('killHost kills agent and dockerd but not containers; reviveHost brings the host back', async () => {
    const c = cluster as Cluster;
    const h2 = c.host('h2');
    const run = await h2.docker(['run', '-d', '--name', 'survivor', 'wharf/busybox:latest', 'sleep', '3600']);
    assert.equal(run.code, 0, run.stderr);
    const pidBefore = (await h2.inspect('survivor')).State.Pid as number;
    const agentPid = c.platform.agentPid('h2');
    const dockerdPid = h2.dockerdPid();
    assert.ok(agentPid && dockerdPid);

    await c.killHost('h2');
    assert.equal(cmdline(agentPid), '');
    assert.equal(cmdline(dockerdPid), '');
    assert.equal(h2.dockerdPid(), undefined);
    assert.notEqual((await h2.docker(['version'])).code, 0, 'dockerd does not answer');
    assert.match(cmdline(pidBefore), /sleep 3600/, 'the container runs on under its shim');

    const back = await c.reviveHost('h2');
    assert.equal(back?.state, 'ready');
    assert.equal(back?.zone, 'z1');
    const after = (await h2.inspect('survivor')).State;
    assert.equal(after.Running, true);
    assert.equal(after.Pid, pidBefore, 'live-restore re-attached the same container process');
  });

  it('stop() removes every namespace, veth, bridge, directory and process it created', async () => {
    const c = cluster as Cluster;
    const netns = [c.switch.netns, ...c.hosts.map((h) => h.netns)];
    const dirs = [...c.hosts.flatMap((h) => [h.execRoot, h.dataRoot, h.logFile]), c.platform.dir];
    const sockets = c.hosts.map((h) => h.socket);
    const ports = c.hosts.map((h) => h.uplink?.port ?? '?');
    const pids = [...c.hosts.map((h) => h.dockerdPid()), ...c.hosts.map((h) => c.platform.agentPid(h.name))];
    for (const ns of netns) assert.ok(listNetns().includes(ns), `${ns} exists before stop()`);

    await c.stop();
    cluster = undefined;

    const left = listNetns();
    for (const ns of netns) assert.ok(!left.includes(ns), `netns ${ns} is gone (ip netns list: ${left.join(', ')})`);
    const links = quiet('ip', ['-o', 'link']);
    for (const p of [...ports, 'br0']) assert.doesNotMatch(links, new RegExp(`: ${p}[@:]`), `no link ${p} in the root namespace`);
    for (const d of dirs) assert.equal(existsSync(d), false, `${d} is removed`);
    const mounts = quiet('findmnt', ['-rn', '-o', 'TARGET']).split('\n');
    for (const d of dirs) assert.deepEqual(mounts.filter((m) => m === d || m.startsWith(`${d}/`)), [], `no mount left under ${d}`);
    for (const pid of pids) if (pid) assert.equal(cmdline(pid), '', `process ${pid} has exited`);
    const ps = quiet('ps', ['-eo', 'args']);
    for (const s of sockets) assert.ok(!ps.includes(s), `nothing runs with ${s}`);
  });
});
