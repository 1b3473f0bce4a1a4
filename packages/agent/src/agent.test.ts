import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetObject, StatusReport } from '@wharf/types';
import { changedGroups, startAgent } from './agent.js';
import { FakeEngine } from './docker/fake-engine.js';
import { FakeServer } from './testing/fake-server.js';
import { setObject as fixture } from './testing/fixtures.js';
import { RecordingRunner } from './testing/recording-runner.js';
import { DirDriver } from './testing/dir-volumes.js';

const setObject = (over: Partial<SetObject> = {}): SetObject =>
  fixture({ appkey: 'app', id: 1, containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'web' } }] }, over);

const phaseOf = (r: StatusReport, id = '1'): string | undefined => r.sets.find((s) => s.id === id)?.status?.phase;

test('agent: registers, runs the desired sets, reports, follows Docker events and removes orphans', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-e2e-'));
  const server = await new FakeServer().start();
  const engine = new FakeEngine(['wharf/busybox:latest']);
  // A leftover of a set this host no longer runs.
  const orphan = await engine.create({
    dockerName: 't_gone_9_infra', image: 'wharf/busybox:latest', env: [], ports: [], privileged: true, ipcMode: 'shareable', networkMode: 'default', binds: [], restartPolicy: 'unless-stopped',
    labels: { 'wharf.managed': 'true', 'wharf.set': 't/gone/9', 'wharf.tenant': 't', 'wharf.app': 'gone', 'wharf.set-id': '9', 'wharf.name': 'infra', 'wharf.role': 'infra', 'wharf.index': '-1' },
  });
  server.sets = [setObject()];
  const agent = await startAgent({
    server: server.url, joinToken: 'jt', name: 'h1', dataDir, listen: '127.0.0.1:0', engine, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), heartbeatIntervalSeconds: 0.2,
    volumes: new DirDriver(dataDir),
  });
  try {
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const running = await server.waitForReport((r) => phaseOf(r) === 'running');
    const set = running.sets.find((s) => s.id === '1');
    assert.equal(set?.status?.host, 'h1');
    assert.deepEqual(set?.status?.containers.map((c) => c.name), ['infra', 'web']);
    const reg = server.registrations[0];
    assert.equal(reg?.name, 'h1');
    assert.equal(reg?.agentUrl, agent.url);
    assert.equal(reg?.dockerVersion, '20.10.0-fake');
    assert.ok((reg?.capacity.cpu ?? 0) > 0 && (reg?.capacity.memory ?? 0) > 0 && (reg?.capacity.disk ?? 0) > 0);
    assert.deepEqual(reg?.images, ['wharf/busybox:latest']);
    assert.ok(server.authHeaders.every((h) => h === 'Bearer jt'));

    // The orphan goes once the first desired answer is in.
    for (let i = 0; i < 100 && engine.containers.has(orphan); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(engine.containers.has(orphan), false);

    // A crash: Died event reported, container started again.
    const startedAt = set?.status?.containers[1]?.startedAt;
    engine.kill('web', 3);
    const died = await server.waitForReport((r) => r.sets.some((s) => s.events?.some((e) => e.reason === 'Died' && /exited with code 3/.test(e.message))));
    assert.ok(died);
    await server.waitForReport((r) => {
      const web = r.sets[0]?.status?.containers[1];
      return phaseOf(r) === 'running' && web?.state === 'running' && web.startedAt !== startedAt;
    });

    // Stop, then delete.
    server.setDesired([setObject({ desired: 'stopped', generation: 2 })]);
    await server.waitForReport((r) => phaseOf(r) === 'stopped');
    server.setDesired([setObject({ deleting: true, generation: 3 })]);
    await server.waitForReport((r) => r.sets.some((s) => s.id === '1' && s.deleted === true));
    assert.equal(engine.containers.size, 0);

    // And a new set, then stop the agent: its containers keep running.
    server.setDesired([setObject({ id: '2', spec: { ...setObject().spec, id: 2 } })]);
    await server.waitForReport((r) => phaseOf(r, '2') === 'running');
  } finally {
    const t0 = Date.now();
    await agent.stop();
    assert.ok(Date.now() - t0 < 2_000, `stop took ${Date.now() - t0} ms`);
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  assert.equal([...engine.containers.values()].filter((c) => c.state === 'running').length, 2, 'stopping the agent stops no container');
});

