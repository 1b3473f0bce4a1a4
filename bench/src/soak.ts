/**
 * soak: continuous create, scale and delete on the harness for `--minutes` (default
 * 10), watching the server's memory, then the leak checker. Not a benchmark and not
 * in CI: `npm run soak` (scripts/soak.sh).
 *
 * The churn, all through the API, on `--hosts` hosts (default 3) with the harness's
 * `lan` network as default (every set holds an IPAM address):
 * - `--sets` workers (default 4), each looping: create a set (busybox, cpu 0.05,
 *   memory 16Mi, disk 32Mi), wait until it runs, delete it, wait until it is gone;
 * - one app worker: scale an app to a random size in 0..`--replicas` (default 12),
 *   wait until that many are ready and no more exist; every 5th round delete the
 *   whole app, wait until it is gone, create it again.
 *
 * Every 5 s the server's RSS and V8 heap in use (its `GET /metrics`) and the agents'
 * RSS (/proc) are sampled. The bound: after `--warmup` minutes (default 2: the
 * server's heap keeps its start-up size until its first full collections, about 1.5
 * minutes into a run on two cores), the median of the last minute may exceed the
 * median of the first minute by at most `--growth` % (default 20) or `--slack` MiB
 * (default 16), whichever is larger, for the server's RSS and for its heap. After the churn every set is deleted, and the
 * leak checker (e2e/src/harness/leaks.ts) must find nothing within 2 minutes.
 *
 * Exits 1 on a breach: memory over the bound, a leak, a 5xx answer, or a worker that
 * made no progress for 3 minutes. The last line is JSON.
 *
 *   npm run soak                          # 10 minutes
 *   npm run soak -- --minutes 3 --hosts 2
 */
import { WharfError } from '@wharf/types';
import type { WharfClient } from '@wharf/client';
import type { Cluster } from '../../e2e/dist/harness/cluster.js';
import { sleep } from '../../e2e/dist/harness/exec.js';
import { countLeaks, formatLeaks, type LeakChecker } from '../../e2e/dist/harness/leaks.js';
import { allGone, IDLE_CONTAINERS, leakCheck, logger, mib, MIB, onCluster, rssOf, serverMemory } from './footprint.js';
import { flags, median, round } from './stats.js';
import { until } from './swarm.js';

const SETS = 'soak.sets';
const APP = 'soak.app';
const RESOURCES = { cpu: 0.05, memory: '16Mi', disk: '32Mi' };
const SAMPLE_MS = 5000;
const STALL_MS = 3 * 60_000;

const args = flags({ minutes: 10, warmup: '2', hosts: 3, sets: 4, replicas: 12, growth: 20, slack: 16 });
const { minutes, hosts: hostCount, sets: setWorkers, replicas: maxReplicas, growth: growthPct } = args;
const warmup = Number(args.warmup);
if (!(warmup >= 0 && warmup + 2 <= minutes)) throw new Error(`--warmup must be a number of minutes from 0 to --minutes − 2 (${minutes - 2}), not "${args.warmup}"`);
const slackBytes = args.slack * MIB;

const log = logger('soak');

/** What the churn did and what went wrong. */
const tally = { setCycles: 0, scales: 0, appCycles: 0, errors: [] as string[], serverErrors: 0, lastProgress: Date.now() };

function progress(): void {
  tally.lastProgress = Date.now();
}

/** Runs one step; an error is counted (5xx apart) and the worker goes on after a pause. */
async function attempt(what: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    const status = err instanceof WharfError ? err.status : 0;
    if (status >= 500) tally.serverErrors++;
    tally.errors.push(`${new Date().toISOString()} ${what}: ${(err as Error).message}`);
    await sleep(1000);
    return false;
  }
}

const gone = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
    return false;
  } catch (err) {
    if (err instanceof WharfError && err.status === 404) return true;
    throw err;
  }
};

const waitFor = (what: string, done: () => Promise<boolean>, timeoutMs = 120_000) => until(what, performance.now(), done, { everyMs: 500, timeoutMs });

