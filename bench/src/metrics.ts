/**
 * metrics: what it costs to collect the resource usage of 100 running containers on
 * one host, Wharf's agent collector (cgroups + /proc) side by side with the Docker
 * stats API on the same dockerd, in the same run.
 *
 * Setup: one DockerHost and a Platform (real wharf-server and wharf-agent), 50 sets of
 * an infra container plus one business container (busybox loop, 0.1 core, 32Mi),
 * i.e. 100 running containers.
 *
 * The agent runs with its default 5 s heartbeat throughout (the harness's 1 s one is for
 * tests) and is restarted for each phase with the flags of that phase; each phase
 * begins --settle (default 20 s) after the restart, once the agent has re-adopted its
 * sets.
 *
 * Wharf, per cycle: the agent collects every --cycle-interval (default 2 s); the
 * collector's own figures for a cycle, collectMs (wall) and collectCpuMs (CPU time of
 * the agent process during the collection), are read from the server's
 * `GET /v1/hosts/{name}/metrics` history as the heartbeats bring them in (one cycle per
 * heartbeat: the newest). p50 and p99 of --cycles cycles. Seen from outside as well: the
 * agent's CPU share from /proc over the same phase, less its share with the collector
 * off, times the interval, is the collector's CPU per cycle including what the agent
 * does with a collection afterwards (sending it with a heartbeat).
 *
 * Docker stats API, per pass: `GET /containers/{id}/stats?stream=false` for every one
 * of the 100 containers over dockerd's unix socket, and the same with `one-shot=true`
 * (API 1.41; stream=false alone waits for a second sample so that it can fill in
 * `precpu_stats`). Each with --concurrency requests in flight (default 8) and with all
 * of them at once, --passes passes of each (default 3), interleaved, after one warm-up
 * pass; and sequentially, --sequential-passes passes (default 1: dockerd samples a
 * container once a second, so a sequential pass takes 100–200 s). Wall time per pass,
 * and the CPU time spent during it by dockerd, by the host's containerd and its shims
 * (which read the cgroups for dockerd), and by this process as the client (receiving and
 * parsing the JSON, what an agent using the API would pay), from /proc/<pid>/stat
 * (utime + stime). The engine's idle rate (measured over the window just before, with
 * the agent's collector off) times the pass's wall time is subtracted: 100 idle shims
 * and containerd use some CPU of their own, which would otherwise count against the
 * slow passes. The agent is idle meanwhile (its collector off).
 *
 * Agent's steady CPU share: /proc/<agent pid>/stat utime + stime over --steady (default
 * 60 s) divided by the wall time, once with the collector at the agent's default
 * interval and once with it effectively off (an interval of a day). The difference is
 * the collector's share; the collector's share by its own figures (the collectCpuMs of
 * the cycles inside the window, over the window) and the engine's (dockerd + containerd
 * + shims) share over the same windows are printed too.
 *
 *   npm run bench -- metrics [--containers 100] [--cycles 10] [--steady 60s]
 *                            [--cycle-interval 2s] [--passes 3] [--sequential-passes 1]
 *                            [--concurrency 8] [--settle 20s] [--trace]
 *
 * The last line is JSON; `ratio` is the fastest Docker stats API pass (wall) over the
 * median Wharf cycle (wall), `ratio_cpu` the cheapest concurrent pass (CPU) over the
 * median collectCpuMs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { HostMetrics, HostMetricsHistory } from '@wharf/types';
import { parsePidStat } from '../../packages/agent/dist/metrics/procfs.js';
import { cmdline, type DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { quiet, sleep, waitFor } from '../../e2e/dist/harness/exec.js';
import { LOOP } from '../../e2e/dist/harness/images.js';
import { Platform } from '../../e2e/dist/harness/platform.js';
import { durationMs, median, percentile, positiveInt, round } from './stats.js';
import { engine, filters, pool, ramp } from './swarm.js';

const HOST = 'bench';
const APPKEY = 'bench.metrics';
/** The agent's default heartbeat (the harness's is 1 s), used throughout. */
const HEARTBEAT_S = 5;
/** A collection interval that keeps the collector off for the whole window. */
const OFF_INTERVAL_S = 86_400;

