/**
 * scheduler: the pure scheduler placing sets one after another (schedule, then
 * assume on success — what one pass of the placement controller does) on simulated
 * clusters of 1,000 and 5,000 hosts. No Docker, no store, one core; placements per
 * second and per-decision latency (performance.now()) are measured here, and the
 * peers' figures beside them are published numbers, not measured in this run.
 *
 *   npm run bench -- scheduler [--sets 10000] [--seed 42]
 */
import { parseArgs } from 'node:util';
import { assume, schedule, snapshot, type ClusterView, type HostView, type PlacementRequest } from '@wharf/scheduler';
import type { PlacementSpec } from '@wharf/types';
import { percentile, round } from './stats.js';

const GiB = 1024 ** 3;
const { values } = parseArgs({ options: { sets: { type: 'string', default: '10000' }, seed: { type: 'string', default: '42' } } });
const SETS = Number(values.sets);
const SEED = Number(values.seed);

/** Published peers (not measured here). */
const PEERS = [
  {
    name: 'Kubernetes scheduler_perf',
    figure: '680 pods/s at 5,000 nodes',
    source: 'CI minimum for SchedulingBasic/5000Nodes_10000Pods, kubernetes/kubernetes test/integration/scheduler_perf/misc/performance-config.yaml (includes API-server binding)',
  },
  {
    name: 'Nomad C1M (2016)',
    figure: '3,750 containers/s cluster-wide',
    source: '1M containers on 5,000 hosts by 5 servers, https://www.hashicorp.com/c1m (end-to-end, not the algorithm alone)',
  },
];
const TARGET = { 1000: 5000, 5000: 2000 } as Record<number, number>;

/** mulberry32: small, fast, seeded; the same seed gives the same cluster and the same sets. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const pad = (n: number, w: number) => String(n).padStart(w, '0');

const SHAPES = [
  { cpu: 8, memory: 32 },
  { cpu: 16, memory: 64 },
  { cpu: 16, memory: 128 },
  { cpu: 32, memory: 128 },
  { cpu: 32, memory: 256 },
  { cpu: 64, memory: 256 },
];

interface App {
  appkey: string;
  resources: { cpu: number; memory: number; disk: number };
  images: string[];
  placement?: PlacementSpec;
  weight: number;
}

function apps(n: number, zones: number, rand: () => number): App[] {
  const out: App[] = [];
  for (let k = 0; k < n; k++) {
    const cpu = pick(rand, [0.5, 1, 1, 2, 2, 4]);
    const appkey = `app-${pad(k, 3)}`;
    const r = rand();
    const zone = () => `z${1 + Math.floor(rand() * zones)}`;
    let placement: PlacementSpec | undefined;
    if (r < 0.25) placement = { spread: { by: 'zone', mode: 'hard', maxSkew: 1 } };
    else if (r < 0.5) placement = { spread: { by: 'host', mode: 'soft' } };
    else if (r < 0.6) placement = { zones: [...new Set([zone(), zone()])] };
    else if (r < 0.7) placement = { strategy: 'binpack' };
    else if (r < 0.75) placement = { hostSelector: { disk: 'ssd' } };
    else if (r < 0.8 && k > 0) placement = { sameZoneAs: [`app-${pad(Math.floor(rand() * k), 3)}`] };
    else if (r < 0.85) placement = { spread: { by: 'rack', mode: 'hard', maxSkew: 2 } };
    out.push({
      appkey,
      resources: { cpu, memory: cpu * pick(rand, [1, 2, 4]) * GiB, disk: pick(rand, [10, 20, 50]) * GiB },
      images: [`reg.local/team-${k % 20}/${appkey}:v${1 + (k % 3)}`],
      ...(placement ? { placement } : {}),
      weight: 1 / (k + 1) ** 0.8, // a few big apps, a long tail
    });
  }
  return out;
}

function hosts(n: number, zones: number, all: App[], rand: () => number): HostView[] {
  return Array.from({ length: n }, (_, i) => {
    const rack = Math.floor(i / 20); // racks of 20 hosts, each rack in one zone
    const shape = pick(rand, SHAPES);
    return {
      name: `h${pad(i, 5)}`,
      ready: rand() > 0.005,
      cordoned: rand() < 0.005,
      zone: `z${1 + (rack % zones)}`,
      rack: `r${pad(rack, 3)}`,
      labels: { disk: rand() < 0.4 ? 'ssd' : 'hdd', ...(rand() < 0.05 ? { gpu: 'true' } : {}) },
      images: Array.from({ length: 6 }, () => pick(rand, all).images[0] as string),
      capacity: { cpu: shape.cpu, memory: shape.memory * GiB, disk: 2048 * GiB },
      allocated: { cpu: 0, memory: 0, disk: 0 },
      apps: {},
    };
  });
}

function requests(n: number, all: App[], rand: () => number): PlacementRequest[] {
  const total = all.reduce((s, a) => s + a.weight, 0);
  const seq = new Map<string, number>();
  return Array.from({ length: n }, () => {
    let x = rand() * total;
    let app = all[all.length - 1] as App;
    for (const a of all) {
      x -= a.weight;
      if (x <= 0) {
        app = a;
        break;
      }
    }
    const id = (seq.get(app.appkey) ?? 0) + 1;
    seq.set(app.appkey, id);
    return {
      set: `bench/${app.appkey}/${id}`,
      appkey: app.appkey,
      resources: app.resources,
      images: app.images,
      ...(app.placement ? { placement: app.placement } : {}),
    };
  });
}

interface Result {
  hosts: number;
  zones: number;
  placed: number;
  unschedulable: number;
  indexMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  skewViolations: number;
  /** Share of schedulable CPU reserved at the end. */
  cpuUsed: number;
}

