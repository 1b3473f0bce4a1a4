import type { PlacementSpec } from '@wharf/types';
import type {
  ClusterView, Cycle, FilterPlugin, FilterStage, HostFilter, PlacementRequest, Profile, Rejection, ScheduleResult,
} from './framework.js';
import { topologyOf, type ClusterIndex } from './snapshot.js';
import { fitsResources } from './plugins/fits-resources.js';
import { hostReady } from './plugins/host-ready.js';
import { hostSelector } from './plugins/host-selector.js';
import { networkReach } from './plugins/network-reach.js';
import { imageLocality } from './plugins/image-locality.js';
import { leastAllocated } from './plugins/least-allocated.js';
import { mostAllocated } from './plugins/most-allocated.js';
import { sameZoneAs } from './plugins/same-zone-as.js';
import { spreadHard } from './plugins/spread-hard.js';
import { spreadSoft } from './plugins/spread-soft.js';
import { zoneSelector } from './plugins/zone-selector.js';

const filters = [zoneSelector, hostSelector, networkReach, sameZoneAs, hostReady, fitsResources, spreadHard];

/** Strategy spread (the default): every app spread across hosts, then the emptiest host. */
export const spreadProfile: Profile = { filters, scorers: [spreadSoft('host'), leastAllocated, imageLocality] };
/** Strategy binpack: the fullest host that still fits; spread only when the spec asks for a soft one. */
export const binpackProfile: Profile = { filters, scorers: [spreadSoft(undefined), mostAllocated, imageLocality] };
export const defaultProfile = spreadProfile;

/** The profile for a set's `placement.strategy`. */
export function profileFor(placement?: PlacementSpec): Profile {
  return placement?.strategy === 'binpack' ? binpackProfile : spreadProfile;
}

class CycleState implements Cycle {
  readonly placement: PlacementSpec;
  readonly selected: Uint8Array;
  readonly feasible: Int32Array;
  feasibleCount = 0;
  constructor(readonly topology: ClusterIndex, readonly req: PlacementRequest) {
    this.placement = req.placement ?? {};
    this.selected = topology.selected;
    this.feasible = topology.feasible;
  }
}

/** Fills unused filter positions. */
const PASS: HostFilter = { pass: () => true, explain: () => ({ kind: '', reason: '' }) };
const NONE = (): number => 0;

interface Active {
  readonly plugin: FilterPlugin;
  readonly filter: HostFilter;
}

/** Runs every filter; afterwards `ix.failedBy[i]` is the index in `active` of the filter host i failed (-1: feasible). */
function filterHosts(ix: ClusterIndex, req: PlacementRequest, profile: Profile): { cx: CycleState; active: Active[] } {
  const cx = new CycleState(ix, req);
  const active: Active[] = [];
  const prepare = (stage: FilterStage) => {
    for (const plugin of profile.filters) {
      if (plugin.stage !== stage) continue;
      const filter = plugin.prepare(cx);
      if (filter) active.push({ plugin, filter });
    }
    return active.length;
  };
  const ns = prepare('select');
  prepare('check');
  // Fixed call sites, one per position, so each sees few distinct plugins and V8 can inline them.
  const [f0 = PASS, f1 = PASS, f2 = PASS, f3 = PASS, f4 = PASS, f5 = PASS, ...more] = active.map((a) => a.filter);
  const { selected, failedBy, feasible } = ix;
  let nf = 0;
  for (let i = 0; i < ix.size; i++) {
    let k = -1;
    if (!f0.pass(i)) k = 0;
    else if (!f1.pass(i)) k = 1;
    else if (!f2.pass(i)) k = 2;
    else if (!f3.pass(i)) k = 3;
    else if (!f4.pass(i)) k = 4;
    else if (!f5.pass(i)) k = 5;
    else for (let r = 0; r < more.length; r++) if (!(more[r] as HostFilter).pass(i)) { k = 6 + r; break; }
    failedBy[i] = k;
    selected[i] = k === -1 || k >= ns ? 1 : 0;
    if (k === -1) feasible[nf++] = i;
  }
  cx.feasibleCount = nf;
  // Topology filters see which hosts were selected and which passed so far.
  for (const plugin of profile.filters) {
    if (plugin.stage !== 'topology' || cx.feasibleCount === 0) continue;
    const filter = plugin.prepare(cx);
    if (!filter) continue;
    const k = active.push({ plugin, filter }) - 1;
    let m = 0;
    for (let j = 0; j < nf; j++) {
      const i = feasible[j] as number;
      if (filter.pass(i)) feasible[m++] = i;
      else failedBy[i] = k;
    }
    cx.feasibleCount = nf = m;
  }
  return { cx, active };
}

