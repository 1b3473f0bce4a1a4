/**
 * load: many small sets on the 3-host harness, and the API's latency while 200 more
 * are scaled out.
 *
 *   1. Base: an app (busybox, cpu 0.01 and disk 16Mi, the smallest Wharf takes, and
 *      memory 32Mi, see RESOURCES; a platform network 10.216.0.0/21 so every set holds an
 *      IPAM address) scaled up by `--step` sets at a time until `--sets` − `--scale`
 *      are ready. After each step: memory in use (MemTotal − MemAvailable), the PSS
 *      of shims, engines, agents and the server, the slab, and the CPU busy with the
 *      sets idle (10 s). Memory per set is what the stack holds more than with zero
 *      sets (PSS of its processes, the containers' cgroups, the slab: other work on
 *      the shared machine does not count), divided by the sets; the machine's own
 *      figure (MemTotal − MemAvailable) beside it. When what is available would
 *      fall under `--reserve` GiB (default 4), or the stack's processes keep more
 *      than 85 % of the CPUs busy with the sets idle, the run stops growing and says
 *      so: the largest count that fits.
 *   2. Peer memory, with the base running: `--peer` pairs (default 50) of plain
 *      `docker run` containers on h1 — an infra-like container (the privileges
 *      Wharf's infra containers have on this host, `--ipc shareable`) and one joining
 *      its network and IPC namespaces, the same image, command and limits —
 *      measured, then removed: what a set costs Docker alone.
 *   3. Latency: requests one at a time, 250 ms apart — GET one set, GET /v1/sets
 *      (every set), PUT a new set (every 4th round; at most 5 idle, 20 during) — and
 *      side by side the peer, Docker's Engine API at the same moments: list every
 *      container of the three dockerds (in parallel), inspect one. First 20 s idle,
 *      then during the scale-out of `--scale` sets (until the app counts them ready).
 *   4. The leak checker (e2e/src/harness/leaks.ts) with every set up, then the app
 *      and the probe sets deleted (timed until no container is left) and the checker
 *      again.
 *
 *   npm run bench -- load [--sets 1000] [--scale 200] [--step 200] [--peer 50] [--reserve 4] [--hosts 3] [--server-nice 0]
 *
 * The server shares the machine's cores with the hosts' engines and shims, which a
 * production server does not; `--server-nice=-10` gives it the CPU weight of a machine
 * of its own (the dockerds the peer is measured on stay at 0). During the scale-out the
 * server's CPU time is read from schedstat: how much of the time its event loop ran,
 * and how much it waited for a core with work to do.
 *
 * The targets the API is held to are Kubernetes' API call latency SLOs, taken as ours
 * (docs/reliability.md, Load): p99 ≤ 1 s for reading or writing one object, p99 ≤ 5 s
 * for the list of a tenant's sets (Kubernetes: 5 s for a namespace-scoped list).
 * The last line is JSON.
 */