const { values } = parseArgs({
  options: {
    containers: { type: 'string', default: '100' },
    cycles: { type: 'string', default: '10' },
    steady: { type: 'string', default: '60s' },
    'cycle-interval': { type: 'string', default: '2s' },
    passes: { type: 'string', default: '3' },
    'sequential-passes': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    settle: { type: 'string', default: '20s' },
    trace: { type: 'boolean', default: false },
  },
});
const containers = positiveInt('containers', values.containers);
if (containers % 2 !== 0) throw new Error(`--containers must be even (each set is an infra and a business container), not ${containers}`);
const sets = containers / 2;
const cycles = positiveInt('cycles', values.cycles);
const steadyMs = durationMs('steady', values.steady);
const cycleIntervalS = durationMs('cycle-interval', values['cycle-interval']) / 1000;
if (cycleIntervalS < 1) throw new Error(`--cycle-interval must be at least 1s (the agent's minimum), not ${values['cycle-interval']}`);
const passes = positiveInt('passes', values.passes);
const sequentialPasses = values['sequential-passes'] === '0' ? 0 : positiveInt('sequential-passes', values['sequential-passes']);
const concurrency = positiveInt('concurrency', values.concurrency);
const settleMs = durationMs('settle', values.settle);

const log = (line: string) => process.stderr.write(`metrics: ${line}\n`);

function spec(id: number) {
  return {
    id, appkey: APPKEY,
    resources: { cpu: 0.1, memory: '32Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
  };
}

const p99 = (xs: number[]) => percentile(xs, 99);

// ---- CPU time of processes, from /proc ----

const TICK_MS = 1000 / (Number(quiet('getconf', ['CLK_TCK']).trim()) || 100);

/** utime + stime of a process (all its threads) in ms; undefined when it is gone. */
function cpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const times = parsePidStat(stat);
  return times && (times.utime + times.stime) * TICK_MS;
}

/** The processes that serve the Engine API of a host: dockerd, its containerd and the containerd shims. */
interface EngineProcs {
  dockerd: number;
  containerd: number[];
  shims: number[];
}

function engineProcs(host: DockerHost): EngineProcs {
  const dockerd = host.dockerdPid();
  if (dockerd === undefined) throw new Error(`dockerd of ${host.name} is not running`);
  const dir = join(host.execRoot, 'exec', 'containerd');
  let containerd: number[] = [];
  try {
    const pid = Number(readFileSync(join(dir, 'containerd.pid'), 'utf8').trim());
    if (pid > 0 && cmdline(pid).includes(dir)) containerd = [pid];
  } catch {
    // no pidfile: containerd not attributed
  }
  const shims = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    const cmd = cmdline(pid);
    return cmd.includes('containerd-shim') && cmd.includes(dir);
  });
  return { dockerd, containerd, shims };
}

/** CPU ms of each group of processes, and of this process. */
interface CpuSnapshot {
  dockerd: Map<number, number>;
  containerd: Map<number, number>;
  shims: Map<number, number>;
  self: number;
}

function snapshot(p: EngineProcs): CpuSnapshot {
  const read = (pids: number[]) => new Map(pids.flatMap((pid) => {
    const ms = cpuMs(pid);
    return ms === undefined ? [] : [[pid, ms] as const];
  }));
  const self = process.cpuUsage();
  return { dockerd: read([p.dockerd]), containerd: read(p.containerd), shims: read(p.shims), self: (self.user + self.system) / 1000 };
}

/** CPU ms per group of the engine, and of this process as a client. */
interface Spent {
  dockerd: number;
  containerd: number;
  shims: number;
  client: number;
}

/** CPU ms spent between two snapshots, per group (processes present in both). */
function spent(a: CpuSnapshot, b: CpuSnapshot): Spent {
  const sum = (x: Map<number, number>, y: Map<number, number>) => [...y].reduce((s, [pid, ms]) => s + (x.has(pid) ? ms - (x.get(pid) as number) : 0), 0);
  return { dockerd: sum(a.dockerd, b.dockerd), containerd: sum(a.containerd, b.containerd), shims: sum(a.shims, b.shims), client: b.self - a.self };
}

