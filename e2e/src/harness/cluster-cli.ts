#!/usr/bin/env node
/**
 * `scripts/cluster.sh up [N] | down | status`: an N-host Wharf cluster on this
 * machine, for people to play with, joined to an already running wharf-server (the
 * one of `npm start`). The same pieces as the e2e Cluster (switch namespace, one
 * namespace + dockerd per host, veth to the bridge), but its processes are detached
 * and outlive this command, and it has its own fixed names so that e2e runs, whose
 * cleanup removes whatever belongs to dead test processes, never touch it:
 *
 *   netns     wharf-cluster-tor (bridge br0 10.213.250.1/24), wharf-cluster-hostI
 *   dockerd   exec-root /run/wharf-cluster/hostI, data-root /var/lib/wharf-cluster/hostI
 *   agent     data /var/lib/wharf-cluster/agents/hostI (its volume pool: pool.img, a 128Gi
 *             sparse btrfs loop file mounted at pool/), log …/agents/hostI.log
 *   state     /run/wharf-cluster/state.json (what `up` started; `down` also finds
 *             everything without it)
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import type { Host } from '@wharf/types';
import { defaultHosts, MAX_HOSTS, portName, type ClusterHostSpec } from './cluster.js';
import { cmdline, DockerHost, releaseBelow, type HostLayout } from './docker-host.js';
import { quiet, signalPid, sleep, tail } from './exec.js';
import { createSwitch, deleteNetns, listNetns, type Switch, type Uplink } from './network.js';
import { agentArgs } from './platform.js';

const LAYOUT: HostLayout = { prefix: 'wharf-cluster', runBase: '/run/wharf-cluster', dataBase: '/var/lib/wharf-cluster' };
const STATE_FILE = join(LAYOUT.runBase, 'state.json');
const AGENTS_DIR = join(LAYOUT.dataBase, 'agents');
const SWITCH: Switch = { netns: `${LAYOUT.prefix}-tor`, bridge: 'br0' };
const NET = '10.213.250';
const GATEWAY = `${NET}.1`;
const HOST_PREFIX = 'host';

const USAGE = `Usage: scripts/cluster.sh up [N] | down | status   (as root)

An N-host Wharf cluster on this machine (default N=3, at most ${MAX_HOSTS}), joined to the
running wharf-server (start it first with npm start):

  up [N]     build if needed (--no-build: don't), then start N Docker hosts: one network
             namespace each, cabled by a veth to a bridge in a "top-of-rack switch"
             namespace, a dockerd and a wharf-agent each. Agents host1..hostN; zones: z1
             holds the first half (rounded up), z2 the rest; racks r1..rN. Addresses
             ${NET}.11, .12, …; the bridge is ${GATEWAY}/24. The processes keep running
             after this command returns.
  down       stop the agents, remove every container of those dockerds, stop the
             dockerds, unmount the agents' volume pools and detach their loop devices,
             delete the namespaces (veths, bridge) and directories.
  status     list the hosts, their processes, containers and state on the server.

Environment:
  WHARF_SERVER           server URL (default http://127.0.0.1:7070)
  WHARF_DATA_DIR         server data dir holding join.token and admin.token (default /var/lib/wharf)
  WHARF_TOKEN            token for status's server view (default: WHARF_DATA_DIR/admin.token)
  WHARF_CPU_OVERCOMMIT   CPU offered per host = cores x this (default 4: the hosts share this machine)

Then: ./bin/wharf get hosts; docker -H unix://${LAYOUT.runBase}/host1/docker.sock ps;
nsenter --net=/run/netns/${LAYOUT.prefix}-host1 ping ${NET}.12
`;

interface StateHost extends ClusterHostSpec {
  address: string;
  port: string;
  agentPid?: number;
}

interface State {
  server: string;
  joinTokenFile: string;
  startedAt: string;
  switch: Switch;
  cidr: string;
  hosts: StateHost[];
}

const env = {
  server: (process.env.WHARF_SERVER ?? 'http://127.0.0.1:7070').replace(/\/+$/, ''),
  dataDir: process.env.WHARF_DATA_DIR ?? '/var/lib/wharf',
};

function say(msg: string): void {
  process.stdout.write(`cluster: ${msg}\n`);
}

class UsageError extends Error {}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

function writeState(s: State): void {
  mkdirSync(LAYOUT.runBase, { recursive: true });
  writeFileSync(STATE_FILE, `${JSON.stringify(s, null, 2)}\n`);
}

/** The cable of the i-th host (0-based). */
function uplinkOf(name: string, i: number): Uplink {
  return { ...SWITCH, port: portName(name, i), cidr: `${NET}.${11 + i}/24` };
}

function attach(h: ClusterHostSpec, i: number): DockerHost {
  return DockerHost.attach(h.name, { id: h.name, layout: LAYOUT, zone: h.zone, rack: h.rack, uplink: uplinkOf(h.name, i), detached: true });
}

