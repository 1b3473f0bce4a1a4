/**
 * scale-out: an app from 0 to N ready sets (one business container each, warm image),
 * side by side with Docker Swarm's `docker service create --replicas N` of the same
 * image and command on the same dockerds, in the same run.
 *
 * Wharf: an app (template: one business container "app", busybox loop, cpu 0.1,
 * memory 32Mi; scale-in drain 0 s) created with 0 replicas before anything is timed;
 * `scaleApp(appkey, N)` (what `wharf scale APPKEY --replicas N` sends) timed until
 * `getApp` (polled every 100 ms) counts N ready sets: running at their generation with
 * every container running (the template has no readiness probe). Each set is an infra
 * container plus the business container. Then `scaleApp(appkey, 0)`, timed until the
 * app has no set and no container of it is left on the hosts.
 *
 * Wharf with a warm pool, in the same run: a second app with the same template whose
 * warm pool is filled to N standby sets (created, started, then paused by their agent)
 * before anything is timed; then `scaleApp(appkey, N)` is timed the same way: the
 * controller takes the N standby sets out of the pool in one write, each agent
 * unpauses them, and the pool is refilled behind (N more sets created, competing for
 * the same CPU while the clock runs). Then replicas and pool go to 0, timed until
 * nothing is left, so the other measurements run on an empty host.
 *
 * Swarm: `docker service create --detach --no-resolve-image --replicas N
 * --limit-cpu 0.1 --limit-memory 32m` of the same image and loop, timed until N tasks
 * of desired state running are `running` (the Engine API's `/tasks`, polled every
 * 100 ms): Swarm's running is its container started. Then `docker service rm`, timed
 * until no container of the service is left.
 *
 * Meanwhile the hosts' Docker events (container create and start) are recorded, so
 * each run also says when the first container was created, when the last one
 * started, and how long a set (infra create → business start) or a task (create →
 * start) took. Runs interleaved, Wharf first, after one warm-up of each (one replica
 * per host); medians reported.
 *
 *   npm run bench -- scale-out [--runs 3] [--hosts 1] [--sets 50] [--trace]
 *   npm run bench -- scale-out --hosts 3 --sets 100
 *
 * The hosts come from the e2e harness (Cluster.start(hosts): one network namespace
 * and dockerd each, a wharf-server, one agent per host). Swarm refuses a dockerd with
 * --live-restore, which the harness passes, so the dockerds are restarted without it
 * first (dropLiveRestore in swarm.ts), and with several hosts h1 is the manager and
 * the others join as workers (swarmUp).
 */
import { request, type ClientRequest } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { AppSpec } from '@wharf/types';
import { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { LOOP } from '../../e2e/dist/harness/images.js';
import { median, percentile, positiveInt, round } from './stats.js';
import { containersLeft, docker, dropLiveRestore, engine, filters, ramp, swarmLeave, swarmUp, tally, until, type PollOptions, type Ramp } from './swarm.js';

const IMAGE = 'wharf/busybox:latest';
const APPKEY = 'bench.scaleout';
const WARM_APPKEY = 'bench.warmpool';
const SERVICE = 'bench-scaleout';
const CPU = 0.1;
const MEMORY_MI = 32;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    hosts: { type: 'string', default: '1' },
    sets: { type: 'string', default: '50' },
    trace: { type: 'boolean', default: false },
  },
});
const runs = positiveInt('runs', values.runs);
const hostCount = positiveInt('hosts', values.hosts);
const sets = positiveInt('sets', values.sets);

const poll: PollOptions = { everyMs: 100, timeoutMs: 300_000, trace: values.trace };

function appSpec(appkey: string, replicas: number): AppSpec {
  return {
    appkey,
    replicas,
    scaleIn: { drainSeconds: 0 },
    template: {
      resources: { cpu: CPU, memory: `${MEMORY_MI}Mi` },
      containers: [{ index: 0, image: IMAGE, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
    },
  };
}

// ---- Docker events: when each container was created and started ----

interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

/** A live `GET /events` of container create and start on one host. */
function recordEvents(host: DockerHost, into: EngineEvent[]): ClientRequest {
  const path = `/v1.41/events?${filters({ type: ['container'], event: ['create', 'start'] })}`;
  const req = request({ socketPath: host.socket, path, method: 'GET' }, (res) => {
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) into.push(JSON.parse(line) as EngineEvent);
    });
  });
  req.on('error', () => undefined); // ended by abort()
  req.end();
  return req;
}