/** The engine's CPU ms per ms of wall time while nobody asks it for stats. */
type IdleRate = Omit<Spent, 'client'>;

// ---- Docker stats API ----

interface StatsMode {
  label: string;
  query: string;
  width: number;
  passes: number;
}

/** One pass; CPU net of the engine's idle rate over the pass. */
interface PassSample extends Spent {
  wallMs: number;
  /** dockerd + containerd + shims + client. */
  total: number;
  /** The same before the idle rate was taken off. */
  gross: number;
}

type DockerStats = { read?: string; cpu_stats?: { cpu_usage?: { total_usage?: number } }; memory_stats?: { usage?: number } };

/** One pass of the stats API over every container; throws if a response lacks CPU or memory figures. */
async function statsPass(host: DockerHost, procs: EngineProcs, ids: string[], mode: StatsMode, idle: IdleRate): Promise<PassSample> {
  let incomplete = 0;
  const a = snapshot(procs);
  const t0 = performance.now();
  await pool(ids.length, mode.width, async (i) => {
    const s = await engine<DockerStats>(host, `/containers/${ids[i]}/stats?${mode.query}`);
    if (!(Number(s.cpu_stats?.cpu_usage?.total_usage) > 0) || s.memory_stats?.usage === undefined) incomplete++;
  });
  const wallMs = performance.now() - t0;
  const raw = spent(a, snapshot(procs));
  if (incomplete) throw new Error(`${mode.label}: ${incomplete} of ${ids.length} responses had no CPU or memory usage`);
  const net = {
    dockerd: raw.dockerd - idle.dockerd * wallMs,
    containerd: raw.containerd - idle.containerd * wallMs,
    shims: raw.shims - idle.shims * wallMs,
    client: raw.client,
  };
  return { wallMs, ...net, total: net.dockerd + net.containerd + net.shims + net.client, gross: raw.dockerd + raw.containerd + raw.shims + raw.client };
}

// ---- Wharf ----

/** Restarts the host's agent with these extra flags; resolves with its pid once it has reported again. */
async function restartAgent(platform: Platform, args: string[]): Promise<number> {
  await platform.restartAgent(HOST, args);
  const pid = platform.agentPid(HOST);
  if (pid === undefined) throw new Error(`the agent of ${HOST} exited; see ${join(platform.dir, `agent-${HOST}.log`)}`);
  return pid;
}

function hostHistory(platform: Platform): Promise<HostMetricsHistory> {
  return platform.client.request<HostMetricsHistory>('GET', `/v1/hosts/${encodeURIComponent(HOST)}/metrics`);
}

/**
 * `n` of the collector's cycles as the server's history shows them, from `since` on.
 * The history is read every second and kept here, so a short retention loses nothing.
 */
async function wharfCycles(platform: Platform, since: number, n: number): Promise<HostMetrics[]> {
  const seen = new Map<string, HostMetrics>();
  const timeoutMs = Math.max(0, since - Date.now()) + (n + 4) * Math.max(cycleIntervalS, HEARTBEAT_S) * 1000 + 60_000;
  await waitFor(`${n} collection cycles in the history of ${HOST}`, async () => {
    for (const p of (await hostHistory(platform)).points) if (Date.parse(p.time) > since && p.collectMs !== undefined) seen.set(p.time, p);
    if (values.trace) log(`${seen.size} cycles seen`);
    return seen.size >= n;
  }, timeoutMs, 1000);
  return [...seen.values()].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)).slice(0, n);
}

interface Window {
  agentPct: number;
  enginePct: number;
  /** The engine's CPU ms per ms over the window. */
  idle: IdleRate;
  wallMs: number;
  /** Wall clock (ms since the epoch) of the window. */
  from: number;
  to: number;
}

