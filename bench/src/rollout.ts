/**
 * rollout: a new image rolled through an app, and a running set resized, on a 3-host
 * cluster (the e2e harness's Cluster.start(3)), side by side with the peers on the
 * same three dockerds in the same run.
 *
 * Rollout. Wharf: 20 sets of one appkey (infra + one business container "app", busybox
 * loop, warm images), `startRollout(appkey, { container: 'app', image: NEW, batch: '25%' })`
 * timed until `getRollout(appkey, 'current')` (polled every 100 ms) says `succeeded`;
 * then back to the old image the same way, timed too, so every run starts equal.
 * Swarm: a 20-replica service of the same image and loop, `docker service update
 * --image NEW --update-parallelism 5 --update-delay 0s --detach=false
 * --no-resolve-image` (5 = 25 % of 20; Swarm's default order stop-first, as Wharf
 * replaces a container in place), timed until every task of desired state running
 * runs the new image (the Engine API's `/tasks`, polled every 100 ms) and, apart,
 * until the CLI returns (it then waits out the update monitor, 5 s by default, "to
 * verify that tasks are stable"); then back. --no-resolve-image: the dockerds reach no
 * registry, so the CLI must not ask one for a digest. Runs interleaved: Wharf, Swarm,
 * Wharf, Swarm, …, after one warm-up round of each; medians reported.
 *
 * Images: the dockerds cannot pull, so NEW is built on every host from the local
 * busybox (`FROM wharf/busybox:latest`, `RUN echo v2 > /version`); the old image is
 * wharf/busybox:latest itself.
 *
 * Resize. Wharf: `resizeSet(appkey, id, { cpu })` timed until the set's "app"
 * container reports the new NanoCpus (getSet, polled every 50 ms) and the Engine API's
 * inspect of it on its host shows them. Peer: `docker update --cpus` of a plain busybox
 * container on the same dockerd, timed until it returns and inspect shows the value.
 * Interleaved, alternating two CPU values, after one warm-up each; p50 and p99.
 *
 *   npm run bench -- rollout [--runs 3] [--sets 20] [--batch 25%] [--resizes 10] [--trace]
 *
 * Swarm refuses a dockerd with --live-restore, so the hosts' dockerds are restarted
 * without it first (dropLiveRestore in swarm.ts): both sides run on the same dockerds.
 */
import { parseArgs } from 'node:util';
import type { RolloutRequest, SetView } from '@wharf/types';
import { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { LOOP, buildImage } from '../../e2e/dist/harness/images.js';
import { median, percentile, positiveInt, round } from './stats.js';
import { docker, dropLiveRestore, engine, filters, pool, ramp, swarmLeave, swarmUp, until, type PollOptions } from './swarm.js';

const OLD = 'wharf/busybox:latest';
const NEW = 'wharf/bench-app:v2';
const APPKEY = 'bench.rollout';
const CONTAINER = 'app';
const SERVICE = 'bench-rollout';
const PEER = 'bench-resize-peer';
/** The set's CPU cores at the start, and the two values the resize alternates between. */
const CPU_START = 0.1;
const CPU_VALUES = [0.5, 0.25] as const;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    sets: { type: 'string', default: '20' },
    batch: { type: 'string', default: '25%' },
    resizes: { type: 'string', default: '10' },
    trace: { type: 'boolean', default: false },
  },
});
const runs = positiveInt('runs', values.runs);
const sets = positiveInt('sets', values.sets);
const resizes = positiveInt('resizes', values.resizes);
const batch = parseBatch(values.batch);
/** Sets (resp. tasks) per batch, as Wharf counts "25%": rounded up, at least 1. */
const parallelism = typeof batch === 'number' ? batch : Math.max(1, Math.ceil((sets * Number(batch.slice(0, -1))) / 100));

function parseBatch(text: string): number | string {
  if (/^([1-9][0-9]?|100)%$/.test(text)) return text;
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1) return n;
  throw new Error(`--batch must be a number of sets or a percentage such as 25%, not "${text}"`);
}

const rolloutPoll: PollOptions = { everyMs: 100, timeoutMs: 180_000, trace: values.trace };
const resizePoll: PollOptions = { everyMs: 50, timeoutMs: 30_000, trace: values.trace };