/**
 * Picks a host for one set: every filter must accept it, then the highest weighted
 * score wins (ties go to the name that sorts first, so results are deterministic).
 * The profile defaults to the one for `req.placement.strategy`.
 */
export function schedule(view: ClusterView, req: PlacementRequest, profile: Profile = profileFor(req.placement)): ScheduleResult {
  const ix = topologyOf(view);
  if (ix.size === 0) return { kind: 'unschedulable', reasons: [], message: 'no hosts are registered' };
  const { cx, active } = filterHosts(ix, req, profile);
  if (cx.feasibleCount === 0) return unschedulable(ix, active);
  const fns: ((i: number) => number)[] = [];
  const weights: number[] = [];
  for (const s of profile.scorers) {
    const fn = s.prepare(cx);
    if (!fn) continue;
    fns.push(fn);
    weights.push(s.weight);
  }
  const { feasible, feasibleCount } = cx;
  // As for filters: fixed call sites for the first three scorers.
  const [s0 = NONE, s1 = NONE, s2 = NONE, ...more] = fns;
  const [w0 = 0, w1 = 0, w2 = 0] = weights;
  let best = feasible[0] as number;
  let bestScore = -Infinity;
  for (let j = 0; j < feasibleCount; j++) {
    const i = feasible[j] as number;
    let s = w0 * s0(i) + w1 * s1(i) + w2 * s2(i);
    for (let k = 0; k < more.length; k++) s += (weights[3 + k] as number) * (more[k] as (i: number) => number)(i);
    if (s > bestScore) {
      bestScore = s;
      best = i;
    }
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return { kind: 'placed', host: ix.host(best).name, score: total > 0 ? bestScore / total : 0 };
}

/** Slow path, only for an unschedulable set: per-host reasons and the counted message. */
function unschedulable(ix: ClusterIndex, active: readonly Active[]): ScheduleResult {
  interface Group { readonly active: Active; readonly kind: string; readonly hosts: number[]; readonly first: string; same: boolean }
  const reasons: Rejection[] = new Array<Rejection>(ix.size);
  const groups = active.map(() => new Map<string, Group>());
  for (let i = 0; i < ix.size; i++) {
    const k = ix.failedBy[i] as number;
    const a = active[k] as Active;
    const { kind, reason } = a.filter.explain(i);
    reasons[i] = { host: ix.host(i).name, plugin: a.plugin.name, kind, reason };
    const byKind = groups[k] as Map<string, Group>;
    const g = byKind.get(kind);
    if (!g) byKind.set(kind, { active: a, kind, hosts: [i], first: reason, same: true });
    else {
      g.hosts.push(i);
      if (g.same && reason !== g.first) g.same = false;
    }
  }
  const parts = groups
    .flatMap((byKind) => [...byKind.values()])
    .map((g) => ({ n: g.hosts.length, text: g.same ? g.first : (g.active.filter.group?.(g.kind, g.hosts) ?? g.kind) }))
    .sort((a, b) => b.n - a.n || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map(({ n, text }) => `${n} ${n === 1 ? 'host' : 'hosts'}: ${text}`);
  return { kind: 'unschedulable', reasons, message: `0/${ix.size} hosts fit: ${parts.join('; ')}` };
}

/** What the scheduler thinks of every host for `req` (for `why is my set pending?` tools and tests; not for the hot path). */
export interface HostVerdict {
  host: string;
  fits: boolean;
  /** When it does not fit: the first filter that rejected it. */
  plugin?: string;
  kind?: string;
  reason?: string;
  /** When it fits: each scorer's 0..100 score, and the weighted total the winner is chosen by (0..100). */
  scores?: Record<string, number>;
  score?: number;
}

export function diagnose(view: ClusterView, req: PlacementRequest, profile: Profile = profileFor(req.placement)): HostVerdict[] {
  const ix = topologyOf(view);
  const { cx, active } = filterHosts(ix, req, profile);
  const scorers = cx.feasibleCount === 0 ? [] : profile.scorers.flatMap((s) => {
    const fn = s.prepare(cx);
    return fn ? [{ s, fn }] : [];
  });
  const total = scorers.reduce((a, { s }) => a + s.weight, 0);
  const out: HostVerdict[] = [];
  for (let i = 0; i < ix.size; i++) {
    const host = ix.host(i).name;
    const a = active[ix.failedBy[i] as number];
    if (a) {
      out.push({ host, fits: false, plugin: a.plugin.name, ...a.filter.explain(i) });
      continue;
    }
    const scores = Object.fromEntries(scorers.map(({ s, fn }) => [s.name, fn(i)]));
    const score = total > 0 ? scorers.reduce((acc, { s, fn }) => acc + s.weight * fn(i), 0) / total : 0;
    out.push({ host, fits: true, scores, score });
  }
  return out;
}