import { WharfClient } from '@wharf/client';
import type { Cluster } from '../../e2e/dist/harness/cluster.js';
import type { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { sleep } from '../../e2e/dist/harness/exec.js';
import { countLeaks, type LeakChecker } from '../../e2e/dist/harness/leaks.js';
import {
  allGone, cpuBusy, footprint, IDLE, IDLE_CONTAINERS, leakCheck, logger, memory, mib, MIB, onCluster, schedShares, schedTimes, serverMemory, stackCpu, timed, type Footprint, type Memory,
} from './footprint.js';
import { flags, percentile, round } from './stats.js';
import { docker, engine, until } from './swarm.js';

const IMAGE = 'wharf/busybox:latest';
const BASE = 'load.base';
const PROBE = 'load.probe';
const GIB = 1024 * MIB;
/**
 * The smallest CPU and disk Wharf takes; memory 32Mi, twice the 16Mi floor: runc's init process (about
 * 14 MiB, charged to the container's cgroup) must fit beside busybox (docs/benchmarks.md, load).
 */
const RESOURCES = { cpu: 0.01, memory: '32Mi', disk: '16Mi' };
/** p99 targets in ms (see the header). */
const TARGETS = { get: 1000, create: 1000, list: 5000 } as const;
const IDLE_CPU_LIMIT = 0.85;

const { sets: wanted, scale, step, peer: peerPairs, reserve, hosts: hostCount, 'server-nice': niceFlag } = flags({ sets: 1000, scale: 200, step: 200, peer: 50, reserve: 4, hosts: 3, 'server-nice': '0' });
const serverNice = Number(niceFlag);
if (!Number.isInteger(serverNice) || serverNice < -20 || serverNice > 19) throw new Error(`--server-nice must be a nice value from -20 to 19, not "${niceFlag}"`);
const reserveBytes = reserve * GIB;
if (scale >= wanted) throw new Error(`--scale (${scale}) must be less than --sets (${wanted})`);

const log = logger('load');

// ---- 2. the peer's memory: docker run pairs ----

interface PeerMemory {
  pairs: number;
  /** What the stack holds more per pair (Footprint.totalBytes). */
  perPairBytes: number;
  shimPssPerPairBytes: number;
  createMsPerPair: number;
}

/** The docker flags that give a container what Wharf's agent gives its infra containers on this host. */
async function infraFlags(h: DockerHost): Promise<string[]> {
  const [id] = await h.containerIds('label=wharf.role=infra');
  if (!id) throw new Error(`no Wharf infra container on ${h.name} to copy the privileges of`);
  const hc = (await h.inspect(id)).HostConfig as { Privileged: boolean; CapAdd?: string[]; CapDrop?: string[]; SecurityOpt?: string[] };
  if (hc.Privileged) return ['--privileged'];
  return [...(hc.CapAdd ?? []).flatMap((x) => ['--cap-add', x]), ...(hc.CapDrop ?? []).flatMap((x) => ['--cap-drop', x]), ...(hc.SecurityOpt ?? []).flatMap((x) => ['--security-opt', x])];
}

async function peerMemory(h: DockerHost, pairs: number): Promise<PeerMemory> {
  const flags = await infraFlags(h);
  const f0 = await footprint();
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) {
    await docker(h, ['run', '-d', '--name', `peer-${i}-infra`, ...flags, '--ipc', 'shareable', '--label', 'bench=load-peer', IMAGE, '/bin/sh', '-c', IDLE]);
    await docker(h, ['run', '-d', '--name', `peer-${i}-app`, '--network', `container:peer-${i}-infra`, '--ipc', `container:peer-${i}-infra`,
      '--cpus', '0.01', '--memory', '32m', '--label', 'bench=load-peer', IMAGE, '/bin/sh', '-c', IDLE]);
  }
  const createMsPerPair = (performance.now() - t0) / pairs;
  await sleep(5000);
  const f1 = await footprint();
  const ids = (await docker(h, ['ps', '-aq', '--filter', 'label=bench=load-peer'])).split('\n').filter(Boolean);
  await docker(h, ['rm', '-f', ...ids]);
  return { pairs, perPairBytes: (f1.totalBytes - f0.totalBytes) / pairs, shimPssPerPairBytes: (f1.kinds.shim.pssBytes - f0.kinds.shim.pssBytes) / pairs, createMsPerPair };
}

// ---- 1. the base, step by step ----

interface Step {
  sets: number;
  seconds: number;
  mem: Memory;
  fp: Footprint;
  serverRss: number;
  serverHeap: number;
  /** Share of the machine's CPUs busy over 10 s with the sets idle: all of it, and the stack's own processes. */
  machineCpu: number;
  stackCpu: number;
}

/** What went wrong on the way without ending the run: sets seen failed (the agent retries them), polls that failed. */
const trouble: string[] = [];
const failedSeen = new Set<string>();

/** Polls the app until `n` sets are ready; a failed set or a failed poll is noted (the agent retries), not fatal. */
async function waitReady(c: WharfClient, appkey: string, n: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  return until(`${n} sets of ${appkey} ready`, t0, async () => {
    try {
      const app = await c.getApp(appkey);
      for (const s of app.sets.filter((x) => x.status === 'failed' && !failedSeen.has(x.id))) {
        failedSeen.add(s.id);
        trouble.push(`set ${appkey}/${s.id} failed: ${s.message ?? ''}`);
        log(trouble.at(-1) as string);
      }
      return app.ready >= n;
    } catch (err) {
      trouble.push(`poll of ${appkey}: ${(err as Error).message}`);
      log(trouble.at(-1) as string);
      return false;
    }
  }, { everyMs: 2000, timeoutMs });
}

async function measure(c: WharfClient, sets: number, seconds: number): Promise<Step> {
  await sleep(5000); // let the last starts' transient memory settle
  const before = await footprint();
  const machineCpu = await cpuBusy(10_000);
  const [mem, fp, srv] = await Promise.all([memory(), footprint(), serverMemory(c)]);
  return { sets, seconds, mem, fp, serverRss: srv.rssBytes, serverHeap: srv.heapUsedBytes, machineCpu, stackCpu: stackCpu(before, fp, 10_000) };
}