async function setWorker(c: WharfClient, first: number, stride: number, running: () => boolean): Promise<void> {
  for (let id = first; running(); id += stride) {
    if (!(await attempt(`create ${SETS}/${id}`, () => c.applySet({ appkey: SETS, id, resources: RESOURCES, containers: IDLE_CONTAINERS })))) continue;
    await attempt(`${SETS}/${id} running`, () => waitFor(`${SETS}/${id} running`, async () => (await c.getSet(SETS, id)).status === 'running'));
    await attempt(`delete ${SETS}/${id}`, () => c.deleteSet(SETS, id));
    if (await attempt(`${SETS}/${id} gone`, () => waitFor(`${SETS}/${id} gone`, () => gone(() => c.getSet(SETS, id))))) {
      tally.setCycles++;
      progress();
    }
  }
}

async function appWorker(c: WharfClient, running: () => boolean): Promise<void> {
  const create = () => c.createApp({ appkey: APP, replicas: 0, scaleIn: { drainSeconds: 0 }, template: { resources: RESOURCES, containers: IDLE_CONTAINERS } });
  await attempt(`create ${APP}`, create);
  for (let round = 1; running(); round++) {
    if (round % 5 === 0) {
      await attempt(`delete ${APP}`, () => c.deleteApp(APP));
      if (await attempt(`${APP} gone`, () => waitFor(`${APP} gone`, () => gone(() => c.getApp(APP)), 180_000)) && await attempt(`create ${APP}`, create)) {
        tally.appCycles++;
        progress();
      }
      continue;
    }
    const n = Math.floor(Math.random() * (maxReplicas + 1));
    await attempt(`scale ${APP} to ${n}`, () => c.scaleApp(APP, n));
    if (await attempt(`${APP} at ${n}`, () => waitFor(`${APP} at ${n} ready`, async () => {
      const app = await c.getApp(APP);
      return app.ready === n && app.sets.length === n;
    }, 180_000))) {
      tally.scales++;
      progress();
    }
  }
}

interface Sample {
  atMs: number;
  serverRss: number;
  serverHeap: number;
  agentsRss: number;
}

function window(samples: Sample[], fromMs: number, toMs: number, key: 'serverRss' | 'serverHeap' | 'agentsRss'): number {
  return median(samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs).map((s) => s[key]));
}

/** Least-squares slope of `key` over the samples, in bytes per minute. */
function slope(samples: Sample[], key: 'serverRss' | 'serverHeap' | 'agentsRss'): number {
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.atMs, 0) / n;
  const my = samples.reduce((a, s) => a + s[key], 0) / n;
  const num = samples.reduce((a, s) => a + (s.atMs - mx) * (s[key] - my), 0);
  const den = samples.reduce((a, s) => a + (s.atMs - mx) ** 2, 0);
  return (num / den) * 60_000;
}