/** Starts measuring the CPU share (% of one core) of the agent and of the engine's processes; `end()` stops. */
function cpuWindow(agentPid: number, host: DockerHost): { end: () => Window } {
  const procs = engineProcs(host);
  const a0 = cpuMs(agentPid);
  const e0 = snapshot(procs);
  const from = Date.now();
  const t0 = performance.now();
  return {
    end: () => {
      const a1 = cpuMs(agentPid);
      const e = spent(e0, snapshot(procs));
      const wallMs = performance.now() - t0;
      if (a0 === undefined || a1 === undefined) throw new Error('the agent exited during the measurement');
      const idle = { dockerd: e.dockerd / wallMs, containerd: e.containerd / wallMs, shims: e.shims / wallMs };
      return { agentPct: (100 * (a1 - a0)) / wallMs, enginePct: 100 * (idle.dockerd + idle.containerd + idle.shims), idle, wallMs, from, to: Date.now() };
    },
  };
}

async function steadyShare(agentPid: number, host: DockerHost, ms: number): Promise<Window> {
  const w = cpuWindow(agentPid, host);
  await sleep(ms);
  return w.end();
}

/** Median spacing of the points, in seconds. */
function spacingS(points: HostMetrics[]): number {
  const t = points.map((p) => Date.parse(p.time)).sort((a, b) => a - b);
  return median(t.slice(1).map((x, i) => (x - (t[i] as number)) / 1000));
}

// ---- main ----

const num = (v: number, w = 9, digits = 1) => (Number.isNaN(v) ? '' : String(round(v, digits))).padStart(w);