// ---- 3. latency ----

type Op = 'get' | 'list' | 'create' | 'dockerList' | 'dockerInspect';
type Samples = Record<Op, number[]> & { errors: string[] };

let probes = 0;

/** One request at a time, 250 ms apart, until `done()`. */
async function sample(cluster: Cluster, baseSets: number, done: () => boolean, maxCreates: number): Promise<Samples> {
  const c = cluster.platform.client;
  const s: Samples = { get: [], list: [], create: [], dockerList: [], dockerInspect: [], errors: [] };
  const h1 = cluster.hosts[0] as DockerHost;
  const inspectId = (await h1.containerIds())[0] as string;
  let creates = 0;
  const take = async (op: Op, fn: () => Promise<unknown>) => {
    try {
      s[op].push(await timed(fn));
    } catch (err) {
      s.errors.push(`${op}: ${(err as Error).message}`);
    }
  };
  for (let round = 0; !done(); round++) {
    await take('get', () => c.getSet(BASE, 1 + Math.floor(Math.random() * baseSets)));
    await take('list', () => c.listSets());
    if (round % 4 === 0 && creates < maxCreates) {
      creates++;
      await take('create', () => c.applySet({ appkey: PROBE, id: ++probes, resources: RESOURCES, containers: IDLE_CONTAINERS }));
    }
    await take('dockerList', () => Promise.all(cluster.hosts.map((h) => engine(h, '/containers/json?all=1'))));
    await take('dockerInspect', () => engine(h1, `/containers/${inspectId}/json`));
    await sleep(250);
  }
  return s;
}

function stats(xs: number[]) {
  return { n: xs.length, p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(percentile(xs, 100)) };
}