/** Records the hosts' container events from now until `stop()`; times in ms since `t0Wall` (Date.now()). */
function eventRecorder(hosts: DockerHost[]) {
  const events: EngineEvent[] = [];
  const reqs = hosts.map((h) => recordEvents(h, events));
  return {
    /** Docker has sent everything up to now (events reach the stream a moment after they happen). */
    async stop(): Promise<EngineEvent[]> {
      await new Promise((r) => setTimeout(r, 300));
      for (const r of reqs) r.destroy();
      return events;
    },
  };
}

/** What the hosts' events say about one scale-out, in ms since the request. */
interface Trace {
  firstCreateMs: number;
  lastStartMs: number;
  /** Per replica: Wharf infra create → business start; Swarm create → start. */
  replicaP50Ms: number;
  replicaMaxMs: number;
}

function traceOf(events: EngineEvent[], t0Wall: number, replicaOf: (e: EngineEvent) => string | undefined): Trace {
  const ms = (e: EngineEvent) => e.timeNano / 1e6 - t0Wall;
  const span = new Map<string, { from: number; to: number }>();
  let firstCreateMs = Infinity;
  let lastStartMs = -Infinity;
  for (const e of events) {
    const key = replicaOf(e);
    if (key === undefined) continue;
    const t = ms(e);
    const s = span.get(key) ?? { from: Infinity, to: -Infinity };
    if (e.Action === 'create') {
      s.from = Math.min(s.from, t);
      firstCreateMs = Math.min(firstCreateMs, t);
    } else {
      s.to = Math.max(s.to, t);
      lastStartMs = Math.max(lastStartMs, t);
    }
    span.set(key, s);
  }
  const durations = [...span.values()].map((s) => s.to - s.from).filter((d) => Number.isFinite(d));
  return { firstCreateMs, lastStartMs, replicaP50Ms: percentile(durations, 50), replicaMaxMs: percentile(durations, 100) };
}

/** One scale-out and its way back to nothing. */
interface Sample extends Ramp, Trace {
  /** Wharf's scale (resp. the docker CLI's service create) has answered. */
  acceptedMs: number;
  /** Back to 0 (resp. `service rm`) → no container left. */
  goneMs: number;
  perHost: Record<string, number>;
}

// ---- Wharf ----

async function wharfOnce(cluster: Cluster, n: number): Promise<Sample> {
  const client = cluster.platform.client;
  const rec = eventRecorder(cluster.hosts);
  const t0Wall = Date.now();
  const t0 = performance.now();
  await client.scaleApp(APPKEY, n);
  const acceptedMs = performance.now() - t0;
  let hosts: (string | undefined)[] = [];
  const up = await ramp(`${n} Wharf sets ready`, t0, n, async () => {
    const app = await client.getApp(APPKEY);
    const failed = app.sets.find((s) => s.status === 'failed');
    if (failed) throw new Error(`set ${APPKEY}/${failed.id} failed: ${failed.message ?? ''}`);
    hosts = app.sets.map((s) => s.host);
    return app.ready;
  }, poll);
  const trace = traceOf(await rec.stop(), t0Wall, (e) => e.Actor.Attributes['wharf.app'] === APPKEY ? e.Actor.Attributes['wharf.set'] : undefined);

  const d0 = performance.now();
  await client.scaleApp(APPKEY, 0);
  const goneMs = await until('Wharf sets gone', d0, async () =>
    (await client.getApp(APPKEY)).sets.length === 0 && (await containersLeft(cluster.hosts, `wharf.app=${APPKEY}`)) === 0, poll);
  return { ...up, ...trace, acceptedMs, goneMs, perHost: tally(hosts) };
}