async function main(): Promise<void> {
  let platform: Platform | undefined;
  try {
    log('starting a host, a wharf-server and an agent …');
    platform = await Platform.onOwnHost(HOST);
    const client = platform.client;
    const h = platform.host(HOST);

    log(`${sets} sets (${containers} containers) …`);
    await pool(sets, 8, (i) => client.applySet(spec(i)));
    await ramp(`${sets} sets running`, performance.now(), sets, async () =>
      (await client.listSets({ appkey: APPKEY })).filter((s) => s.status === 'running').length, { everyMs: 500, timeoutMs: 300_000, trace: values.trace });
    const running = await engine<{ Id: string }[]>(h, `/containers/json?${filters({ label: [`wharf.app=${APPKEY}`], status: ['running'] })}`);
    if (running.length !== containers) throw new Error(`${running.length} containers of ${APPKEY} running, expected ${containers}`);
    const ids = running.map((c) => c.Id);
    const load = loadavg().map((l) => round(l, 2));

    // (a) Wharf's collection cycles at a short interval; the agent's CPU share meanwhile.
    log(`agent restarted with --metrics-interval ${cycleIntervalS}s; settling ${settleMs / 1000} s, then ${cycles} cycles …`);
    const cyclePid = await restartAgent(platform, ['--metrics-interval', `${cycleIntervalS}s`, '--heartbeat-interval', `${HEARTBEAT_S}`]);
    await sleep(settleMs);
    const cycleWindow = cpuWindow(cyclePid, h);
    const points = await wharfCycles(platform, Date.now(), cycles);
    const busy = cycleWindow.end();
    const wWall = points.map((p) => p.collectMs as number);
    const wCpu = points.map((p) => p.collectCpuMs ?? NaN);
    const measured = [...new Set(points.map((p) => p.containers))];
    if (values.trace) log(`cycles: ${points.map((p) => `${p.collectMs}/${p.collectCpuMs}`).join(' ')} ms (wall/CPU)`);

    // (c, off) The agent with its collector off; then (b) the stats API while the agent stays so.
    log(`agent restarted with the collector off; settling ${settleMs / 1000} s, then ${steadyMs / 1000} s steady …`);
    const offPid = await restartAgent(platform, ['--metrics-interval', `${OFF_INTERVAL_S}s`, '--heartbeat-interval', `${HEARTBEAT_S}`]);
    await sleep(settleMs);
    const off = await steadyShare(offPid, h, steadyMs);

    const query = { stream: 'stream=false', oneShot: 'stream=false&one-shot=true' };
    const modes: StatsMode[] = [
      { label: `stream=false, ${concurrency} in flight`, query: query.stream, width: concurrency, passes },
      { label: `stream=false, all ${containers} in flight`, query: query.stream, width: containers, passes },
      { label: `one-shot, ${concurrency} in flight`, query: query.oneShot, width: concurrency, passes },
      { label: `one-shot, all ${containers} in flight`, query: query.oneShot, width: containers, passes },
      { label: 'stream=false, sequential', query: query.stream, width: 1, passes: sequentialPasses },
      { label: 'one-shot, sequential', query: query.oneShot, width: 1, passes: sequentialPasses },
    ].filter((m) => m.passes > 0);
    const procs = engineProcs(h);
    if (procs.shims.length !== containers) log(`note: ${procs.shims.length} containerd shims found for ${containers} containers`);
    log(`Docker stats API: a warm-up pass, then ${passes} passes of each concurrent mode, interleaved${sequentialPasses ? `, and ${sequentialPasses} sequential pass(es) of each (100–200 s each)` : ''} …`);
    await statsPass(h, procs, ids, modes.find((m) => m.width === containers) as StatsMode, off.idle);
    const samples = new Map<StatsMode, PassSample[]>(modes.map((m) => [m, []]));
    for (let p = 0; p < Math.max(passes, sequentialPasses); p++) {
      for (const m of modes) {
        if (p >= m.passes) continue;
        const s = await statsPass(h, procs, ids, m, off.idle);
        samples.get(m)?.push(s);
        log(`pass ${p + 1}/${m.passes} ${m.label}: ${Math.round(s.wallMs)} ms; CPU net of idle: dockerd ${Math.round(s.dockerd)} ms, containerd ${Math.round(s.containerd)} ms, shims ${Math.round(s.shims)} ms, client ${Math.round(s.client)} ms (gross ${Math.round(s.gross)} ms)`);
      }
    }

    // (c, on) The agent at its default collection interval.
    log(`agent restarted at its default collection interval; settling ${settleMs / 1000} s, then ${steadyMs / 1000} s steady …`);
    const onPid = await restartAgent(platform, ['--heartbeat-interval', `${HEARTBEAT_S}`]);
    await sleep(settleMs);
    const on = await steadyShare(onPid, h, steadyMs);
    await sleep(HEARTBEAT_S * 1000 + 1000); // the last cycle of the window reaches the server
    const inWindow = (await hostHistory(platform)).points.filter((p) => Date.parse(p.time) > on.from && Date.parse(p.time) <= on.to);
    const ownPct = (100 * inWindow.reduce((sum, p) => sum + (p.collectCpuMs ?? 0), 0)) / on.wallMs;
    const defaultInterval = round(spacingS(inWindow));
    if (values.trace) log(`cycles in the steady window: ${inWindow.map((p) => `${p.collectMs}/${p.collectCpuMs}`).join(' ')} ms (wall/CPU)`);
    // The collector's CPU per cycle seen from outside: the agent's extra CPU while collecting every cycleIntervalS.
    const outsideCpuMs = ((busy.agentPct - off.agentPct) / 100) * cycleIntervalS * 1000;

    // ---- report ----
    const of = (m: StatsMode, k: keyof PassSample) => (samples.get(m) ?? []).map((s) => s[k]);
    const med = (m: StatsMode, k: keyof PassSample) => median(of(m, k));
    const best = (ms: StatsMode[], k: keyof PassSample) => ms.reduce((a, b) => (med(b, k) < med(a, k) ? b : a));
    const stream = best(modes.filter((m) => m.query === query.stream), 'wallMs');
    const oneShot = best(modes.filter((m) => m.query === query.oneShot), 'wallMs');
    // Sequential passes last 100–200 s, so their CPU is mostly the idle rate taken off again: not a basis for the ratio.
    const cheapest = best(modes.filter((m) => m.width > 1), 'total');
    const wharfMs = median(wWall);
    const wharfCpuMs = median(wCpu);
    const ratio = Math.min(med(stream, 'wallMs'), med(oneShot, 'wallMs')) / wharfMs;
    const ratioCpu = med(cheapest, 'total') / wharfCpuMs;

    console.log(`metrics: ${containers} running containers (${sets} sets × infra + 1 business) on one host; load average ${load.join(' ')} at the start`);
    console.log('');
    console.log(`per cycle / pass, ms                        ${['wall p50', 'wall p99', 'CPU p50', 'CPU p99', 'dockerd', 'ctrd+shim', 'client'].map((x) => x.padStart(9)).join(' ')}`);
    console.log(`  Wharf collector (${cycles} cycles)`.padEnd(44) + [median(wWall), p99(wWall), wharfCpuMs, p99(wCpu)].map((v) => num(v)).join(' '));
    for (const m of modes) {
      const n = samples.get(m)?.length ?? 0;
      console.log(`  ${m.label} (${n})`.padEnd(44)
        + [med(m, 'wallMs'), p99(of(m, 'wallMs')), med(m, 'total'), p99(of(m, 'total')), med(m, 'dockerd'), median((samples.get(m) ?? []).map((s) => s.containerd + s.shims)), med(m, 'client')].map((v) => num(v)).join(' '));
    }
    console.log('  (p99 of fewer than 100 samples is the slowest one)');
    console.log(`  Wharf: containers measured per cycle ${measured.join(', ')}; CPU = the agent process during the cycle (collectCpuMs).`);
    console.log(`    Seen from outside: (agent's CPU share collecting every ${cycleIntervalS} s, ${num(busy.agentPct, 0, 2)} %, − with the collector off, ${num(off.agentPct, 0, 2)} %) × ${cycleIntervalS} s = ${num(outsideCpuMs, 0)} ms per cycle.`);
    console.log('  Stats API: CPU = dockerd + containerd + shims (each net of its idle rate) + this process as the client; medians of passes.');
    console.log('    Sequential passes: their CPU is mostly idle rate taken off again (100–200 s each), so only roughly right.');
    console.log('');
    console.log(`ratio wall, stats API / Wharf: ${round(ratio)}× (fastest: ${med(stream, 'wallMs') <= med(oneShot, 'wallMs') ? stream.label : oneShot.label}); stream=false ${round(med(stream, 'wallMs') / wharfMs)}× (${stream.label}), one-shot ${round(med(oneShot, 'wallMs') / wharfMs)}× (${oneShot.label})`);
    console.log(`ratio CPU,  stats API / Wharf: ${round(ratioCpu)}× (cheapest: ${cheapest.label})`);
    console.log('');
    console.log(`${`steady CPU share over ${round(on.wallMs / 1000)} s windows, % of one core`.padEnd(62)}  agent  engine`);
    const row = (label: string, a: number, e = NaN) => console.log(`  ${label.padEnd(60)}${num(a, 7, 2)} ${num(e, 7, 2)}`);
    row(`collector at the default interval (${defaultInterval} s), heartbeat ${HEARTBEAT_S} s`, on.agentPct, on.enginePct);
    row(`collector off, heartbeat ${HEARTBEAT_S} s`, off.agentPct, off.enginePct);
    row('difference', on.agentPct - off.agentPct, on.enginePct - off.enginePct);
    row(`the collector by its own figures (${inWindow.length} cycles' CPU / window)`, ownPct);
    row(`collecting every ${cycleIntervalS} s (the cycle phase, ${round(busy.wallMs / 1000)} s)`, busy.agentPct, busy.enginePct);

    const result = {
      bench: 'metrics',
      containers,
      cycles,
      wharf_cycle_ms: round(wharfMs, 2),
      wharf_cycle_p99_ms: round(p99(wWall), 2),
      wharf_cycle_cpu_ms: round(wharfCpuMs, 2),
      wharf_cycle_cpu_p99_ms: round(p99(wCpu), 2),
      wharf_cycle_cpu_outside_ms: round(outsideCpuMs, 1),
      stats_api_ms: round(med(stream, 'wallMs')),
      stats_api_mode: stream.label,
      stats_api_cpu_ms: round(med(stream, 'total')),
      stats_api_oneshot_ms: round(med(oneShot, 'wallMs')),
      stats_api_oneshot_mode: oneShot.label,
      stats_api_oneshot_cpu_ms: round(med(oneShot, 'total')),
      ratio: round(ratio),
      ratio_cpu: round(ratioCpu),
      agent_cpu_pct: round(on.agentPct, 2),
      agent_cpu_pct_collector_off: round(off.agentPct, 2),
      collector_cpu_pct: round(on.agentPct - off.agentPct, 2),
      collector_cpu_pct_own: round(ownPct, 2),
      interval_s: defaultInterval,
    };
    console.log(JSON.stringify(result));
  } finally {
    await platform?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