test('agent: declares its networks and bandwidth; applies firewall updates and keeps the host shim in step with the sets', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-e2e-'));
  const server = await new FakeServer().start();
  const engine = new FakeEngine(['wharf/busybox:latest']);
  const runner = new RecordingRunner();
  runner.answer(/ns\/net ip -j -4 addr show$/, (c) =>
    c.argv[1] === '--net=/proc/self/ns/net'
      ? { stdout: JSON.stringify([{ ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.12', prefixlen: 24 }] }]) }
      : { stdout: JSON.stringify([{ ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.100', prefixlen: 24 }] }]) },
  );
  runner.answer(/unshare --mount/, { stdout: '10000\n' });
  const lan = { name: 'lan', subnet: '10.0.0.0/24', gateway: '10.0.0.1', uplink: 'eth0' };
  const withIp = setObject({ ips: [{ network: 'lan', ip: '10.0.0.100' }] });
  server.setDesired([withIp], { networks: [lan], firewall: { 't/app/1': { allow: [{ cidr: '10.0.0.0/24' }] } } });
  const agent = await startAgent({
    server: server.url, name: 'h1', dataDir, listen: '127.0.0.1:0', engine, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), heartbeatIntervalSeconds: 0.2,
    networks: [{ name: 'lan', uplink: 'eth0' }], netns: '/proc/self/ns/net', runCommand: runner.run, volumes: new DirDriver(dataDir),
  });
  const restores = () => runner.calls.filter((c) => c.argv.includes('iptables-restore'));
  const waitFor = async (what: string, pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(pred(), what);
  };
  try {
    await server.waitForReport((r) => phaseOf(r) === 'running');
    const reg = server.registrations[0];
    assert.deepEqual(reg?.networks, [{ name: 'lan', uplink: 'eth0' }]);
    assert.equal(reg?.capacity.bandwidth, 10000, "the uplink's speed, read in the Docker host's namespace");
    assert.equal(engine.byName('t_app_1_infra')?.config.networkMode, 'wharf-lan');
    await waitFor('shim route', () => runner.lines('/proc/self/ns/net').includes('ip route replace 10.0.0.100/32 dev wh-eth0 src 10.0.0.12'));
    assert.equal(restores().length, 1);

    // The server pushes a new firewall (a set came elsewhere): applied at once, no container touched.
    const ids = [...engine.containers.keys()];
    server.setDesired([withIp], { firewall: { 't/app/1': { allow: [{ cidr: '10.0.0.0/24' }, { cidr: '10.7.0.1/32' }] } } });
    await waitFor('firewall update', () => restores().length === 2);
    assert.match(restores()[1]?.input ?? '', /-s 10\.7\.0\.1\/32 -j ACCEPT/);
    assert.deepEqual([...engine.containers.keys()], ids);

    // Rules that name the tenant's address group, sent once in the answer: a reconcile writes them expanded.
    let lists = 0;
    const listSet = engine.listSet.bind(engine);
    engine.listSet = async (ref) => {
      lists++;
      return listSet(ref);
    };
    server.setDesired([withIp], { firewall: { 't/app/1': { allow: [{ group: 'tenant:t' }] } }, addressGroups: { 'tenant:t': ['10.0.0.100/32'] } });
    await waitFor('firewall with a group', () => restores().length === 3);
    assert.match(restores()[2]?.input ?? '', /-s 10\.0\.0\.100\/32 -j ACCEPT\n-A WHARF-IN -j DROP/);
    const reconciles = lists;
    assert.ok(reconciles > 0);
    // A new member only (a set of the tenant came elsewhere): the firewall is rewritten without a reconcile.
    server.setDesired([withIp], { addressGroups: { 'tenant:t': ['10.0.0.100/32', '10.0.0.101/32'] } });
    await waitFor('group refresh', () => restores().length === 4);
    assert.match(restores()[3]?.input ?? '', /-s 10\.0\.0\.100\/32 -j ACCEPT\n-A WHARF-IN -s 10\.0\.0\.101\/32 -j ACCEPT\n-A WHARF-IN -j DROP/);
    assert.equal(lists, reconciles, 'no reconcile for a new member');
    assert.deepEqual([...engine.containers.keys()], ids);

    // The set goes: its containers and its shim route.
    runner.answer(/ip -j -4 route show table main$/, { stdout: JSON.stringify([{ dst: '10.0.0.100', dev: 'wh-eth0', prefsrc: '10.0.0.12' }]) });
    runner.answer(/ip -j link show type macvlan$/, { stdout: JSON.stringify([{ ifname: 'wh-eth0', flags: ['UP'] }]) });
    server.setDesired([setObject({ ips: [{ network: 'lan', ip: '10.0.0.100' }], deleting: true, generation: 2 })]);
    await server.waitForReport((r) => r.sets.some((s) => s.id === '1' && s.deleted === true));
    await waitFor('shim removed', () => runner.lines('/proc/self/ns/net').includes('ip link del wh-eth0'));
  } finally {
    await agent.stop();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('agent: probe verdicts reach the server at once; a failing liveness probe restarts the container; after an agent restart the first report waits for the probes', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-e2e-'));
  const server = await new FakeServer().start();
  const engine = new FakeEngine(['wharf/busybox:latest']);
  const state = { ready: false, alive: true };
  engine.execHandler = (_c, cmd) => ({ exitCode: (cmd[0] === 'ready' ? state.ready : state.alive) ? 0 : 1, output: cmd[0] === 'alive' && !state.alive ? 'dead inside' : '' });
  const set = setObject();
  set.spec.containers[0]!.options.readiness = { exec: { command: ['ready'] }, periodSeconds: 1 };
  set.spec.containers[0]!.options.liveness = { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 2 };
  server.sets = [set];
  const start = () =>
    startAgent({ server: server.url, name: 'h1', dataDir, listen: '127.0.0.1:0', engine, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), heartbeatIntervalSeconds: 0.2, volumes: new DirDriver(dataDir) });
  const web = (r: StatusReport) => r.sets.find((s) => s.id === '1')?.status?.containers.find((c) => c.name === 'web');
  let agent = await start();
  try {
    const first = await server.waitForReport((r) => phaseOf(r) === 'running');
    assert.equal(first.sets[0]?.status?.ready, false);
    assert.equal(web(first)?.ready, false);
    assert.equal(web(first)?.healthy, true);

    state.ready = true;
    const t0 = Date.now();
    const ready = await server.waitForReport((r) => r.sets[0]?.status?.ready === true);
    assert.equal(web(ready)?.ready, true);
    // Pushed on the change, not left for the 30 s resync.
    assert.ok(Date.now() - t0 < 10_000, `readiness reported after ${Date.now() - t0} ms`);

    const id = web(ready)?.containerId;
    state.alive = false;
    const unhealthy = await server.waitForReport((r) => r.sets.some((s) => s.events?.some((e) => e.reason === 'Unhealthy')));
    state.alive = true;
    const event = unhealthy.sets[0]?.events?.find((e) => e.reason === 'Unhealthy');
    assert.equal(event?.type, 'Warning');
    assert.equal(event?.message, 'container web: liveness probe failed 2 times: dead inside');
    const restarted = await server.waitForReport((r) => web(r)?.restartCount === 1 && web(r)?.state === 'running');
    assert.equal(web(restarted)?.containerId, id, 'the same container');
    assert.equal(web(restarted)?.lastTermination?.reason, 'Unhealthy');
    await server.waitForReport((r) => r.sets[0]?.status?.ready === true && web(r)?.restartCount === 1);

    // A new agent process: its first report already has the probes' word, and the count.
    await agent.stop();
    const seen = server.reports.length;
    agent = await start();
    const again = await server.waitForReport((r) => r.sets.some((s) => s.id === '1' && s.status !== undefined) && server.reports.indexOf(r) >= seen);
    assert.equal(again.sets[0]?.status?.ready, true, 'no flap to not ready');
    assert.equal(web(again)?.restartCount, 1);
    assert.equal(web(again)?.lastTermination?.reason, 'Unhealthy');
  } finally {
    await agent.stop();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('agent: CPU and memory changed by hand are put back at once (Docker\'s update event)', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-e2e-'));
  const server = await new FakeServer().start();
  const engine = new FakeEngine(['wharf/busybox:latest']);
  server.sets = [setObject()];
  const agent = await startAgent({ server: server.url, name: 'h1', dataDir, listen: '127.0.0.1:0', engine, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }), heartbeatIntervalSeconds: 0.2, volumes: new DirDriver(dataDir) });
  try {
    await server.waitForReport((r) => phaseOf(r) === 'running');
    const web = engine.byName('t_app_1_web')!;
    const desired = [web.config.nanoCpus, web.config.memory];
    await engine.update(web.id, { nanoCpus: 1e8, memory: 64 * 1024 ** 2, memorySwap: 64 * 1024 ** 2 });
    const resized = await server.waitForReport((r) => r.sets.some((s) => s.events?.some((e) => e.reason === 'Resized')));
    assert.equal(resized.sets[0]?.events?.find((e) => e.reason === 'Resized')?.message, 'Resized container web: cpu 0.1 → 1 cores, memory 64Mi → 1Gi');
    assert.deepEqual([web.config.nanoCpus, web.config.memory], desired);
    assert.equal(engine.byName('t_app_1_web')?.id, web.id);
  } finally {
    await agent.stop();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('changedGroups: groups added, removed, or with other members, in order', () => {
  const prev = { 'tenant:a': ['10.0.0.1/32', '10.0.0.2/32'], 'tenant:b': ['10.0.1.1/32'], 'app:a/web': ['10.0.0.1/32'] };
  const next = { 'tenant:a': ['10.0.0.1/32', '10.0.0.3/32'], 'app:a/web': ['10.0.0.1/32'], 'tenant:c': [] };
  assert.deepEqual([...changedGroups(prev, next)].sort(), ['tenant:a', 'tenant:b', 'tenant:c']);
  assert.equal(changedGroups(prev, structuredClone(prev)).size, 0);
  assert.deepEqual([...changedGroups({ g: ['x', 'y'] }, { g: ['y', 'x'] })], ['g']);
});