/** One run: index the view, then schedule + assume every set in order, timing each decision. */
function run(nHosts: number, zones: number, nSets: number, seed: number): Result {
  const rand = prng(seed);
  const all = apps(200, zones, rand);
  const cluster: ClusterView = { hosts: hosts(nHosts, zones, all, rand) };
  const reqs = requests(nSets, all, rand);
  const lat = new Float64Array(nSets);
  let placed = 0;
  const t0 = performance.now();
  let view = snapshot(cluster);
  const indexMs = performance.now() - t0;
  const start = performance.now();
  for (let k = 0; k < nSets; k++) {
    const req = reqs[k] as PlacementRequest;
    const a = performance.now();
    const r = schedule(view, req);
    if (r.kind === 'placed') {
      view = assume(view, r.host, req);
      placed++;
    }
    lat[k] = performance.now() - a;
  }
  const elapsed = performance.now() - start;
  const us = [...lat].map((ms) => ms * 1000);
  return {
    hosts: nHosts,
    zones,
    placed,
    unschedulable: nSets - placed,
    indexMs,
    perSecond: nSets / (elapsed / 1000),
    p50: percentile(us, 50),
    p99: percentile(us, 99),
    max: percentile(us, 100),
    skewViolations: hardZoneViolations(view, all),
    cpuUsed: cpuUsed(view),
  };
}

function cpuUsed(view: ClusterView): number {
  let cap = 0;
  let used = 0;
  for (const h of view.hosts) {
    if (!h.ready || h.cordoned) continue;
    cap += h.capacity.cpu;
    used += h.allocated.cpu;
  }
  return used / cap;
}

/** A check that the speed is not bought with wrong answers: every hard zone spread holds. */
function hardZoneViolations(view: ClusterView, all: App[]): number {
  let bad = 0;
  for (const app of all) {
    const s = app.placement?.spread;
    if (!s || s.mode !== 'hard' || s.by !== 'zone') continue;
    const perZone = new Map<string, number>();
    for (const h of view.hosts) perZone.set(h.zone, (perZone.get(h.zone) ?? 0) + (h.apps[app.appkey] ?? 0));
    const counts = [...perZone.values()];
    if (Math.max(...counts) - Math.min(...counts) > (s.maxSkew ?? 1)) bad++;
  }
  return bad;
}

function main(): void {
  // Warm the JIT on a throwaway cluster, so the measured runs time steady-state code.
  run(1000, 4, 2000, SEED + 1);
  const results = [run(1000, 4, SETS, SEED), run(5000, 5, SETS, SEED)];
  const rows = [
    ['hosts', 'zones', 'sets', 'placed', 'unsched.', 'cpu used', 'index ms', 'placements/s', 'p50 µs', 'p99 µs', 'max µs', 'target/s', 'skew viol.'],
    ...results.map((r) => [
      r.hosts, r.zones, SETS, r.placed, r.unschedulable, `${Math.round(r.cpuUsed * 100)}%`, round(r.indexMs), Math.round(r.perSecond), round(r.p50), round(r.p99), round(r.max),
      `≥ ${TARGET[r.hosts] ?? '-'} ${r.perSecond >= (TARGET[r.hosts] ?? 0) ? 'met' : 'MISSED'}`, r.skewViolations,
    ].map(String)),
  ];
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((row) => (row[c] as string).length)));
  console.log(`scheduler: ${SETS} sets, schedule + assume one after another, 200 apps, seed ${SEED}, Node ${process.version}, one core`);
  console.log('  (placements/s counts every decision, unschedulable ones included; latency is schedule + assume)');
  for (const row of rows) console.log('  ' + row.map((v, c) => v.padStart(widths[c] as number)).join('  '));
  console.log('peers — published figures, NOT measured in this run (end-to-end systems, not a bare algorithm):');
  for (const p of PEERS) console.log(`  ${p.name}: ${p.figure} — ${p.source}`);
  const [r1, r5] = results as [Result, Result];
  console.log(JSON.stringify({
    bench: 'scheduler',
    hosts_1000_per_s: Math.round(r1.perSecond),
    hosts_5000_per_s: Math.round(r5.perSecond),
    p99_us_1000: round(r1.p99),
    p99_us_5000: round(r5.p99),
  }));
}

main();
