/**
 * High availability on loopback: a 3-member etcd cluster, two wharf-servers on it
 * (--store etcd://…) and one harness host whose agent knows both servers. Exactly one
 * server leads (runs the controllers); SIGKILL it and the other takes over within
 * 15 s, a running set is not touched, and a set created after the kill is scheduled
 * and runs. With etcd's leader member killed, the API still writes (the store fails
 * over to the other members while they elect a new leader). While a client keeps
 * creating sets, servers and an etcd member are killed and restarted: every
 * acknowledged create exists afterwards and runs exactly once. With every server
 * down the agent keeps its sets running, and it reconciles once they return. Exec,
 * logs and the real OpenSSH client work through either server, the leader or not, and
 * ssh sees one host key on both (the key file copied, as docs/operations.md says).
 * The metrics the agent reports to one server reach the other (relayed), so the new
 * leader has the history from before a take-over.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import { etcdSkipReason, startEtcd, type EtcdTestCluster } from '@wharf/store/testing';
import { DockerHost, OWNER_FILE, releaseBelow } from './harness/docker-host.js';
import { GiveUp, freePort, must, run, sleep, stopChild, waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';
import { agentArgs, wharfCli } from './harness/platform.js';
import { assertUntouched, runningContainers } from './harness/untouched.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const skip = etcdSkipReason();

interface LeaderView {
  server: string;
  leading: boolean;
  leader?: string;
}

describe('several servers on etcd: one leader, taken over when it dies', { skip }, () => {
  const dir = mkdtempSync('/tmp/wharf-e2e-ha-');
  // Lets a later run clean up after this one if it dies (cleanupScratch).
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  let etcd: EtcdTestCluster;
  let host: DockerHost;
  const servers: { port: number; sshPort: number; url: string; dir: string; child?: ChildProcess }[] = [];
  let agent: ChildProcess | undefined;
  let client: WharfClient;

  const spawnLogged = (name: string, args: string[]): ChildProcess => {
    const log = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    return child;
  };
  const startServer = async (i: number): Promise<void> => {
    const s = servers[i]!;
    s.child = spawnLogged(`server-${i + 1}`, [
      join(ROOT, 'packages/server/dist/main.js'), '--host', '127.0.0.1', '--port', String(s.port), '--data-dir', s.dir,
      '--store', etcd.url, '--registry', 'off', '--lb', 'off', '--ssh-listen', `127.0.0.1:${s.sshPort}`, '--log-level', 'debug',
    ]);
    await waitFor(`server ${i + 1} healthy`, async () => (await fetch(`${s.url}/v1/health`).catch(() => undefined))?.ok === true, 60_000, 200);
  };
  const leaderOf = async (url: string): Promise<LeaderView | undefined> => {
    const res = await fetch(`${url}/v1/leader`, { headers: { authorization: `Bearer ${readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim()}` } }).catch(() => undefined);
    return res?.ok ? ((await res.json()) as LeaderView) : undefined;
  };
  const set = (id: number) => ({
    appkey: 'ha', id: String(id), resources: { cpu: 0.1, memory: '32Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
  });
  const running = (id: number) => waitFor(`set ha/${id} running`, async () => (await client.getSet('ha', id)).status === 'running', 90_000, 200);
  const appStarted = async (id: number) => (await host.docker(['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', `default_ha_${id}_app`])).stdout.trim();

  before(async () => {
    etcd = await startEtcd({ members: 3 });
    host = await DockerHost.start('h1');
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      servers.push({ port, sshPort: await freePort(), url: `http://127.0.0.1:${port}`, dir: join(dir, `server-${i + 1}`) });
    }
    await startServer(0);
    // The servers share the tokens (agents present the join token to any server, and any server presents it to
    // them) and the SSH gateway's host key (clients see one host behind the load balancer).
    mkdirSync(servers[1]!.dir, { recursive: true, mode: 0o700 });
    for (const f of ['admin.token', 'join.token', 'ssh_host_ed25519_key']) copyFileSync(join(servers[0]!.dir, f), join(servers[1]!.dir, f));
    await startServer(1);
    const agentDir = join(dir, 'agent-h1');
    mkdirSync(agentDir, { recursive: true });
    agent = spawnLogged('agent-h1', agentArgs({
      server: servers.map((s) => s.url).join(','), joinTokenFile: join(servers[0]!.dir, 'join.token'), host, dataDir: agentDir, heartbeatSeconds: 1, cpuOvercommit: 32,
    }));
    client = new WharfClient({ server: servers.map((s) => s.url).join(','), token: readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim() });
    await waitFor('host h1 ready', async () => (await client.listHosts()).some((h) => h.name === 'h1' && h.state === 'ready'), 90_000, 200);
  });

  after(async () => {
    try {
      await stopChild(agent);
      for (const s of servers) await stopChild(s.child, 'SIGKILL');
      // The agent's volume pool is a loop-mounted file in its data dir.
      releaseBelow(dir);
      if (!process.env.WHARF_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    } finally {
      await host?.stop();
      await etcd?.stop();
    }
  });

  let leaderIndex = -1;
  let before1 = '';

  it('exactly one server leads; both serve the API and see the same sets', async () => {
    const views = await waitFor('a leader', async () => {
      const v = await Promise.all(servers.map((s) => leaderOf(s.url)));
      return v.filter((x) => x?.leading).length === 1 ? v : undefined;
    }, 30_000, 200);
    leaderIndex = views.findIndex((v) => v?.leading);
    const leaderName = views[leaderIndex]!.server;
    assert.deepEqual(views.map((v) => v?.leader), [leaderName, leaderName], 'both servers name the same leader');
    assert.equal((await client.applySet(set(1))).created, true);
    await running(1);
    before1 = await appStarted(1);
    const other = new WharfClient({ server: servers[1 - leaderIndex]!.url, token: readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim() });
    assert.equal((await other.getSet('ha', 1)).status, 'running', 'the other server serves the same state');
  });

  it('exec, logs, ssh and metrics work through either server, the leader or not; ssh sees one host key', async () => {
    const token = readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim();
    const wharf = (server: string, args: string[]) => wharfCli({ server, token, config: join(dir, 'no-config.json') }, args);
    // A developer with a registered key, for the SSH gateway (users and keys are in the shared store).
    const key = join(dir, 'dev_ed25519');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev@e2e', '-f', key]);
    await client.createUser('dev', { password: 'dev-secret', roles: { default: 'developer' } });
    const session = await client.login('dev', 'dev-secret');
    await new WharfClient({ server: servers[0]!.url, token: session.token }).addSshKey({ name: 'laptop', publicKey: readFileSync(`${key}.pub`, 'utf8').trim() });
    // One known_hosts entry for both gateways (HostKeyAlias): the first login records the key, the second must match it.
    const ssh = (port: number, strict: 'accept-new' | 'yes', command: string) => run('ssh', [
      '-F', '/dev/null', '-p', String(port), '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'HostKeyAlias=wharf-ha',
      '-o', `StrictHostKeyChecking=${strict}`, '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'LogLevel=ERROR',
      '-l', 'ha/1', '127.0.0.1', command,
    ]);
    for (const [i, s] of servers.entries()) {
      const role = i === leaderIndex ? 'leader' : 'follower';
      // Written to the container's PID 1 stdout, so its log shows it.
      const ex = await wharf(s.url, ['exec', 'ha/1', '--', 'sh', '-c', `echo via-${role} > /proc/1/fd/1; echo exec-${role}; exit 4`]);
      assert.deepEqual({ code: ex.code, stdout: ex.stdout }, { code: 4, stdout: `exec-${role}\n` }, `exec through the ${role}: ${ex.stderr}`);
      const logs = await wharf(s.url, ['logs', 'ha/1', '--tail', '5']);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, new RegExp(`via-${role}`), `logs through the ${role}`);
      const sh = await ssh(s.sshPort, i === 0 ? 'accept-new' : 'yes', `echo ssh-${role}; exit 5`);
      assert.deepEqual({ code: sh.code, stdout: sh.stdout }, { code: 5, stdout: `ssh-${role}\n` }, `ssh through the ${role}: ${sh.stderr}`);
    }
    assert.equal(readFileSync(join(dir, 'known_hosts'), 'utf8').trim().split('\n').length, 1, 'one host key recorded for both servers');
    // The agent heartbeats to one server; the other holds the set's figures too, relayed.
    for (const s of servers) {
      const via = new WharfClient({ server: s.url, token });
      await waitFor(`set ha/1's metrics through ${s.url}`, async () => (await via.setMetrics('ha', 1)).points.length > 0, 60_000, 500);
    }
  });

  it('a leader paused past its lease (SIGSTOP) is replaced; resumed, it steps down and one server leads', async () => {
    const paused = servers[leaderIndex]!;
    const other = servers[1 - leaderIndex]!;
    const token = readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim();
    // Only the other server: a stopped one accepts connections and never answers.
    const via = new WharfClient({ server: other.url, token });
    const pausedAt = Date.now();
    paused.child?.kill('SIGSTOP');
    try {
      await waitFor('the other server leads while the leader is stopped', async () => (await leaderOf(other.url))?.leading === true, 30_000, 100);
      assert.equal((await via.applySet(set(4))).created, true);
      await waitFor('set ha/4 placed by the new leader', async () => (await via.getSet('ha', 4)).host === 'h1', 30_000, 100);
      // The agent passes over a server that does not answer (12 s) within the heartbeat grace (20 s): h1 never goes not-ready.
      await waitFor('h1 heartbeats to the other server', async () => {
        const h = (await via.listHosts()).find((x) => x.name === 'h1');
        // GiveUp: waitFor would take a plain assertion error for "not yet".
        if (h?.state !== 'ready') throw new GiveUp(`h1 went ${h?.state} while a server hung (last heartbeat ${h?.lastHeartbeat})`);
        return Date.parse(h.lastHeartbeat) > pausedAt;
      }, 30_000, 200);
    } finally {
      paused.child?.kill('SIGCONT');
    }
    // Resumed, its lease is gone: its controllers stop (their writes are fenced meanwhile) and it campaigns again.
    await waitFor('the resumed server no longer leads', async () => {
      const views = await Promise.all([leaderOf(paused.url), leaderOf(other.url)]);
      return views[0]?.leading === false && views[1]?.leading === true && views[0].leader === views[1].server;
    }, 30_000, 100);
    assert.match(readFileSync(join(dir, `server-${leaderIndex + 1}.log`), 'utf8'), /leadership lost/);
    leaderIndex = 1 - leaderIndex;
    await running(4);
    assert.equal(await appStarted(1), before1, 'set 1 kept its container and start time');
  });

  it('SIGKILL of the leader: the other server leads within 15 s, the running set is untouched, a new set is scheduled', async () => {
    const survivor = servers[1 - leaderIndex]!;
    const killedAt = Date.now();
    servers[leaderIndex]!.child?.kill('SIGKILL');
    await waitFor('the survivor leads', async () => (await leaderOf(survivor.url))?.leading === true, 30_000, 100);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 15_000, `the other server led ${tookMs} ms after the kill`);
    console.log(`# leader take-over after SIGKILL: ${tookMs} ms`);
    // The new leader (its autoscaler) has the history from before the kill, whichever server the agent reported to.
    const token = readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim();
    const kept = (await new WharfClient({ server: survivor.url, token }).setMetrics('ha', 1)).points;
    assert.ok(kept.some((p) => Date.parse(p.time) < killedAt), `the survivor's history of set 1 holds points from before the kill: ${kept.map((p) => p.time).join(', ')}`);

    assert.equal((await client.applySet(set(2))).created, true, 'the client passed over the dead server');
    await running(2);
    assert.equal(await appStarted(1), before1, 'set 1 kept its container and start time');
    await waitFor('h1 heartbeats reach the survivor', async () => {
      const h = (await client.listHosts()).find((x) => x.name === 'h1');
      return h?.state === 'ready' && Date.parse(h.lastHeartbeat) > killedAt;
    }, 30_000, 200);
  });

  it('one etcd member killed, the leader: writes go on, and a set created then runs', async () => {
    // The leader: its death also costs etcd an election, the harder case for the store's failover.
    const member = await etcd.leader();
    await member.kill();
    try {
      const started = Date.now();
      assert.equal((await client.applySet(set(3))).created, true);
      console.log(`# set created ${Date.now() - started} ms after etcd's leader was killed`);
      await running(3);
    } finally {
      await member.start();
    }
    assert.equal(await appStarted(1), before1);
  });

  it('creates go on while a server and an etcd member are killed and restarted: every acknowledged one exists, each runs once', async () => {
    await startServer(leaderIndex);
    const acked: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 100; !stop && i < 160; i++) {
        try {
          if ((await client.applySet({ ...set(i), appkey: 'hab' })).created) acked.push(String(i));
        } catch {
          // Not acknowledged: it may or may not exist.
        }
        await sleep(100);
      }
    })();
    try {
      await sleep(1000);
      servers[0]!.child?.kill('SIGKILL');
      await etcd.members[0]!.kill();
      await sleep(2000);
      await etcd.members[0]!.start();
      await startServer(0);
      servers[1]!.child?.kill('SIGKILL');
      await sleep(2000);
      await startServer(1);
      await sleep(1000);
    } finally {
      stop = true;
      await writer;
    }
    assert.ok(acked.length >= 10, `only ${acked.length} creates were acknowledged`);
    const listed = await waitFor('every acknowledged set running', async () => {
      const sets = await client.listSets({ appkey: 'hab' });
      const ids = new Set(sets.map((x) => x.id));
      return acked.every((id) => ids.has(id)) && sets.every((x) => x.status === 'running') ? sets : undefined;
    }, 120_000, 500);
    assert.ok(listed.every((x) => Number(x.id) >= 100 && Number(x.id) < 160), 'nothing that was never asked for');
    // Exactly the listed sets' business containers on the host, one each.
    const names = (await host.docker(['ps', '-a', '--filter', 'label=wharf.app=hab', '--format', '{{.Names}}'])).stdout.trim().split('\n').filter((n) => n.endsWith('_app'));
    assert.deepEqual(names.sort(), listed.map((x) => `default_hab_${x.id}_app`).sort());
    console.log(`# ${acked.length} creates acknowledged through a server kill, an etcd member kill and restarts; ${listed.length} sets, each with one container`);
  });

  it('a full control-plane outage: the agent keeps its sets running and reconciles when the servers return', async () => {
    const running = await runningContainers([host]);
    for (const s of servers) s.child?.kill('SIGKILL');
    await sleep(4000);
    assertUntouched(running, await runningContainers([host]));
    assert.equal(await appStarted(1), before1, 'set 1 runs on, untouched, with no server');
    assert.equal((await host.docker(['inspect', '-f', '{{.State.Running}}', 'default_ha_2_app'])).stdout.trim(), 'true');
    await startServer(0);
    await startServer(1);
    await client.deleteSet('ha', 3);
    await waitFor('set 3 removed by the agent', async () => (await host.docker(['inspect', 'default_ha_3_app'])).code !== 0, 60_000, 200);
    await waitFor('h1 ready again', async () => (await client.listHosts()).some((h) => h.name === 'h1' && h.state === 'ready'), 60_000, 200);
    assertUntouched(running, await runningContainers([host]), ['default/ha/3']);
  });
});