function alive(pid: number | undefined, mark: string): boolean {
  return pid !== undefined && cmdline(pid).includes(mark);
}

/** Pids of running wharf-agents whose Docker socket is one of this cluster's. */
function clusterAgents(): Map<string, number> {
  const found = new Map<string, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const m = /agent\/dist\/main\.js .*--docker-socket \/run\/wharf-cluster\/([^/ ]+)\/docker\.sock/.exec(cmdline(Number(p)));
    if (m?.[1]) found.set(m[1], Number(p));
  }
  return found;
}

async function serverHosts(): Promise<Map<string, Host> | undefined> {
  let token = process.env.WHARF_TOKEN;
  try {
    token ??= readFileSync(join(env.dataDir, 'admin.token'), 'utf8').trim();
  } catch {
    return undefined;
  }
  try {
    const list = await new WharfClient({ server: env.server, token }).listHosts();
    return new Map(list.map((h) => [h.name, h]));
  } catch {
    return undefined;
  }
}




let interrupted = false;

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

async function up(n: number): Promise<void> {
  const t0 = Date.now();
  const specs = defaultHosts(n, HOST_PREFIX);
  if (readState() || listNetns().some((ns) => ns.startsWith(`${LAYOUT.prefix}-`))) {
    throw new UsageError('a cluster is already up (or its remains are): see scripts/cluster.sh status, or take it down with scripts/cluster.sh down');
  }
  try {
    const r = await fetch(`${env.server}/v1/health`, { signal: AbortSignal.timeout(3000) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
  } catch (err) {
    throw new UsageError(`no wharf-server answers at ${env.server} (${(err as Error).message}): start one with npm start, or set WHARF_SERVER`);
  }
  const joinTokenFile = join(env.dataDir, 'join.token');
  if (!existsSync(joinTokenFile)) throw new UsageError(`no join token at ${joinTokenFile}: set WHARF_DATA_DIR to the server's data directory`);

  say(`starting ${n} host${n > 1 ? 's' : ''} joined to ${env.server} (Ctrl-C undoes it)`);
  const state: State = {
    server: env.server, joinTokenFile, startedAt: new Date().toISOString(), switch: SWITCH, cidr: `${NET}.0/24`,
    hosts: specs.map((h, i) => ({ ...h, address: `${NET}.${11 + i}`, port: portName(h.name, i) })),
  };
  writeState(state);
  try {
    await createSwitch(SWITCH, `${GATEWAY}/24`);
    say(`switch  netns ${SWITCH.netns}: bridge ${SWITCH.bridge} ${GATEWAY}/24`);
    checkInterrupted();

    // In parallel; all settle before going on, so that an undo never races a start.
    const started = await Promise.allSettled(specs.map(async (spec, i) => {
      const h = await DockerHost.start(spec.name, { id: spec.name, layout: LAYOUT, zone: spec.zone, rack: spec.rack, uplink: uplinkOf(spec.name, i), detached: true });
      say(`${spec.name.padEnd(6)}  netns ${h.netns}: eth0 ${h.address}/24 on ${SWITCH.bridge} port ${h.uplink?.port}; dockerd pid ${h.dockerdPid()} (${h.socket})`);
      return h;
    }));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const hosts = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    checkInterrupted();

    mkdirSync(AGENTS_DIR, { recursive: true });
    const cpuOvercommit = Number(process.env.WHARF_CPU_OVERCOMMIT ?? 4);
    for (const [i, h] of hosts.entries()) {
      const dataDir = join(AGENTS_DIR, h.name);
      const logFile = `${dataDir}.log`;
      mkdirSync(dataDir, { recursive: true });
      const log = openSync(logFile, 'a');
      const agent = spawn(process.execPath, agentArgs({ server: env.server, joinTokenFile, host: h, dataDir, heartbeatSeconds: 5, cpuOvercommit }), {
        detached: true, stdio: ['ignore', log, log],
      });
      closeSync(log);
      agent.unref();
      const entry = state.hosts[i];
      if (entry && agent.pid !== undefined) entry.agentPid = agent.pid;
      writeState(state);
      say(`${h.name.padEnd(6)}  wharf-agent pid ${agent.pid}: zone ${h.zone}, rack ${h.rack} (log ${logFile})`);
    }

    // Ready when each agent has registered: the server saw a heartbeat since we began
    // (when we have a token to ask it), or the agent's log says so.
    const deadline = Date.now() + 30_000;
    const pending = new Set(hosts.map((h) => h.name));
    while (pending.size) {
      checkInterrupted();
      const seen = await serverHosts();
      for (const name of [...pending]) {
        const logFile = join(AGENTS_DIR, `${name}.log`);
        const pid = state.hosts.find((x) => x.name === name)?.agentPid;
        const beat = seen?.get(name)?.lastHeartbeat;
        if ((beat !== undefined && Date.parse(beat) >= t0) || readFileSync(logFile, 'utf8').includes('"msg":"registered"')) {
          pending.delete(name);
        } else if (!alive(pid, 'agent/dist/main.js')) {
          throw new Error(`the agent of ${name} exited; last lines of ${logFile}:\n${tail(logFile, 15, '    ')}`);
        }
      }
      if (pending.size && Date.now() > deadline) {
        // The undo removes the logs: show what they say now.
        const logs = [...pending].map((name) => `  ${name}, last lines of its log:\n${tail(join(AGENTS_DIR, `${name}.log`), 3, '    ')}`);
        throw new Error(`agents not registered after 30 s: ${[...pending].join(', ')}\n${logs.join('\n')}`);
      }
      if (pending.size) await sleep(200);
    }
  } catch (err) {
    say(`up failed: ${(err as Error).message}`);
    say('undoing what was started');
    await down({ quietIfNone: true });
    process.exitCode = interrupted ? 130 : 1;
    return;
  }
  say(`up: ${n} host${n > 1 ? 's' : ''} registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  say(`try:   WHARF_SERVER=${env.server} ./bin/wharf get hosts      scripts/cluster.sh status`);
  say(`       docker -H unix://${LAYOUT.runBase}/host1/docker.sock ps      nsenter --net=/run/netns/${LAYOUT.prefix}-host1 ping -c1 ${NET}.12`);
  say('stop:  scripts/cluster.sh down');
}

/** Every host of the cluster: from the state file, and from namespaces and directories left without one. */
function knownHosts(state: State | undefined): ClusterHostSpec[] {
  const names = new Set<string>(state?.hosts.map((h) => h.name) ?? []);
  for (const ns of listNetns()) if (ns.startsWith(`${LAYOUT.prefix}-`) && ns !== SWITCH.netns) names.add(ns.slice(LAYOUT.prefix.length + 1));
  for (const base of [LAYOUT.runBase, LAYOUT.dataBase]) {
    if (!existsSync(base)) continue;
    for (const n of readdirSync(base)) if (!n.includes('.') && n !== 'agents') names.add(n);
  }
  const byName = new Map((state?.hosts ?? []).map((h) => [h.name, h]));
  return [...names].sort(byNumber).map((name) => byName.get(name) ?? { name, zone: '?', rack: '?' });
}

function byNumber(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

async function down(opts: { quietIfNone?: boolean } = {}): Promise<void> {
  const state = readState();
  const hosts = knownHosts(state);
  const agents = clusterAgents();
  for (const h of state?.hosts ?? []) if (h.agentPid !== undefined && alive(h.agentPid, 'agent/dist/main.js') && !agents.has(h.name)) agents.set(h.name, h.agentPid);
  const anything = hosts.length || agents.size || listNetns().includes(SWITCH.netns) || existsSync(LAYOUT.runBase) || existsSync(LAYOUT.dataBase);
  if (!anything) {
    if (!opts.quietIfNone) say('no cluster is up; nothing to do');
    return;
  }

  for (const [name, pid] of [...agents].sort(([a], [b]) => byNumber(a, b))) {
    signalPid(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (cmdline(pid)) {
      if (Date.now() > deadline) signalPid(pid, 'SIGKILL');
      await sleep(50);
    }
    say(`${name.padEnd(6)}  wharf-agent pid ${pid} stopped`);
  }

  await Promise.all(hosts.map(async (spec, i) => {
    const h = attach(spec, state?.hosts.findIndex((x) => x.name === spec.name) ?? i);
    const pid = h.dockerdPid();
    const containers = await h.stop();
    say(`${spec.name.padEnd(6)}  removed ${containers} container${containers === 1 ? '' : 's'}, ${pid ? `stopped dockerd pid ${pid}` : containers ? 'dockerd was down (started once more to remove them)' : 'dockerd was not running'}, deleted netns ${h.netns} (eth0) and its directories`);
  }));

  if (listNetns().includes(SWITCH.netns)) {
    deleteNetns(SWITCH.netns);
    say(`switch  deleted netns ${SWITCH.netns} (bridge ${SWITCH.bridge} and its ports)`);
  }
  for (const base of [LAYOUT.dataBase, LAYOUT.runBase]) {
    if (!existsSync(base)) continue;
    // The agents' volume pools (btrfs on loop files under agents/<host>/) and their loop devices too.
    releaseBelow(base);
    rmSync(base, { recursive: true, force: true });
    say(`removed ${base}`);
  }

  const left = leftovers();
  if (left.length) {
    say(`down: these remain:\n${left.map((l) => `    ${l}`).join('\n')}`);
    process.exitCode = 1;
    return;
  }
  say('down: nothing left (hosts that had registered stay listed on the server, not-ready)');
}

/** Namespaces, processes, mounts and directories of the cluster still present. */
function leftovers(): string[] {
  const left: string[] = [];
  for (const ns of listNetns()) if (ns.startsWith(`${LAYOUT.prefix}-`)) left.push(`netns ${ns}`);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const c = cmdline(Number(p));
    // dockerd and containerd name the bases, shims their containerd namespace (= the netns name).
    if (c.includes(`${LAYOUT.runBase}/`) || c.includes(`${LAYOUT.dataBase}/`) || c.includes(`-namespace ${LAYOUT.prefix}-`)) left.push(`process ${p}: ${c.slice(0, 120)}`);
  }
  for (const m of quiet('findmnt', ['-rn', '-o', 'TARGET']).split('\n')) {
    if (m.startsWith(`${LAYOUT.runBase}/`) || m.startsWith(`${LAYOUT.dataBase}/`) || m === LAYOUT.runBase || m === LAYOUT.dataBase) left.push(`mount ${m}`);
  }
  for (const line of quiet('losetup', ['-nO', 'NAME,BACK-FILE', '--raw']).split('\n')) {
    if (line.includes(` ${LAYOUT.runBase}/`) || line.includes(` ${LAYOUT.dataBase}/`)) left.push(`loop device ${line}`);
  }
  for (const d of [LAYOUT.runBase, LAYOUT.dataBase]) if (existsSync(d)) left.push(`directory ${d}`);
  return left;
}

async function status(): Promise<void> {
  const state = readState();
  const hosts = knownHosts(state);
  if (!state && !hosts.length && !listNetns().includes(SWITCH.netns)) {
    say('no cluster is up (scripts/cluster.sh up [N])');
    return;
  }
  const agents = clusterAgents();
  const server = await serverHosts();
  if (state) say(`${hosts.length} hosts joined to ${state.server} since ${state.startedAt}`);
  else say('remains of a cluster without a state file (scripts/cluster.sh down removes them)');
  say(`switch  netns ${SWITCH.netns}: ${listNetns().includes(SWITCH.netns) ? `bridge ${SWITCH.bridge} ${GATEWAY}/24` : 'missing'}`);
  const rows = [['HOST', 'ZONE', 'RACK', 'ADDRESS', 'UPLINK', 'DOCKERD', 'AGENT', 'CONTAINERS', 'ON SERVER']];
  await Promise.all(hosts.map(async (spec, i) => {
    const h = attach(spec, state?.hosts.findIndex((x) => x.name === spec.name) ?? i);
    const dpid = h.dockerdPid();
    let containers = '-';
    if (dpid) {
      const all = (await h.docker(['ps', '-a', '--format', '{{.State}}'])).stdout.split('\n').filter(Boolean);
      containers = `${all.filter((s) => s === 'running').length}/${all.length} running`;
    }
    const link = quiet('ip', ['-n', SWITCH.netns, '-o', 'link', 'show', h.uplink?.port ?? '']);
    const uplink = !link ? 'missing' : /state UP/.test(link) ? 'up' : 'down';
    const apid = agents.get(spec.name);
    const s = server?.get(spec.name);
    rows[i + 1] = [spec.name, spec.zone, spec.rack, h.address ?? '?', uplink, dpid ? `pid ${dpid}` : 'not running', apid ? `pid ${apid}` : 'not running', containers, s ? s.state : server ? 'unknown' : '?'];
  }));
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r?.[c] ?? '').length))) ?? [];
  for (const r of rows) if (r) process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}\n`);
  if (!server) say(`(ON SERVER needs ${env.server} and a token: WHARF_TOKEN or ${join(env.dataDir, 'admin.token')})`);
}

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== '--no-build');
  const [cmd, ...rest] = args;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (process.getuid?.() !== 0) throw new UsageError('run as root (network namespaces, dockerd)');
  if (cmd === 'up') {
    if (rest.length > 1) throw new UsageError('up takes one argument, the number of hosts');
    const n = rest[0] === undefined ? 3 : Number(rest[0]);
    if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new UsageError(`the number of hosts must be 1 to ${MAX_HOSTS}, not "${rest[0]}"`);
    let signals = 0;
    const onSignal = (): void => {
      interrupted = true;
      if (++signals > 1) {
        say('interrupted again: leaving things as they are; run scripts/cluster.sh down');
        process.exit(130);
      }
      say('interrupted: finishing the current step, then undoing (Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await up(n);
  } else if (cmd === 'down' || cmd === 'status') {
    if (rest.length) throw new UsageError(`${cmd} takes no arguments`);
    await (cmd === 'down' ? down() : status());
  } else {
    throw new UsageError(`unknown command "${cmd}"; see scripts/cluster.sh --help`);
  }
  return Number(process.exitCode ?? 0);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