async function soak(cl: Cluster, checker: LeakChecker): Promise<void> {
  const c = cl.platform.client;
  await cl.addLan(200);

  const samples: Sample[] = [];
  const t0 = Date.now();
  const endAt = t0 + minutes * 60_000;
  const running = () => Date.now() < endAt;
  log(`churning for ${minutes} min: ${setWorkers} set workers, one app worker (0..${maxReplicas} replicas) …`);
  const sampler = (async () => {
    while (running()) {
      const srv = await serverMemory(c).catch(() => undefined);
      const agents = (await Promise.all(cl.hosts.map((h) => rssOf(cl.platform.agentPid(h.name))))).reduce((a, b) => a + b, 0);
      if (srv) samples.push({ atMs: Date.now() - t0, serverRss: srv.rssBytes, serverHeap: srv.heapUsedBytes, agentsRss: agents });
      if (samples.length % 12 === 0 && srv) log(`${round((Date.now() - t0) / 60_000)} min: server RSS ${mib(srv.rssBytes)} MiB, heap ${mib(srv.heapUsedBytes)} MiB; ${tally.setCycles} set cycles, ${tally.scales} scales, ${tally.appCycles} app cycles, ${tally.errors.length} errors`);
      if (Date.now() - tally.lastProgress > STALL_MS) tally.errors.push(`no progress for ${STALL_MS / 60_000} min at ${round((Date.now() - t0) / 60_000)} min`);
      await sleep(SAMPLE_MS);
    }
  })();
  await Promise.all([sampler, appWorker(c, running), ...Array.from({ length: setWorkers }, (_, i) => setWorker(c, i + 1, setWorkers, running))]);
  const stalled = tally.errors.filter((e) => e.startsWith('no progress')).length;

  log('churn over; deleting everything …');
  const d0 = performance.now();
  await attempt(`delete ${APP}`, () => c.deleteApp(APP));
  // The app's sets go with the app (and may be gone already); the rest one by one.
  for (const s of await c.listSets()) if (s.appkey !== APP) await attempt(`delete ${s.appkey}/${s.id}`, () => c.deleteSet(s.appkey, s.id));
  const cleanupMs = await until('every set and container gone', d0, () => allGone(cl), { everyMs: 1000, timeoutMs: 5 * 60_000 });
  const leaks = await leakCheck(checker, 'after deleting everything', log);

  const w = warmup * 60_000;
  const end = minutes * 60_000;
  const verdict = (key: 'serverRss' | 'serverHeap') => {
    const first = window(samples, w, w + 60_000, key);
    const last = window(samples, end - 60_000, end, key);
    const bound = Math.max(slackBytes, (first * growthPct) / 100);
    return { first, last, growth: last - first, bound, ok: last - first <= bound };
  };
  const rss = verdict('serverRss');
  const heap = verdict('serverHeap');
  const after = samples.filter((s) => s.atMs >= w);
  const agentsFirst = window(samples, w, w + 60_000, 'agentsRss');
  const agentsLast = window(samples, end - 60_000, end, 'agentsRss');

  console.log(`soak: ${minutes} min on ${hostCount} hosts: ${tally.setCycles} set create→run→delete cycles, ${tally.scales} app scales, ${tally.appCycles} app delete/create cycles`);
  console.log(`server RSS  first minute after warm-up ${mib(rss.first)} MiB, last minute ${mib(rss.last)} MiB: ${mib(rss.growth)} MiB (bound ${mib(rss.bound)}) ${rss.ok ? 'held' : 'BREACHED'}; slope ${mib(slope(after, 'serverRss'))} MiB/min`);
  console.log(`server heap first minute after warm-up ${mib(heap.first)} MiB, last minute ${mib(heap.last)} MiB: ${mib(heap.growth)} MiB (bound ${mib(heap.bound)}) ${heap.ok ? 'held' : 'BREACHED'}; slope ${mib(slope(after, 'serverHeap'))} MiB/min`);
  console.log(`agents RSS (sum) ${mib(agentsFirst)} → ${mib(agentsLast)} MiB; cleanup ${Math.round(cleanupMs / 1000)} s; ${formatLeaks(leaks)}`);
  console.log(`errors: ${tally.errors.length} (${tally.serverErrors} 5xx)${tally.errors.slice(0, 10).map((e) => `\n  ${e}`).join('')}`);
  const ok = rss.ok && heap.ok && leaks.length === 0 && tally.serverErrors === 0 && stalled === 0;
  console.log(JSON.stringify({
    bench: 'soak', minutes, hosts: hostCount, set_cycles: tally.setCycles, scales: tally.scales, app_cycles: tally.appCycles,
    server_rss_first_mib: mib(rss.first), server_rss_last_mib: mib(rss.last), server_rss_bound_mib: mib(rss.bound),
    server_heap_first_mib: mib(heap.first), server_heap_last_mib: mib(heap.last), server_heap_bound_mib: mib(heap.bound),
    server_rss_slope_mib_per_min: mib(slope(after, 'serverRss')), server_heap_slope_mib_per_min: mib(slope(after, 'serverHeap')),
    agents_rss_first_mib: mib(agentsFirst), agents_rss_last_mib: mib(agentsLast),
    errors: tally.errors.length, server_errors: tally.serverErrors, stalled, leaks: countLeaks(leaks), ok,
  }));
  if (!ok) process.exitCode = 1;
}

await onCluster(hostCount, log, soak);