function spec(id: number) {
  return {
    id, appkey: APPKEY,
    resources: { cpu: CPU_START, memory: '32Mi', disk: '64Mi' },
    containers: [{ index: 0, image: OLD, options: { name: CONTAINER, command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
  };
}

/** One rollout there and back, in ms since the request. */
interface RolloutSample {
  /** Wharf: `succeeded`; Swarm: every task of desired state running runs the image. */
  forwardMs: number;
  backMs: number;
  /** Swarm only: the CLI returned (after its stability wait). */
  forwardCliMs?: number;
  backCliMs?: number;
}

type EngineContainer = { Image: string; State: string; Labels: Record<string, string> };

/** Business containers of the app, on all hosts, running `image`. */
async function wharfContainersOn(hosts: DockerHost[], image: string): Promise<number> {
  const lists = await Promise.all(hosts.map((h) =>
    engine<EngineContainer[]>(h, `/containers/json?${filters({ label: [`wharf.app=${APPKEY}`, 'wharf.role=business'], status: ['running'] })}`)));
  return lists.flat().filter((c) => c.Image === image).length;
}

// ---- Wharf ----

async function wharfSetsUp(cluster: Cluster): Promise<void> {
  const client = cluster.platform.client;
  await pool(sets, 8, (i) => client.applySet(spec(i)));
  await ramp(`${sets} Wharf sets running`, performance.now(), sets, async () =>
    (await client.listSets({ appkey: APPKEY })).filter((s) => s.status === 'running' && s.ready).length, rolloutPoll);
}

/** One rollout of `image` through the app's sets; ms until it has succeeded. */
async function wharfRollout(cluster: Cluster, image: string): Promise<number> {
  const client = cluster.platform.client;
  const request: RolloutRequest = { container: CONTAINER, image, batch };
  const t0 = performance.now();
  const started = await client.startRollout(APPKEY, request);
  const ms = await until(`Wharf rollout ${started.number} to ${image}`, t0, async () => {
    const r = await client.getRollout(APPKEY, 'current');
    if (r.number !== started.number) throw new Error(`rollout ${started.number} was started, but the current one is ${r.number}`);
    if (r.state === 'succeeded') return true;
    if (r.state !== 'running') throw new Error(`Wharf rollout ${r.number} to ${image} is ${r.state}: ${r.message ?? ''}`);
    return false;
  }, rolloutPoll);
  // Not timed: what `succeeded` claims is what the API and the hosts show.
  const views = await client.listSets({ appkey: APPKEY });
  const off = views.filter((s) => s.containers.find((c) => c.name === CONTAINER)?.image !== image || s.status !== 'running');
  if (views.length !== sets || off.length) throw new Error(`after rollout ${started.number}: ${off.length} of ${views.length} sets not running ${image}`);
  const onHosts = await wharfContainersOn(cluster.hosts, image);
  if (onHosts !== sets) throw new Error(`after rollout ${started.number}: ${onHosts} of ${sets} business containers on the hosts run ${image}`);
  return ms;
}

async function wharfOnce(cluster: Cluster): Promise<RolloutSample> {
  const forwardMs = await wharfRollout(cluster, NEW);
  const backMs = await wharfRollout(cluster, OLD);
  return { forwardMs, backMs };
}

// ---- Docker Swarm ----

type Task = { Status: { State: string }; Spec: { ContainerSpec: { Image: string } } };

async function swarmServiceUp(manager: DockerHost): Promise<void> {
  await docker(manager, ['service', 'create', '--detach', '--no-resolve-image', '--replicas', String(sets), '--name', SERVICE, OLD, 'sh', '-c', LOOP]);
  await ramp(`${sets} swarm tasks running`, performance.now(), sets, async () =>
    (await desiredRunning(manager)).filter((t) => t.Status.State === 'running').length, rolloutPoll);
}

function desiredRunning(manager: DockerHost): Promise<Task[]> {
  return engine<Task[]>(manager, `/tasks?${filters({ service: [SERVICE], 'desired-state': ['running'] })}`);
}

/** One `docker service update --image`; ms until every task runs it, and until the CLI returned. */
async function swarmUpdate(manager: DockerHost, image: string): Promise<{ ms: number; cliMs: number }> {
  const t0 = performance.now();
  let cliMs = NaN;
  let failed: unknown;
  const cli = docker(manager, ['service', 'update', '--detach=false', '--no-resolve-image', '--image', image,
    '--update-parallelism', String(parallelism), '--update-delay', '0s', SERVICE]).then(() => (cliMs = performance.now() - t0));
  cli.catch((err: unknown) => (failed = err));
  const ms = await until(`swarm tasks on ${image}`, t0, async () => {
    if (failed) throw failed;
    const tasks = await desiredRunning(manager);
    return tasks.length === sets && tasks.every((t) => t.Spec.ContainerSpec.Image === image && t.Status.State === 'running');
  }, rolloutPoll);
  await cli;
  return { ms, cliMs };
}

async function swarmOnce(manager: DockerHost): Promise<RolloutSample> {
  const forward = await swarmUpdate(manager, NEW);
  const back = await swarmUpdate(manager, OLD);
  return { forwardMs: forward.ms, backMs: back.ms, forwardCliMs: forward.cliMs, backCliMs: back.cliMs };
}

// ---- Resize ----

type Inspect = { Id: string; HostConfig: { NanoCpus: number } };

/** Resizes set 0 to `cpu` cores; ms until its "app" container reports them and the host's dockerd shows them. */
async function wharfResize(cluster: Cluster, cpu: number): Promise<number> {
  const client = cluster.platform.client;
  const want = Math.round(cpu * 1e9);
  const t0 = performance.now();
  await client.resizeSet(APPKEY, 0, { cpu });
  let reported: SetView | undefined;
  return until(`Wharf set ${APPKEY}/0 at ${cpu} cores`, t0, async () => {
    if (!reported) {
      const s = await client.getSet(APPKEY, 0);
      if (s.containers.find((c) => c.name === CONTAINER)?.nanoCpus !== want) return false;
      reported = s;
    }
    const app = reported.containers.find((c) => c.name === CONTAINER);
    if (!reported.host || !app?.containerId) throw new Error(`set ${APPKEY}/0 reports no host or container id`);
    return (await engine<Inspect>(cluster.host(reported.host), `/containers/${app.containerId}/json`)).HostConfig.NanoCpus === want;
  }, resizePoll);
}

/** `docker update --cpus` of the peer container; ms until it returned and inspect shows the value. */
async function dockerResize(host: DockerHost, cpu: number): Promise<number> {
  const want = Math.round(cpu * 1e9);
  const t0 = performance.now();
  await docker(host, ['update', '--cpus', String(cpu), PEER]);
  return until(`${PEER} at ${cpu} cores`, t0, async () => (await engine<Inspect>(host, `/containers/${PEER}/json`)).HostConfig.NanoCpus === want, resizePoll);
}

// ---- main ----

const cell = (v: number | undefined, w = 14) => (v === undefined || Number.isNaN(v) ? '' : String(Math.round(v))).padStart(w);

async function main(): Promise<void> {
  let cluster: Cluster | undefined;
  let swarm = false;
  try {
    process.stderr.write('rollout: starting 3 hosts, a wharf-server and 3 agents …\n');
    cluster = await Cluster.start(3);
    const c = cluster;
    await dropLiveRestore(c);
    process.stderr.write(`rollout: building ${NEW} on every host …\n`);
    await Promise.all(c.hosts.map((h) => buildImage(h, NEW, ['RUN echo v2 > /version'])));

    process.stderr.write('rollout: swarm init on h1, join h2 and h3 …\n');
    swarm = true;
    await swarmUp(c);
    const manager = c.hosts[0] as DockerHost;

    process.stderr.write(`rollout: ${sets} Wharf sets and a ${sets}-replica swarm service …\n`);
    await wharfSetsUp(c);
    await swarmServiceUp(manager);

    // Warm-up of both (JIT, SQLite pages, the first replacements on every host): one round each, not counted.
    process.stderr.write('rollout: warm-up round …\n');
    await wharfOnce(c);
    await swarmOnce(manager);

    const w: RolloutSample[] = [];
    const s: RolloutSample[] = [];
    for (let r = 0; r < runs; r++) {
      const a = await wharfOnce(c);
      const b = await swarmOnce(manager);
      w.push(a);
      s.push(b);
      process.stderr.write(`run ${r + 1}/${runs}: wharf ${Math.round(a.forwardMs)} ms (back ${Math.round(a.backMs)}), `
        + `swarm ${Math.round(b.forwardMs)} ms, CLI ${Math.round(b.forwardCliMs ?? NaN)} ms (back ${Math.round(b.backMs)}, CLI ${Math.round(b.backCliMs ?? NaN)})\n`);
    }

    // Resize: set 0 of the app; the peer container beside it on the same dockerd.
    const set0 = await c.platform.client.getSet(APPKEY, 0);
    if (!set0.host) throw new Error(`set ${APPKEY}/0 has no host`);
    const host = c.host(set0.host);
    await docker(host, ['run', '-d', '--name', PEER, '--cpus', String(CPU_START), '--memory', '32m', OLD, 'sh', '-c', LOOP]);
    process.stderr.write(`rollout: resize on ${host.name}, ${resizes} samples each …\n`);
    await wharfResize(c, 0.2);
    await dockerResize(host, 0.2);
    const rw: number[] = [];
    const rd: number[] = [];
    for (let i = 0; i < resizes; i++) {
      const cpu = CPU_VALUES[i % CPU_VALUES.length] as number;
      rw.push(await wharfResize(c, cpu));
      rd.push(await dockerResize(host, cpu));
    }

    const wf = median(w.map((x) => x.forwardMs));
    const sf = median(s.map((x) => x.forwardMs));
    const sfCli = median(s.map((x) => x.forwardCliMs ?? NaN));
    const wb = median(w.map((x) => x.backMs));
    const sb = median(s.map((x) => x.backMs));
    const sbCli = median(s.map((x) => x.backCliMs ?? NaN));
    const ratio = round(wf / sf, 2);
    const ratioCli = round(wf / sfCli, 2);
    const resize = {
      wharfP50: percentile(rw, 50), wharfP99: percentile(rw, 99),
      dockerP50: percentile(rd, 50), dockerP99: percentile(rd, 99),
    };
    const resizeRatio = round(resize.wharfP50 / resize.dockerP50, 2);

    console.log(`rollout: ${sets} sets (infra + 1 business container) vs ${sets} swarm tasks, 3 hosts, batch ${String(batch)} (${parallelism} at a time), ${runs} runs interleaved`);
    console.log(`ms since the request        ${['→ new', '→ new (CLI)', 'back → old', 'back (CLI)'].map((h) => h.padStart(14)).join('')}`);
    const row = (name: string, x: RolloutSample) => console.log(`${name.padEnd(28)}${[x.forwardMs, x.forwardCliMs, x.backMs, x.backCliMs].map((v) => cell(v)).join('')}`);
    for (let r = 0; r < runs; r++) {
      row(`  wharf run ${r + 1}`, w[r] as RolloutSample);
      row(`  swarm run ${r + 1}`, s[r] as RolloutSample);
    }
    row('wharf median', { forwardMs: wf, backMs: wb });
    row('swarm median', { forwardMs: sf, backMs: sb, forwardCliMs: sfCli, backCliMs: sbCli });
    console.log(`ratio → new, wharf/swarm: ${ratio} (against the swarm CLI's return: ${ratioCli})`);
    console.log(`resize (${resizes} samples each, ${CPU_VALUES.join(' ↔ ')} cores)   p50 ms   p99 ms`);
    const ms = (v: number) => String(round(v)).padStart(8);
    console.log(`  wharf resizeSet → reported + inspect  ${ms(resize.wharfP50)} ${ms(resize.wharfP99)}`);
    console.log(`  docker update --cpus → inspect        ${ms(resize.dockerP50)} ${ms(resize.dockerP99)}`);
    console.log(`ratio resize p50, wharf/docker update: ${resizeRatio}`);
    console.log(JSON.stringify({
      bench: 'rollout', sets, hosts: c.hosts.length, batch, runs,
      wharf_ms: round(wf), swarm_ms: round(sf), ratio,
      swarm_cli_ms: round(sfCli), ratio_cli: ratioCli,
      wharf_back_ms: round(wb), swarm_back_ms: round(sb),
      resize_wharf_p50_ms: round(resize.wharfP50), resize_wharf_p99_ms: round(resize.wharfP99),
      resize_docker_update_p50_ms: round(resize.dockerP50), resize_docker_update_p99_ms: round(resize.dockerP99),
      resize_ratio: resizeRatio,
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
