/**
 * The pure decisions of the apps controller: which ids new sets get, which sets
 * leave on scale-in, and how ids read in events.
 */
import { DEFAULT_DRAIN_SECONDS, type AppSpec, type ScaleInPolicy } from '@wharf/types';
import { compareSetIds } from '../state/sets.js';
import type { AppMember } from '../state/apps.js';
import type { MetricsHistory } from '../metrics/history.js';

/** CPU cores a set used lately; undefined when nothing is known. */
export type SetLoad = (s: { tenant: string; appkey: string; id: string }) => number | undefined;

/** A set's mean CPU cores over the last `windowMs` of the server's metrics history. */
export function loadFromHistory(history: MetricsHistory, windowMs = 60_000, now = Date.now): SetLoad {
  return (s) => {
    const points = history.setSeries(s, { from: now() - windowMs })?.points ?? [];
    return points.length > 0 ? points.reduce((sum, p) => sum + p.set.cpu, 0) / points.length : undefined;
  };
}

/** The `count` smallest positive integers not in `used`: 1, 2, 3 … filling gaps. */
export function nextFreeIds(used: Iterable<string>, count: number): number[] {
  const taken = new Set(used);
  const ids: number[] = [];
  for (let n = 1; ids.length < count; n++) if (!taken.has(String(n))) ids.push(n);
  return ids;
}

export function drainMs(spec: AppSpec): number {
  return (spec.scaleIn?.drainSeconds ?? DEFAULT_DRAIN_SECONDS) * 1000;
}

export function policyOf(spec: AppSpec): ScaleInPolicy {
  return spec.scaleIn?.policy ?? 'newest-first';
}

function newestFirst(a: AppMember, b: AppMember): number {
  return Date.parse(b.kv.value.createdAt) - Date.parse(a.kv.value.createdAt) || compareSetIds(b.kv.value.id, a.kv.value.id);
}

/** 0 for a set never placed, 1 for one not ready, 2 for a ready one: the lower leaves first. */
function usefulness(m: AppMember): number {
  if (!m.kv.value.host) return 0;
  return m.view.ready ? 2 : 1;
}

export interface ScaleInChoice {
  leaving: AppMember[];
  /** How they were picked, for the app's event. */
  how: string;
}

/**
 * The `count` sets to leave. Sets that do nothing for the app go first (never
 * placed, then not ready); then the policy: the newest, or the least CPU used
 * (a set without figures counts as idle). Least-loaded without any figure for
 * the app's sets falls back to newest-first, and says so.
 */
export function chooseLeaving(active: AppMember[], count: number, policy: ScaleInPolicy, loadOf?: SetLoad): ScaleInChoice {
  const loads = new Map(active.map((m) => [m.kv.value.id, policy === 'least-loaded' ? loadOf?.(m.kv.value) : undefined]));
  const measured = [...loads.values()].some((v) => v !== undefined);
  const byLoad = policy === 'least-loaded' && measured;
  const ranked = [...active].sort((a, b) =>
    usefulness(a) - usefulness(b)
    || (byLoad ? (loads.get(a.kv.value.id) ?? 0) - (loads.get(b.kv.value.id) ?? 0) : 0)
    || newestFirst(a, b));
  const how = policy === 'newest-first' ? 'newest first' : byLoad ? 'least loaded first' : 'least-loaded asked, but no CPU figures for the app\'s sets: newest first';
  return { leaving: ranked.slice(0, Math.max(0, count)), how };
}

/** `3..10`, `1, 4..6, 9`: ids as compact ranges where they are consecutive numbers. */
export function idRanges(ids: string[]): string {
  const sorted = [...ids].sort(compareSetIds);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && /^\d+$/.test(sorted[j] as string) && Number(sorted[j + 1]) === Number(sorted[j]) + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}..${sorted[j]}` : sorted.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return parts.join(', ');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
