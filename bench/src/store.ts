/**
 * store: the store backends side by side in one run: SQLite (one file, the
 * default), etcd with one member and etcd with three members (all on loopback,
 * data on the same disk as the SQLite file, fsync on).
 *
 * - API writes/s: a wharf-server (in this process, no hosts, LB and registry
 *   off) on each backend; `--writes` set creates (PUT /v1/sets/…) with
 *   `--concurrency` in flight, through the HTTP client. Its controllers run as
 *   in production: the placement controller finds no host for each new set and
 *   records that (an event and a pending status: two more writes per create).
 * - Store writes/s: the same count of puts straight to the Store, same concurrency.
 * - Watch delivery: one put at a time; the time from calling put() to the
 *   watch callback of a second watcher. For etcd the watcher is another
 *   EtcdStore (another connection, as another server replica would be); for
 *   SQLite it is the same instance (its watches only see their own writes).
 *
 *
 * The backends run in turns, `--rounds` times, each round in another order; the
 * figures pool every round (throughput: all writes over all their time).
 *
 * - Leader take-over: two wharf-server processes on the 3-member etcd (each round a
 *   fresh prefix); the leader is killed with SIGKILL (its lease runs out) or stopped
 *   with SIGTERM (it resigns), and the time until the other one's GET /v1/leader says
 *   it leads is measured (polled every 50 ms), `--rounds` times each.
 *
 *   npm run bench -- store [--rounds 3] [--writes 300] [--concurrency 16] [--events 300]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WharfClient } from '@wharf/client';
import { startServer } from '@wharf/server';
import { EtcdStore, SqliteStore, type Store } from '@wharf/store';
import { etcdSkipReason, startEtcd, type EtcdTestCluster } from '@wharf/store/testing';
import { freePort, waitFor } from '../../e2e/dist/harness/exec.js';
import { percentile, positiveInt, round } from './stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    writes: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    events: { type: 'string', default: '300' },
  },
});
const ROUNDS = positiveInt('rounds', values.rounds);
const WRITES = positiveInt('writes', values.writes);
const CONCURRENCY = positiveInt('concurrency', values.concurrency);
const EVENTS = positiveInt('events', values.events);

interface Backend {
  /** Key of the JSON figures. */
  id: string;
  label: string;
  /** --store URL of a new, empty store for round `turn`. */
  url(turn: number): string;
  /** A new, empty store for the store-level figures of round `turn`; `watcher` sees its writes. */
  open(turn: number): Promise<{ writer: Store; watcher: Store }>;
  stop(): Promise<void>;
}

/** Everything measured on one backend, over all rounds. */
interface Samples {
  apiMs: number[];
  apiWallMs: number;
  storeWallMs: number;
  watchMs: number[];
}

/** Runs `task(i)` for i in [0, n) with `concurrency` in flight; returns each one's duration and the wall time. */
async function inFlight(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ ms: number[]; wallMs: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await task(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, wallMs: performance.now() - t0 };
}

function setSpec(i: number) {
  return {
    id: i,
    appkey: 'bench.store',
    resources: { cpu: 0.1, memory: '32Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', cpu: 100, mem: 100 } }],
  };
}

