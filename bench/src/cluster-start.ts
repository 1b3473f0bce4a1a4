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
 * Swarm refuses a daemon started with --live-restore, which the e2e harness always
 * passes, so each host's dockerd is restarted without it before anything is measured
 * (dropLiveRestore in swarm.ts): both sides run on the same, identical dockerds.
 * Swarm's tasks publish no port, so they need neither the ingress network nor an
 * overlay data path.
 */
import { parseArgs } from 'node:util';
import type { SetView } from '@wharf/types';
import { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { LOOP } from '../../e2e/dist/harness/images.js';
import { median, positiveInt, round } from './stats.js';
import { containersLeft, docker, dropLiveRestore, engine, filters, pool, ramp, swarmLeave, swarmUp, tally, until, type PollOptions } from './swarm.js';

const IMAGE = 'wharf/busybox:latest';
const APPKEY = 'bench.clusterstart';
const SERVICE = 'bench';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    sets: { type: 'string', default: '60' },
    parallel: { type: 'string', default: '8' },
    trace: { type: 'boolean', default: false },
  },
});
const runs = positiveInt('runs', values.runs);
const sets = positiveInt('sets', values.sets);
const parallel = positiveInt('parallel', values.parallel);

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

const poll: PollOptions = { everyMs: 100, timeoutMs: 180_000, trace: values.trace };

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
  }, poll);
  await creating;

  const d0 = performance.now();
  await pool(n, parallel, (i) => client.deleteSet(APPKEY, idBase + i));
  const deleteMs = await until('Wharf sets gone', d0, async () =>
    (await client.listSets({ appkey: APPKEY })).length === 0 && (await containersLeft(cluster.hosts, `wharf.app=${APPKEY}`)) === 0, poll);
  return { ...up, acceptedMs, deleteMs, perHost: tally(last.map((s) => s.host)) };
}

// ---- Docker Swarm ----

/** Swarm node id → host name, from swarmUp. */
let nodeHost = new Map<string, string>();

async function swarmOnce(cluster: Cluster, n: number): Promise<Sample> {
  const manager = cluster.hosts[0] as DockerHost;
  const t0 = performance.now();
  await docker(manager, ['service', 'create', '--detach', '--no-resolve-image', '--replicas', String(n), '--name', SERVICE, IMAGE, 'sh', '-c', LOOP]);
  const acceptedMs = performance.now() - t0;
  let tasks: { NodeID: string; Status: { State: string } }[] = [];
  const up = await ramp(`${n} swarm tasks running`, t0, n, async () => {
    tasks = await engine<typeof tasks>(manager, `/tasks?${filters({ service: [SERVICE], 'desired-state': ['running'] })}`);
    return tasks.filter((t) => t.Status.State === 'running').length;
  }, poll);

  const d0 = performance.now();
  await docker(manager, ['service', 'rm', SERVICE]);
  const deleteMs = await until('swarm containers gone', d0, async () => (await containersLeft(cluster.hosts, `com.docker.swarm.service.name=${SERVICE}`)) === 0, poll);
  return { ...up, acceptedMs, deleteMs, perHost: tally(tasks.map((t) => nodeHost.get(t.NodeID))) };
}

// ---- main ----

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
    await dropLiveRestore(c);

    process.stderr.write('cluster-start: swarm init on h1, join h2 and h3 …\n');
    swarm = true;
    nodeHost = await swarmUp(c);

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
