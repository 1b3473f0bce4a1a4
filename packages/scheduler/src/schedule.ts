import type { ClusterView, FilterPlugin, PlacementRequest, Rejection, ScheduleResult, ScorePlugin } from './framework.js';
import { fitsResources } from './plugins/fits-resources.js';
import { hostReady } from './plugins/host-ready.js';
import { leastAllocated } from './plugins/least-allocated.js';

export interface Profile {
  filters: readonly FilterPlugin[];
  scorers: readonly ScorePlugin[];
}

export const defaultProfile: Profile = {
  filters: [hostReady, fitsResources],
  scorers: [leastAllocated],
};

/**
 * Picks a host for one set: every filter must accept it, then the highest weighted
 * score wins (ties go to the name that sorts first, so results are deterministic).
 */
export function schedule(view: ClusterView, req: PlacementRequest, profile: Profile = defaultProfile): ScheduleResult {
  const reasons: Rejection[] = [];
  let best: { host: string; score: number } | undefined;
  for (const host of view.hosts) {
    const rejection = profile.filters
      .map((f) => ({ plugin: f.name, reason: f.filter(host, req) }))
      .find((r) => r.reason !== undefined);
    if (rejection) {
      reasons.push({ host: host.name, plugin: rejection.plugin, reason: rejection.reason as string });
      continue;
    }
    const totalWeight = profile.scorers.reduce((s, p) => s + p.weight, 0) || 1;
    const score = profile.scorers.reduce((s, p) => s + p.weight * p.score(host, req), 0) / totalWeight;
    if (!best || score > best.score || (score === best.score && host.name < best.host)) best = { host: host.name, score };
  }
  if (best) return { kind: 'placed', ...best };
  return { kind: 'unschedulable', reasons, message: summarize(view.hosts.length, reasons) };
}

/** "0/3 hosts fit: 2 host is cordoned; 1 insufficient memory: …" */
function summarize(total: number, reasons: Rejection[]): string {
  if (total === 0) return 'no hosts are registered';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  const parts = [...counts].map(([reason, n]) => (total === 1 ? reason : `${n}× ${reason}`));
  return `0/${total} hosts fit: ${parts.join('; ')}`;
}
