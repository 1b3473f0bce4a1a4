/**
 * cluster-start: scale-out across a 3-host cluster. 60 sets of one appkey (infra +
 * one business container each, warm image) created through the API as fast as it
 * takes them (8 applySet calls in flight), timed from the first create until the API
 * shows all 60 `running` (listSets polled every 100 ms); then all deleted, timed
 * until the API lists none and no container is left on the hosts. Side by side with
 * the peer on the same three dockerds: Docker Swarm, `docker service create
 * --replicas 60` timed until 60 tasks are running, then `docker service rm` until no
 * container is left. Runs interleaved: Wharf, Swarm, Wharf, Swarm, …
 *
 *   npm run bench -- cluster-start [--runs 3] [--sets 60] [--parallel 8] [--trace]
 *
 * --trace prints every poll (time, count, how long the poll took) to stderr.
 *
 * Swarm refuses a daemon started with --live-restore ("--live-restore daemon
 * configuration is incompatible with swarm mode"), and the e2e harness starts every
 * dockerd with it, with no way to leave it out. So after Cluster.start this file
 * restarts each host's dockerd with the harness's own command line minus
 * --live-restore (same netns, data-root, exec-root, socket, pidfile) before anything
 * is measured: both sides run on the same, identical dockerds. Live-restore only
 * matters when dockerd itself restarts; it is not on the container start path.
 * Swarm's tasks publish no port, so they need neither the ingress network nor an
 * overlay data path.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import type { SetView } from '@wharf/types';
import { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { waitFor } from '../../e2e/dist/harness/exec.js';
import { percentile, round } from './stats.js';

const LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done";
const IMAGE = 'wharf/busybox:latest';
const APPKEY = 'bench.clusterstart';
const SERVICE = 'bench';
const POLL_MS = 100;
const TIMEOUT_MS = 180_000;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    sets: { type: 'string', default: '60' },
    parallel: { type: 'string', default: '8' },
    trace: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const sets = Number(values.sets);
const parallel = Number(values.parallel);
for (const [flag, v] of [['--runs', runs], ['--sets', sets], ['--parallel', parallel]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer, not "${String(v)}"`);
}

function spec(id: number) {
  return {
    id, appkey: APPKEY,
    resources: { cpu: 0.1, memory: '32Mi', disk: '64Mi' },
    containers: [{ index: 0, image: IMAGE, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
  };
}

/** One scale-out and its delete, in ms since the first create (resp. the first delete). */
interface Sample {
  /** Wharf's API (resp. the docker CLI for Swarm) has accepted every create. */
  acceptedMs: number;
  firstMs: number;
  halfMs: number;
  allMs: number;
  deleteMs: number;
  /** Replicas per host, as placed. */
  perHost: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over 0 … n-1 with at most `width` calls in flight. */
async function pool(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** Polls `count` every POLL_MS until it reaches `total`; when (ms since t0) the first, half and all were seen. */
async function ramp(what: string, t0: number, total: number, count: () => Promise<number>): Promise<Pick<Sample, 'firstMs' | 'halfMs' | 'allMs'>> {
  let firstMs = NaN;
  let halfMs = NaN;
  for (;;) {
    const p0 = performance.now();
    const n = await count();
    const ms = performance.now() - t0;
    if (values.trace) process.stderr.write(`  ${what}: ${Math.round(ms)} ms ${n}/${total} (poll took ${Math.round(performance.now() - p0)} ms)\n`);
    if (n >= 1 && Number.isNaN(firstMs)) firstMs = ms;
    if (n >= total / 2 && Number.isNaN(halfMs)) halfMs = ms;
    if (n >= total) return { firstMs, halfMs, allMs: ms };
    if (ms > TIMEOUT_MS) throw new Error(`timed out after ${TIMEOUT_MS} ms waiting for ${what}: ${n}/${total}`);
    await sleep(POLL_MS);
  }
}

/** Polls `done` every POLL_MS until it is true; ms since t0. */
async function until(what: string, t0: number, done: () => Promise<boolean>): Promise<number> {
  return (await ramp(what, t0, 1, async () => ((await done()) ? 1 : 0))).allMs;
}

function tally(hosts: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of hosts) out[h ?? '?'] = (out[h ?? '?'] ?? 0) + 1;
  return out;
}

// ---- Docker Engine API over a host's unix socket (polling it costs far less CPU than spawning the CLI) ----

function engine<T>(host: DockerHost, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: host.socket, path: `/v1.41${path}`, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) return reject(new Error(`GET ${path} on ${host.name}: ${res.statusCode} ${body.trim()}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const filters = (f: Record<string, string[]>) => `filters=${encodeURIComponent(JSON.stringify(f))}`;

/** Containers in any state, on all hosts, with this label. */
async function containersLeft(hosts: DockerHost[], label: string): Promise<number> {
  const lists = await Promise.all(hosts.map((h) => engine<unknown[]>(h, `/containers/json?all=1&${filters({ label: [label] })}`)));
  return lists.reduce((n, l) => n + l.length, 0);
}

async function docker(host: DockerHost, args: string[]): Promise<string> {
  const r = await host.docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} on ${host.name} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** See the header: the harness's dockerd command line minus --live-restore. */
async function restartWithoutLiveRestore(host: DockerHost): Promise<void> {
  await host.stopDockerd();
  const log = openSync(host.logFile, 'a');
  // Same pidfile and socket as before, so host.stop() (and cleanupStale() after a crash) find and stop it.
  const d = spawn('nsenter', host.dockerdArgs.filter((a) => a !== '--live-restore'), { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  d.unref();
  await waitFor(`dockerd of ${host.name} without --live-restore`, async () => {
    if (d.exitCode !== null || d.signalCode !== null) throw new Error(`dockerd of ${host.name} exited (${d.signalCode ?? d.exitCode}); see ${host.logFile}`);
    return (await host.docker(['version', '--format', '{{.Server.Version}}'])).code === 0;
  }, 30_000);
}

// ---- Wharf ----

async function wharfOnce(cluster: Cluster, n: number, idBase = 0): Promise<Sample> {
  const client = cluster.platform.client;
  const t0 = performance.now();
  let acceptedMs = NaN;
  let failed: unknown;
  const creating = pool(n, parallel, (i) => client.applySet(spec(idBase + i))).then(() => (acceptedMs = performance.now() - t0));
  creating.catch((err: unknown) => (failed = err));
  let last: SetView[] = [];
  const up = await ramp(`${n} Wharf sets running`, t0, n, async () => {
    if (failed) throw failed;
    last = await client.listSets({ appkey: APPKEY });
    return last.filter((s) => s.status === 'running').length;
  });
  await creating;

  const d0 = performance.now();
  await pool(n, parallel, (i) => client.deleteSet(APPKEY, idBase + i));
  const deleteMs = await until('Wharf sets gone', d0, async () =>
    (await client.listSets({ appkey: APPKEY })).length === 0 && (await containersLeft(cluster.hosts, `wharf.app=${APPKEY}`)) === 0);
  return { ...up, acceptedMs, deleteMs, perHost: tally(last.map((s) => s.host)) };
}

// ---- Docker Swarm ----

/** Swarm node id → host name (every node's hostname is the machine's, so `docker node ls` cannot tell them apart). */
const nodeHost = new Map<string, string>();

async function swarmUp(cluster: Cluster): Promise<void> {
  const [manager, ...workers] = cluster.hosts as [DockerHost, ...DockerHost[]];
  const addr = cluster.addressOf(0);
  await docker(manager, ['swarm', 'init', '--advertise-addr', addr, '--listen-addr', `${addr}:2377`]);
  const token = await docker(manager, ['swarm', 'join-token', '-q', 'worker']);
  await Promise.all(workers.map((w, i) => docker(w, ['swarm', 'join', '--token', token, '--advertise-addr', cluster.addressOf(i + 1), `${addr}:2377`])));
  await waitFor(`${cluster.hosts.length} swarm nodes ready`, async () => {
    const nodes = await engine<{ Status: { State: string } }[]>(manager, '/nodes');
    return nodes.length === cluster.hosts.length && nodes.every((x) => x.Status.State === 'ready');
  }, 30_000, 200);
  for (const h of cluster.hosts) nodeHost.set((await engine<{ Swarm: { NodeID: string } }>(h, '/info')).Swarm.NodeID, h.name);
}

/** Every host leaves the swarm (workers first); errors ignored, as a host may never have joined. */
async function swarmLeave(cluster: Cluster): Promise<void> {
  for (const h of [...cluster.hosts].reverse()) await h.docker(['swarm', 'leave', '--force']);
}

async function swarmOnce(cluster: Cluster, n: number): Promise<Sample> {
  const manager = cluster.hosts[0] as DockerHost;
  const t0 = performance.now();
  await docker(manager, ['service', 'create', '--detach', '--no-resolve-image', '--replicas', String(n), '--name', SERVICE, IMAGE, 'sh', '-c', LOOP]);
  const acceptedMs = performance.now() - t0;
  let tasks: { NodeID: string; Status: { State: string } }[] = [];
  const up = await ramp(`${n} swarm tasks running`, t0, n, async () => {
    tasks = await engine<typeof tasks>(manager, `/tasks?${filters({ service: [SERVICE], 'desired-state': ['running'] })}`);
    return tasks.filter((t) => t.Status.State === 'running').length;
  });

  const d0 = performance.now();
  await docker(manager, ['service', 'rm', SERVICE]);
  const deleteMs = await until('swarm containers gone', d0, async () => (await containersLeft(cluster.hosts, `com.docker.swarm.service.name=${SERVICE}`)) === 0);
  return { ...up, acceptedMs, deleteMs, perHost: tally(tasks.map((t) => nodeHost.get(t.NodeID))) };
}

// ---- main ----

const median = (xs: number[]) => percentile(xs, 50);
const col = (v: number, w = 13) => String(Math.round(v)).padStart(w);

function medianSample(xs: Sample[]): Sample {
  const m = (k: keyof Omit<Sample, 'perHost'>) => median(xs.map((x) => x[k]));
  return { acceptedMs: m('acceptedMs'), firstMs: m('firstMs'), halfMs: m('halfMs'), allMs: m('allMs'), deleteMs: m('deleteMs'), perHost: {} };
}

async function main(): Promise<void> {
  let cluster: Cluster | undefined;
  let swarm = false;
  try {
    process.stderr.write('cluster-start: starting 3 hosts, a wharf-server and 3 agents …\n');
    cluster = await Cluster.start(3);
    const c = cluster;
    for (const h of c.hosts) await restartWithoutLiveRestore(h);
    // The agents resubscribe to their restarted dockerd; wait until every host is ready again.
    const since = Date.now();
    await waitFor('hosts ready after the dockerd restart', async () => {
      const list = await c.platform.client.listHosts();
      return c.hosts.every((h) => list.some((x) => x.name === h.name && x.state === 'ready' && Date.parse(x.lastHeartbeat) > since));
    }, 30_000, 200);

    process.stderr.write('cluster-start: swarm init on h1, join h2 and h3 …\n');
    swarm = true;
    await swarmUp(c);

    // Warm-up of both (JIT, SQLite pages, the agents' and swarm's first containers): one replica per host.
    await wharfOnce(c, c.hosts.length, 1000);
    await swarmOnce(c, c.hosts.length);

    const w: Sample[] = [];
    const s: Sample[] = [];
    for (let r = 0; r < runs; r++) {
      const a = await wharfOnce(c, sets);
      const b = await swarmOnce(c, sets);
      w.push(a);
      s.push(b);
      process.stderr.write(`run ${r + 1}/${runs}: wharf ${Math.round(a.allMs)} ms ${JSON.stringify(a.perHost)}, swarm ${Math.round(b.allMs)} ms ${JSON.stringify(b.perHost)}\n`);
    }

    const wm = medianSample(w);
    const sm = medianSample(s);
    const ratio = round(wm.allMs / sm.allMs, 2);
    console.log(`cluster-start: ${sets} sets (infra + 1 business container) vs ${sets} swarm tasks (1 container), 3 hosts, warm image, ${runs} runs interleaved`);
    console.log(`ms since the first create    ${['all accepted', 'first running', 'half running', 'all running', 'delete → gone'].map((h) => h.padStart(13)).join(' ')}`);
    const row = (name: string, x: Sample) => console.log(`${name.padEnd(28)} ${[x.acceptedMs, x.firstMs, x.halfMs, x.allMs, x.deleteMs].map((v) => col(v)).join(' ')}`);
    for (let r = 0; r < runs; r++) {
      row(`  wharf run ${r + 1}`, w[r] as Sample);
      row(`  swarm run ${r + 1}`, s[r] as Sample);
    }
    row('wharf median', wm);
    row('swarm median', sm);
    console.log(`ratio all running, wharf/swarm: ${ratio}`);
    console.log(JSON.stringify({ bench: 'cluster-start', sets, hosts: c.hosts.length, wharf_ms: round(wm.allMs), swarm_ms: round(sm.allMs), ratio }));
  } finally {
    if (cluster && swarm) await swarmLeave(cluster).catch(() => undefined);
    await cluster?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
