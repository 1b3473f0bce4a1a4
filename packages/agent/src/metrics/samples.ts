/** Turning measurements into the report's ResourceSample, and a set's sum (pure). */
import type { ResourceSample } from '@wharf/types';
import type { CgroupGauges } from './cgroup-sample.js';
import type { Counters } from './rates.js';

/** Enough digits for millicores and bytes; keeps the heartbeat small. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function put(s: ResourceSample, key: keyof ResourceSample, value: number | undefined): void {
  if (value !== undefined && Number.isFinite(value)) (s as Record<string, number>)[key] = round(value);
}

/** One container: rates of its cgroup counters, its gauges, its limits (Docker's NanoCpus and Memory). */
export function containerSample(rates: Counters, gauges: CgroupGauges, limits: { nanoCpus?: number; memory?: number }): ResourceSample {
  const s: ResourceSample = { cpu: round(Math.max(0, rates.cpuNs ?? 0) / 1e9), memory: gauges.memory };
  put(s, 'cpuLimit', limits.nanoCpus ? limits.nanoCpus / 1e9 : undefined);
  put(s, 'cpuThrottledPeriods', rates.throttledPeriods);
  put(s, 'cpuThrottledSeconds', rates.throttledNs === undefined ? undefined : rates.throttledNs / 1e9);
  put(s, 'memoryRss', gauges.rss);
  put(s, 'memoryCache', gauges.cache);
  put(s, 'memoryLimit', limits.memory || undefined);
  put(s, 'memoryFailcnt', gauges.failcnt);
  put(s, 'oomKills', gauges.oomKills);
  put(s, 'readBytes', rates.readBytes);
  put(s, 'writeBytes', rates.writeBytes);
  put(s, 'readOps', rates.readOps);
  put(s, 'writeOps', rates.writeOps);
  put(s, 'pids', gauges.pids);
  return s;
}

/** Network rates of a namespace (net/dev counter names match the sample's). */
export function networkSample(rates: Counters): Partial<ResourceSample> {
  const s: Partial<ResourceSample> = {};
  for (const key of ['rxBytes', 'txBytes', 'rxPackets', 'txPackets', 'rxErrors', 'txErrors', 'rxDropped', 'txDropped'] as const) {
    const v = rates[key];
    if (v !== undefined) s[key] = round(v);
  }
  return s;
}

const LIMITS = new Set<string>(['cpuLimit', 'memoryLimit']);

/**
 * A set's sample: the sum of all its containers' (infra included), plus its network.
 * Limits are summed over the business containers and left out when one of them has
 * none (the set is then unlimited).
 */
export function setSample(containers: { role: 'infra' | 'business'; sample: ResourceSample }[], network: Partial<ResourceSample>): ResourceSample {
  const acc: Record<string, number> = { cpu: 0, memory: 0 };
  for (const { sample } of containers) {
    const s = sample as Record<string, number | undefined>;
    for (const k in s) {
      const v = s[k];
      if (typeof v === 'number' && !LIMITS.has(k)) acc[k] = (acc[k] ?? 0) + v;
    }
  }
  for (const k of LIMITS) {
    let total = 0;
    let business = 0;
    let limited = true;
    for (const { role, sample } of containers) {
      if (role !== 'business') continue;
      business++;
      const v = (sample as Record<string, number | undefined>)[k];
      if (v === undefined) limited = false;
      else total += v;
    }
    if (business > 0 && limited) acc[k] = total;
  }
  for (const k in acc) acc[k] = round(acc[k] as number);
  return { ...(acc as ResourceSample), ...network };
}