/** The warm app's pool filled to `n` standby sets, all paused, before the clock starts. */
async function fillPool(cluster: Cluster, n: number): Promise<void> {
  const client = cluster.platform.client;
  await client.scaleApp(WARM_APPKEY, 0, n);
  const t0 = performance.now();
  await until(`${n} standby sets paused`, t0, async () => {
    const app = await client.getApp(WARM_APPKEY);
    const failed = app.sets.find((s) => s.status === 'failed');
    if (failed) throw new Error(`set ${WARM_APPKEY}/${failed.id} failed: ${failed.message ?? ''}`);
    return app.sets.filter((s) => s.standby && s.status === 'standby').length === n;
  }, { ...poll, everyMs: 500 });
}

async function wharfWarmOnce(cluster: Cluster, n: number): Promise<Sample> {
  const client = cluster.platform.client;
  await fillPool(cluster, n);
  const t0 = performance.now();
  await client.scaleApp(WARM_APPKEY, n);
  const acceptedMs = performance.now() - t0;
  let hosts: (string | undefined)[] = [];
  const up = await ramp(`${n} Wharf sets ready from the warm pool`, t0, n, async () => {
    const app = await client.getApp(WARM_APPKEY);
    hosts = app.sets.filter((s) => !s.standby).map((s) => s.host);
    return app.ready;
  }, poll);
  const d0 = performance.now();
  await client.scaleApp(WARM_APPKEY, 0, 0);
  const goneMs = await until('Wharf warm-pool sets gone', d0, async () =>
    (await client.getApp(WARM_APPKEY)).sets.length === 0 && (await containersLeft(cluster.hosts, `wharf.app=${WARM_APPKEY}`)) === 0, poll);
  // No container is created or started while the clock runs but the pool's refill.
  return { ...up, firstCreateMs: NaN, lastStartMs: NaN, replicaP50Ms: NaN, replicaMaxMs: NaN, acceptedMs, goneMs, perHost: tally(hosts) };
}

// ---- Docker Swarm ----

/** Swarm node id → host name, from swarmUp. */
let nodeHost = new Map<string, string>();

async function swarmOnce(cluster: Cluster, n: number): Promise<Sample> {
  const manager = cluster.hosts[0] as DockerHost;
  const rec = eventRecorder(cluster.hosts);
  const t0Wall = Date.now();
  const t0 = performance.now();
  await docker(manager, ['service', 'create', '--detach', '--no-resolve-image', '--replicas', String(n), '--name', SERVICE,
    '--limit-cpu', String(CPU), '--limit-memory', `${MEMORY_MI}m`, IMAGE, 'sh', '-c', LOOP]);
  const acceptedMs = performance.now() - t0;
  let tasks: { NodeID: string; Status: { State: string } }[] = [];
  const up = await ramp(`${n} swarm tasks running`, t0, n, async () => {
    tasks = await engine<typeof tasks>(manager, `/tasks?${filters({ service: [SERVICE], 'desired-state': ['running'] })}`);
    return tasks.filter((t) => t.Status.State === 'running').length;
  }, poll);
  const trace = traceOf(await rec.stop(), t0Wall, (e) => e.Actor.Attributes['com.docker.swarm.service.name'] === SERVICE ? e.Actor.ID : undefined);

  const d0 = performance.now();
  await docker(manager, ['service', 'rm', SERVICE]);
  const goneMs = await until('swarm containers gone', d0, async () => (await containersLeft(cluster.hosts, `com.docker.swarm.service.name=${SERVICE}`)) === 0, poll);
  return { ...up, ...trace, acceptedMs, goneMs, perHost: tally(tasks.map((t) => nodeHost.get(t.NodeID))) };
}

// ---- main ----

const COLUMNS = [
  ['accepted', 'acceptedMs'], ['1st create', 'firstCreateMs'], ['1st ready', 'firstMs'], ['half ready', 'halfMs'],
  ['last start', 'lastStartMs'], ['all ready', 'allMs'], ['replica p50', 'replicaP50Ms'], ['replica max', 'replicaMaxMs'], ['→ 0, gone', 'goneMs'],
] as const;
type Figure = (typeof COLUMNS)[number][1];