async function apiWrites(backend: Backend, dir: string, turn: number): Promise<{ ms: number[]; wallMs: number }> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, `server-${backend.id}-${turn}`),
    store: backend.url(turn),
    logLevel: 'error',
    lb: 'off',
    registry: 'off',
  });
  try {
    const client = new WharfClient({ server: server.url, token: server.tokens.admin });
    for (let i = 0; i < 20; i++) await client.applySet(setSpec(100_000 + i)); // warm-up
    const { ms, wallMs } = await inFlight(WRITES, CONCURRENCY, (i) => client.applySet(setSpec(i)));
    // server.close() does not wait for a controller pass under way: wait until nothing has been written for 1 s.
    const deadline = Date.now() + 120_000;
    for (let last = -1, rev = await server.store.revision(); rev !== last; last = rev, rev = await server.store.revision()) {
      if (Date.now() > deadline) throw new Error(`${backend.label}: the controllers were still writing after 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return { ms, wallMs };
  } finally {
    await server.close();
  }
}

async function storeWrites(store: Store): Promise<number> {
  return (await inFlight(WRITES, CONCURRENCY, (i) => store.put(`bench/writes/${i}`, { i, pad: 'x'.repeat(200) }))).wallMs;
}

async function watchLatency(writer: Store, watcher: Store): Promise<number[]> {
  const arrived = new Map<number, number>();
  let wake: (() => void) | undefined;
  const w = await watcher.watch('bench/watch/', (ev) => {
    arrived.set(ev.revision, performance.now());
    wake?.();
  });
  try {
    const out: number[] = [];
    for (let i = 0; i < EVENTS + 20; i++) {
      const t0 = performance.now();
      const rev = await writer.put(`bench/watch/${i % 50}`, { i });
      while (!arrived.has(rev)) await new Promise<void>((resolve) => (wake = resolve));
      if (i >= 20) out.push((arrived.get(rev) as number) - t0); // the first 20 warm up
    }
    return out;
  } finally {
    w.cancel();
  }
}

async function measure(backend: Backend, dir: string, turn: number, into: Samples): Promise<void> {
  process.stderr.write(`round ${turn}, ${backend.label}: API writes…`);
  const api = await apiWrites(backend, dir, turn);
  into.apiMs.push(...api.ms);
  into.apiWallMs += api.wallMs;
  process.stderr.write(` ${round(perS(api.wallMs))}/s; store writes…`);
  const { writer, watcher } = await backend.open(turn);
  try {
    const storeWallMs = await storeWrites(writer);
    into.storeWallMs += storeWallMs;
    process.stderr.write(` ${round(perS(storeWallMs))}/s; watch…`);
    const lat = await watchLatency(writer, watcher);
    into.watchMs.push(...lat);
    process.stderr.write(` p50 ${round(percentile(lat, 50), 2)} ms\n`);
  } finally {
    await writer.close();
    if (watcher !== writer) await watcher.close();
  }
}

const perS = (wallMs: number, rounds = 1) => (rounds * WRITES * 1000) / wallMs;

function sqliteBackend(dir: string): Backend {
  return {
    id: 'sqlite',
    label: 'SQLite',
    url: (r) => `sqlite:${join(dir, `server-${r}.db`)}`,
    async open(r) {
      const store = SqliteStore.open(join(dir, `store-${r}.db`));
      return { writer: store, watcher: store };
    },
    async stop() {},
  };
}

async function etcdBackend(members: number): Promise<Backend & { etcd: EtcdTestCluster }> {
  const etcd = await startEtcd({ members });
  const open = (r: number) => EtcdStore.open({ hosts: etcd.endpoints, prefix: `/bench-${r}/` });
  return {
    id: `etcd${members}`,
    label: `etcd, ${members} member${members > 1 ? 's' : ''}`,
    url: (r) => `${etcd.url}?prefix=/server-${r}/`,
    async open(r) {
      return { writer: await open(r), watcher: await open(r) };
    },
    stop: () => etcd.stop(),
    etcd,
  };
}

const SERVER_MAIN = new URL('../../packages/server/dist/main.js', import.meta.url).pathname;

/** Polls `probe` every 50 ms until it holds (at most 60 s); the ms it took. */
async function until(what: string, probe: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  await waitFor(what, probe, 60_000, 50);
  return performance.now() - t0;
}

/** Two wharf-servers on etcd (fresh prefix `turn`); the leader ends by `signal`; ms until the other leads. */
async function takeover(etcd: EtcdTestCluster, dir: string, turn: number, signal: NodeJS.Signals): Promise<number> {
  const servers: { url: string; dir: string; child: ChildProcess }[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const d = join(dir, `takeover-${turn}-${signal}-${i}`);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      // The servers share the tokens, as a production layout does.
      if (i > 0) for (const f of ['admin.token', 'join.token']) copyFileSync(join(servers[0]!.dir, f), join(d, f));
      const child = spawn(process.execPath, [SERVER_MAIN, '--host', '127.0.0.1', '--port', String(port), '--data-dir', d, '--store', `${etcd.url}?prefix=/takeover-${turn}-${signal}/`,
        '--registry', 'off', '--lb', 'off', '--ssh-listen', 'off', '--log-level', 'warn'], { stdio: 'ignore' });
      servers.push({ url: `http://127.0.0.1:${port}`, dir: d, child });
      await until(`server ${i + 1} healthy`, async () => (await fetch(`${servers[i]!.url}/v1/health`)).ok);
    }
    const token = readFileSync(join(servers[0]!.dir, 'admin.token'), 'utf8').trim();
    const leading = async (url: string) => ((await (await fetch(`${url}/v1/leader`, { headers: { authorization: `Bearer ${token}` } })).json()) as { leading: boolean }).leading;
    await until('a leader', async () => (await leading(servers[0]!.url)) || (await leading(servers[1]!.url)));
    const leader = (await leading(servers[0]!.url)) ? 0 : 1;
    servers[leader]!.child.kill(signal);
    return await until('the other server leading', () => leading(servers[1 - leader]!.url));
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const skip = etcdSkipReason();
  if (skip) throw new Error(skip);
  // The same disk for every backend: etcd's data and the SQLite files all under the temp dir.
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-store-'));
  const backends: Backend[] = [];
  const samples = new Map<Backend, Samples>();
  const takeovers: Record<'SIGKILL' | 'SIGTERM', number[]> = { SIGKILL: [], SIGTERM: [] };
  try {
    backends.push(sqliteBackend(dir), await etcdBackend(1));
    const etcd3 = await etcdBackend(3);
    backends.push(etcd3);
    for (const b of backends) samples.set(b, { apiMs: [], apiWallMs: 0, storeWallMs: 0, watchMs: [] });
    for (let r = 1; r <= ROUNDS; r++) {
      // Each round starts with another backend, so none always runs first (cold) or last.
      const order = backends.map((_, i) => backends[(i + r - 1) % backends.length] as Backend);
      for (const b of order) await measure(b, dir, r, samples.get(b) as Samples);
    }
    for (let r = 1; r <= ROUNDS; r++) {
      takeovers.SIGKILL.push(await takeover(etcd3.etcd, dir, r, 'SIGKILL'));
      takeovers.SIGTERM.push(await takeover(etcd3.etcd, dir, r, 'SIGTERM'));
    }
  } finally {
    await Promise.all(backends.map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`store (${ROUNDS} rounds × ${WRITES} writes, ${CONCURRENCY} in flight; ${ROUNDS} × ${EVENTS} watch events, one at a time)`);
  console.log('                     API writes/s  API p50 ms  API p99 ms  store writes/s  watch p50 ms  watch p99 ms');
  const json: Record<string, string | number> = { bench: 'store', rounds: ROUNDS, writes: WRITES, concurrency: CONCURRENCY, events: EVENTS };
  for (const b of backends) {
    const f = samples.get(b) as Samples;
    const row = {
      api_writes_per_s: round(perS(f.apiWallMs, ROUNDS)),
      api_p50_ms: round(percentile(f.apiMs, 50)),
      api_p99_ms: round(percentile(f.apiMs, 99)),
      store_writes_per_s: round(perS(f.storeWallMs, ROUNDS)),
      watch_p50_ms: round(percentile(f.watchMs, 50), 2),
      watch_p99_ms: round(percentile(f.watchMs, 99), 2),
    };
    const widths = [12, 11, 11, 15, 13, 13];
    console.log(`  ${b.label.padEnd(18)} ${Object.values(row).map((c, i) => String(c).padStart(widths[i] as number)).join(' ')}`);
    for (const [k, v] of Object.entries(row)) json[`${b.id}_${k}`] = v;
  }
  const ms = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
  console.log(`leader take-over (2 servers, etcd 3 members, lease 5 s): SIGKILL ${ms(takeovers.SIGKILL)} ms (p50 ${Math.round(percentile(takeovers.SIGKILL, 50))}); SIGTERM ${ms(takeovers.SIGTERM)} ms (p50 ${Math.round(percentile(takeovers.SIGTERM, 50))})`);
  json.takeover_kill_p50_ms = round(percentile(takeovers.SIGKILL, 50));
  json.takeover_term_p50_ms = round(percentile(takeovers.SIGTERM, 50));
  console.log(JSON.stringify(json));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
