/**
 * What the benchmarks against Docker Swarm on the e2e cluster harness share: the
 * dockerds restarted without --live-restore, the swarm brought up and left, the
 * Docker Engine API read over a host's unix socket, containers counted across
 * hosts, and polling with timings.
 *
 * Swarm refuses a daemon started with --live-restore ("--live-restore daemon
 * configuration is incompatible with swarm mode"), and the e2e harness starts every
 * dockerd with it, with no way to leave it out. So after Cluster.start a benchmark
 * calls dropLiveRestore(): each host's dockerd is restarted with the harness's own
 * command line minus --live-restore (same netns, data-root, exec-root, socket,
 * pidfile) before anything is measured, and both sides run on the same, identical
 * dockerds. Live-restore only matters when dockerd itself restarts.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { request } from 'node:http';
import type { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { sleep, waitFor } from '../../e2e/dist/harness/exec.js';

/** Runs `fn` over 0 … n-1 with at most `width` calls in flight. */
export async function pool(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

export interface PollOptions {
  /** Default 100 ms. */
  everyMs?: number;
  /** Default 180 s. */
  timeoutMs?: number;
  /** Every poll (time, count, how long the poll took) to stderr. */
  trace?: boolean;
}

/** When (ms since t0) the first, half and all of `total` were seen. */
export interface Ramp {
  firstMs: number;
  halfMs: number;
  allMs: number;
}

/**
 * Polls `count` until it reaches `total`. An error thrown by `count` ends the wait
 * with that error (a failed rollout is not retried until the timeout).
 */
export async function ramp(what: string, t0: number, total: number, count: () => Promise<number>, opts: PollOptions = {}): Promise<Ramp> {
  const everyMs = opts.everyMs ?? 100;
  const timeoutMs = opts.timeoutMs ?? 180_000;
  let firstMs = NaN;
  let halfMs = NaN;
  for (;;) {
    const p0 = performance.now();
    const n = await count();
    const ms = performance.now() - t0;
    if (opts.trace) process.stderr.write(`  ${what}: ${Math.round(ms)} ms ${n}/${total} (poll took ${Math.round(performance.now() - p0)} ms)\n`);
    if (n >= 1 && Number.isNaN(firstMs)) firstMs = ms;
    if (n >= total / 2 && Number.isNaN(halfMs)) halfMs = ms;
    if (n >= total) return { firstMs, halfMs, allMs: ms };
    if (ms > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${n}/${total}`);
    await sleep(everyMs);
  }
}

/** Polls `done` until it is true; ms since t0. */
export async function until(what: string, t0: number, done: () => Promise<boolean>, opts: PollOptions = {}): Promise<number> {
  return (await ramp(what, t0, 1, async () => ((await done()) ? 1 : 0), opts)).allMs;
}

/** How many of each name; undefined counts as '?'. */
export function tally(names: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of names) out[h ?? '?'] = (out[h ?? '?'] ?? 0) + 1;
  return out;
}

// ---- Docker Engine API over a host's unix socket (polling it costs far less CPU than spawning the CLI) ----

export function engine<T>(host: DockerHost, path: string): Promise<T> {
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

/** The `filters=` query parameter of the Engine API. */
export const filters = (f: Record<string, string[]>) => `filters=${encodeURIComponent(JSON.stringify(f))}`;

/** Containers in any state, on all hosts, with this label. */
export async function containersLeft(hosts: DockerHost[], label: string): Promise<number> {
  const lists = await Promise.all(hosts.map((h) => engine<unknown[]>(h, `/containers/json?all=1&${filters({ label: [label] })}`)));
  return lists.reduce((n, l) => n + l.length, 0);
}

/** The docker CLI on a host; throws with its stderr when it fails, else its trimmed stdout. */
export async function docker(host: DockerHost, args: string[]): Promise<string> {
  const r = await host.docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} on ${host.name} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

// ---- dockerd without live-restore ----

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

/** Every host's dockerd restarted without --live-restore, then waits until every agent has reported again. */
export async function dropLiveRestore(cluster: Cluster): Promise<void> {
  for (const h of cluster.hosts) await restartWithoutLiveRestore(h);
  // The agents resubscribe to their restarted dockerd; wait until every host is ready again.
  const since = Date.now();
  await waitFor('hosts ready after the dockerd restart', async () => {
    const list = await cluster.platform.client.listHosts();
    return cluster.hosts.every((h) => list.some((x) => x.name === h.name && x.state === 'ready' && Date.parse(x.lastHeartbeat) > since));
  }, 30_000, 200);
}

// ---- Docker Swarm ----

/**
 * `swarm init` on the first host (advertising and listening on its bridge address),
 * `swarm join` of the others with the worker token; waits until every node is
 * ready. Resolves with swarm node id → host name (every node's hostname is the
 * machine's, so `docker node ls` cannot tell them apart).
 */
export async function swarmUp(cluster: Cluster): Promise<Map<string, string>> {
  const [manager, ...workers] = cluster.hosts as [DockerHost, ...DockerHost[]];
  const addr = cluster.addressOf(0);
  await docker(manager, ['swarm', 'init', '--advertise-addr', addr, '--listen-addr', `${addr}:2377`]);
  const token = await docker(manager, ['swarm', 'join-token', '-q', 'worker']);
  await Promise.all(workers.map((w, i) => docker(w, ['swarm', 'join', '--token', token, '--advertise-addr', cluster.addressOf(i + 1), `${addr}:2377`])));
  await waitFor(`${cluster.hosts.length} swarm nodes ready`, async () => {
    const nodes = await engine<{ Status: { State: string } }[]>(manager, '/nodes');
    return nodes.length === cluster.hosts.length && nodes.every((x) => x.Status.State === 'ready');
  }, 30_000, 200);
  const nodeHost = new Map<string, string>();
  for (const h of cluster.hosts) nodeHost.set((await engine<{ Swarm: { NodeID: string } }>(h, '/info')).Swarm.NodeID, h.name);
  return nodeHost;
}

/** Every host leaves the swarm (workers first); errors ignored, as a host may never have joined. */
export async function swarmLeave(cluster: Cluster): Promise<void> {
  for (const h of [...cluster.hosts].reverse()) await h.docker(['swarm', 'leave', '--force']);
}