function medianSample(xs: Sample[]): Sample {
  const out = { perHost: {} } as Sample;
  for (const [, k] of COLUMNS) out[k] = median(xs.map((x) => x[k]));
  return out;
}

async function main(): Promise<void> {
  let cluster: Cluster | undefined;
  let swarm = false;
  const load: number[] = [];
  try {
    process.stderr.write(`scale-out: starting ${hostCount} host(s), a wharf-server and ${hostCount} agent(s) …\n`);
    cluster = await Cluster.start(hostCount);
    const c = cluster;
    await dropLiveRestore(c);
    process.stderr.write(`scale-out: swarm init on h1${hostCount > 1 ? ', the other hosts join' : ''} …\n`);
    swarm = true;
    nodeHost = await swarmUp(c);
    await c.platform.client.createApp(appSpec(APPKEY, 0));
    await c.platform.client.createApp(appSpec(WARM_APPKEY, 0));

    // Warm-up of each (JIT, SQLite pages, the agents' and swarm's first containers): one replica per host.
    await wharfOnce(c, c.hosts.length);
    await wharfWarmOnce(c, c.hosts.length);
    await swarmOnce(c, c.hosts.length);

    const w: Sample[] = [];
    const p: Sample[] = [];
    const s: Sample[] = [];
    for (let r = 0; r < runs; r++) {
      load.push(loadavg()[0] as number);
      const a = await wharfOnce(c, sets);
      const b = await wharfWarmOnce(c, sets);
      const d = await swarmOnce(c, sets);
      w.push(a);
      p.push(b);
      s.push(d);
      process.stderr.write(`run ${r + 1}/${runs}: wharf ${Math.round(a.allMs)} ms ${JSON.stringify(a.perHost)}, wharf warm pool ${Math.round(b.allMs)} ms ${JSON.stringify(b.perHost)}, swarm ${Math.round(d.allMs)} ms ${JSON.stringify(d.perHost)} (load ${load.at(-1)?.toFixed(1)})\n`);
    }
    load.push(loadavg()[0] as number);

    const wm = medianSample(w);
    const pm = medianSample(p);
    const sm = medianSample(s);
    const cold = round(wm.allMs / sm.allMs, 2);
    const warm = round(pm.allMs / sm.allMs, 2);
    console.log(`scale-out: 0 → ${sets} sets (infra + 1 business container) vs ${sets} swarm tasks (1 container), ${c.hosts.length} host(s), warm image, ${runs} runs interleaved`);
    console.log(`ms since the request  ${COLUMNS.map(([h]) => h.padStart(12)).join('')}`);
    const cellOf = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '–').padStart(12);
    const row = (name: string, x: Sample) => console.log(`${name.padEnd(21)}${COLUMNS.map(([, k]) => cellOf(x[k as Figure])).join('')}`);
    for (let r = 0; r < runs; r++) {
      row(`  wharf run ${r + 1}`, w[r] as Sample);
      row(`  warm pool run ${r + 1}`, p[r] as Sample);
      row(`  swarm run ${r + 1}`, s[r] as Sample);
    }
    row('wharf median', wm);
    row('warm pool median', pm);
    row('swarm median', sm);
    console.log(`ratio all ready, wharf/swarm: ${cold} without a warm pool, ${warm} with one (target ≤ 0.5); 1-minute load average ${load.map((l) => l.toFixed(1)).join(' → ')}`);
    console.log(JSON.stringify({
      bench: 'scale-out', sets, hosts: c.hosts.length, runs,
      wharf_ms: round(wm.allMs), wharf_warm_pool_ms: round(pm.allMs), swarm_ms: round(sm.allMs),
      ratio: warm, ratio_warm_pool: warm, ratio_cold: cold,
      wharf_last_start_ms: round(wm.lastStartMs), swarm_last_start_ms: round(sm.lastStartMs),
      wharf_gone_ms: round(wm.goneMs), wharf_warm_pool_gone_ms: round(pm.goneMs), swarm_gone_ms: round(sm.goneMs),
      load: load.map((l) => round(l)),
    }));
  } finally {
    if (cluster && swarm) await swarmLeave(cluster).catch(() => undefined);
    await cluster?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