/** The latency table: idle, and during the scale-out, against the targets. */
function latencyTable(idle: Samples, during: Samples): void {
  console.log('latency ms           n     p50     p99     max  target p99');
  const rows: [string, Samples, Op, number | undefined][] = [
    ['idle get', idle, 'get', TARGETS.get], ['idle list', idle, 'list', TARGETS.list], ['idle create', idle, 'create', TARGETS.create],
    ['idle docker list', idle, 'dockerList', undefined], ['idle docker inspect', idle, 'dockerInspect', undefined],
    ['scale get', during, 'get', TARGETS.get], ['scale list', during, 'list', TARGETS.list], ['scale create', during, 'create', TARGETS.create],
    ['scale docker list', during, 'dockerList', undefined], ['scale docker inspect', during, 'dockerInspect', undefined],
  ];
  for (const [name, s, op, t] of rows) {
    const x = stats(s[op]);
    console.log(`${name.padEnd(20)}${String(x.n).padStart(4)}${String(x.p50).padStart(8)}${String(x.p99).padStart(8)}${String(x.max).padStart(8)}  ${t === undefined ? '' : `${t} ${x.p99 <= t ? 'met' : 'MISSED'}`}`);
  }
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
function schedLine(s: ReturnType<typeof schedShares>): string {
  return `server (nice ${serverNice}) during the scale-out: its event loop ran ${pct(s.mainRun)} of the time and waited for a core ${pct(s.mainWait)}; all its threads ${round(s.run, 2)} cores, waiting ${round(s.wait, 2)}`;
}

// ---- main ----

async function load(cl: Cluster, checker: LeakChecker): Promise<void> {
  const c = cl.platform.client;
  await c.createNetwork({ name: 'load', subnet: '10.216.0.0/21', gateway: '10.216.0.1', default: true });
  for (const h of cl.hosts) await c.updateHost(h.name, { networks: [{ name: 'load', uplink: 'eth0' }] });

  await c.createApp({ appkey: BASE, replicas: 0, scaleIn: { drainSeconds: 0 }, template: { resources: RESOURCES, containers: IDLE_CONTAINERS } });
  const zero = await measure(c, 0, 0);
  const steps: Step[] = [zero];
  const perSetBytes = (st: Step) => (st.sets ? (st.fp.totalBytes - zero.fp.totalBytes) / st.sets : NaN);
  const usedPerSetBytes = (st: Step) => (st.sets ? (st.mem.usedBytes - zero.mem.usedBytes) / st.sets : NaN);
  let target = wanted;
  let limitedBy = 'none';
  for (let n = Math.min(step, target - scale); ; n = Math.min(n + step, target - scale)) {
    const t0 = performance.now();
    await c.scaleApp(BASE, n);
    await waitReady(c, BASE, n, 45 * 60_000);
    const st = await measure(c, n, (performance.now() - t0) / 1000);
    steps.push(st);
    const perSet = perSetBytes(st);
    // What is free now, less the reserve, divided by what a set takes.
    const fits = n + Math.floor((st.mem.availableBytes - reserveBytes) / perSet);
    log(`${n} sets ready in ${Math.round(st.seconds)} s; ${mib(perSet)} MiB per set, room for ${fits}; idle CPU ${Math.round(st.stackCpu * 100)} % the stack, ${Math.round(st.machineCpu * 100)} % the machine`);
    if (fits < target) {
      target = fits;
      limitedBy = `memory: ${mib(perSet)} MiB per set leaves room for ${fits} with ${reserve} GiB kept free`;
    }
    if (st.stackCpu > IDLE_CPU_LIMIT) {
      target = Math.min(target, n + scale);
      limitedBy = `CPU: the stack keeps ${Math.round(st.stackCpu * 100)} % of the CPUs busy with ${n} idle sets`;
    }
    if (n >= target - scale) break;
  }
  const base = steps.at(-1)?.sets as number;
  if (target < wanted) log(`${wanted} sets do not fit (${limitedBy}): running ${base} + ${scale}`);

  log(`peer: ${peerPairs} docker run pairs on h1 …`);
  const peer = await peerMemory(cl.hosts[0] as DockerHost, peerPairs);
  log(`peer: ${mib(peer.perPairBytes)} MiB per pair (shims ${mib(peer.shimPssPerPairBytes)} MiB), ${Math.round(peer.createMsPerPair)} ms per pair`);

  log('latency, idle, 20 s …');
  const idleEnd = Date.now() + 20_000;
  const idle = await sample(cl, base, () => Date.now() > idleEnd, 5);

  log(`latency during the scale-out ${base} → ${base + scale} …`);
  let scaled = false;
  const t0 = performance.now();
  await c.scaleApp(BASE, base + scale);
  const ready = waitReady(c, BASE, base + scale, 45 * 60_000).then((ms) => {
    scaled = true;
    return ms;
  });
  const sched0 = await schedTimes(cl.platform.serverPid);
  const during = await sample(cl, base, () => scaled, 20);
  const scaleMs = await ready;
  const sched = schedShares(sched0, await schedTimes(cl.platform.serverPid), performance.now() - t0);
  log(`scale-out of ${scale} ready after ${Math.round(scaleMs / 1000)} s (${Math.round(performance.now() - t0)} ms)`);
  // Printed now: what comes after (the mass deletion) is the heaviest part of the run.
  latencyTable(idle, during);
  console.log(schedLine(sched));
  await until(`${probes} probe sets running`, performance.now(), async () => (await c.listSets({ appkey: PROBE })).every((s) => s.status === 'running'), { everyMs: 2000, timeoutMs: 10 * 60_000 });
  const full = await measure(c, base + scale + probes, scaleMs / 1000);

  const leaksFull = await leakCheck(checker, `with ${full.sets} sets`, log);

  log('deleting every set …');
  const d0 = performance.now();
  // Deleting the app marks every set of it in the request: with 1,000 sets on a busy machine that takes longer than the client's default 30 s.
  const patient = new WharfClient({ server: cl.platform.url, token: cl.platform.adminToken, timeoutMs: 10 * 60_000 });
  await patient.deleteApp(BASE);
  const deleteAnswerMs = performance.now() - d0;
  log(`DELETE of the app (${base + scale} sets) answered after ${Math.round(deleteAnswerMs)} ms`);
  for (let i = 1; i <= probes; i++) await patient.deleteSet(PROBE, i);
  const deleteMs = await until('every set and container gone', d0, () => allGone(cl), { everyMs: 2000, timeoutMs: 45 * 60_000 });
  const leaksAfter = await leakCheck(checker, 'after deleting them', log);

  // ---- report ----
  const perSet = perSetBytes;
  const cell = (v: number, w: number) => String(v).padStart(w);
  console.log(`load: ${hostCount} hosts, sets of infra + 1 business container (cpu 0.01, memory 32Mi, disk 16Mi, one IPAM address each)`);
  console.log('MiB unless said; per set: the stack (PSS of shims, engines, agents, server + container cgroups + slab) since 0 sets, and the machine (MemTotal − MemAvailable)');
  console.log('  sets  ready in  stack GiB  per set  machine/set  shims  shim PSS  engines  agents  server RSS/heap  containers    slab  idle CPU stack/machine');
  for (const st of [...steps, full]) {
    const k = st.fp.kinds;
    console.log(`${cell(st.sets, 6)}${cell(Math.round(st.seconds), 8)} s${(st.fp.totalBytes / GIB).toFixed(2).padStart(11)}${cell(mib(perSet(st)), 9)}${cell(mib(usedPerSetBytes(st)), 13)}${cell(k.shim.count, 7)}${cell(Math.round(k.shim.pssBytes / MIB), 10)}${cell(Math.round(k.engine.pssBytes / MIB), 9)}${cell(Math.round(k.agent.pssBytes / MIB), 8)}${`${Math.round(st.serverRss / MIB)}/${Math.round(st.serverHeap / MIB)}`.padStart(17)}${cell(Math.round(st.fp.containersBytes / MIB), 12)}${cell(Math.round(st.fp.slabBytes / MIB), 8)}${`${Math.round(st.stackCpu * 100)} %/${Math.round(st.machineCpu * 100)} %`.padStart(24)}`);
  }
  console.log(`peer: ${peer.pairs} docker run pairs: ${mib(peer.perPairBytes)} MiB per pair (shims ${mib(peer.shimPssPerPairBytes)} MiB), ${Math.round(peer.createMsPerPair)} ms per pair created; Wharf ${mib(perSet(full))} MiB per set: ratio ${round(perSet(full) / peer.perPairBytes, 2)}`);
  if (target < wanted) console.log(`${wanted} sets do not fit: ${limitedBy}`);
  const d = { get: stats(during.get), list: stats(during.list), create: stats(during.create), dl: stats(during.dockerList), di: stats(during.dockerInspect) };
  console.log(`ratio p99 during the scale-out, Wharf/Docker: get/inspect ${round(d.get.p99 / d.di.p99, 2)}, list/list ${round(d.list.p99 / d.dl.p99, 2)}; errors ${idle.errors.length + during.errors.length}${[...idle.errors, ...during.errors].slice(0, 5).map((e) => `\n  ${e}`).join('')}`);
  console.log(schedLine(sched));
  console.log(`deleted ${full.sets} sets in ${Math.round(deleteMs / 1000)} s (the app's DELETE answered in ${Math.round(deleteAnswerMs)} ms); leaks with every set up: ${leaksFull.length}, after deleting: ${leaksAfter.length}`);
  console.log(`trouble on the way: ${trouble.length}${trouble.slice(0, 10).map((t) => `\n  ${t}`).join('')}`);
  const met = d.get.p99 <= TARGETS.get && d.list.p99 <= TARGETS.list && d.create.p99 <= TARGETS.create;
  console.log(JSON.stringify({
    bench: 'load', hosts: hostCount, sets_wanted: wanted, sets: full.sets, base, scale, probes, limited_by: limitedBy,
    per_set_mib: mib(perSet(full)), peer_per_pair_mib: mib(peer.perPairBytes), ratio_memory: round(perSet(full) / peer.perPairBytes, 2),
    machine_per_set_mib: mib(usedPerSetBytes(full)), stack_gib: round(full.fp.totalBytes / GIB, 2), used_gib: round(full.mem.usedBytes / GIB, 2),
    idle_cpu_stack: round(full.stackCpu, 2), idle_cpu_machine: round(full.machineCpu, 2), server_rss_mib: mib(full.serverRss), server_heap_mib: mib(full.serverHeap),
    scale_out_s: round(scaleMs / 1000), delete_s: round(deleteMs / 1000), delete_app_answer_ms: round(deleteAnswerMs),
    get_p50_ms: d.get.p50, get_p99_ms: d.get.p99, list_p50_ms: d.list.p50, list_p99_ms: d.list.p99, create_p50_ms: d.create.p50, create_p99_ms: d.create.p99,
    docker_list_p99_ms: d.dl.p99, docker_inspect_p99_ms: d.di.p99, targets_met: met, server_nice: serverNice,
    server_loop_run: sched.mainRun, server_loop_wait: sched.mainWait, server_cpu: sched.run, errors: idle.errors.length + during.errors.length, trouble: trouble.length,
    leaks_full: countLeaks(leaksFull), leaks_after: countLeaks(leaksAfter),
  }));
  if (leaksFull.length || leaksAfter.length) process.exitCode = 1;
}

await onCluster(hostCount, log, load, { serverNice });
