/**
 * A MetricsReport flattened into points: every numeric field of the host, its uplinks,
 * each set, each container and each volume becomes one named point. Field names turn
 * into snake_case (memoryRss → wharf.set.memory_rss), so a field added to the types
 * reaches the reporters without a change here.
 */
import type { MetricsReport, ResourceSample, SetMetrics } from '@wharf/types';
import type { MetricPoint } from './reporter.js';

export function toPoints(report: MetricsReport, baseTags: Record<string, string>, now: () => number = Date.now): MetricPoint[] {
  const points: MetricPoint[] = [];
  const hostTime = timeOf(report.host.time, now);
  addFields(points, 'wharf.host', report.host, baseTags, hostTime);
  for (const uplink of report.host.uplinks) {
    const { name, ...rates } = uplink;
    addFields(points, 'wharf.host.uplink', rates, { ...baseTags, uplink: name }, hostTime);
  }
  for (const set of report.sets) addSet(points, set, baseTags, now);
  return points;
}

function addSet(points: MetricPoint[], set: SetMetrics, baseTags: Record<string, string>, now: () => number): void {
  const time = timeOf(set.time, now);
  const tags = { ...baseTags, tenant: set.tenant, appkey: set.appkey, set: set.id };
  addFields(points, 'wharf.set', set.set, tags, time);
  addFields(points, 'wharf.set', { volumeUsed: set.volumeUsed, volumeQuota: set.volumeQuota }, tags, time);
  for (const [container, sample] of Object.entries(set.containers)) {
    addFields(points, 'wharf.container', sample satisfies ResourceSample, { ...tags, container }, time);
  }
}

/** One point per finite numeric field; strings, arrays and absent fields are skipped. */
function addFields(points: MetricPoint[], prefix: string, fields: object, tags: Record<string, string>, time: number): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value === 'number' && Number.isFinite(value)) points.push({ name: `${prefix}.${snakeCase(field)}`, value, tags, time });
  }
}

export function snakeCase(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function timeOf(iso: string, now: () => number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : now();
}

/**
 * Whether a point's name is selected by `include`: an entry ending in "." selects
 * every name below it (wharf.set.); any other entry selects that name and the names
 * below it (wharf.host.cpu selects wharf.host.cpu, not wharf.host.cpus; wharf.host.uplink
 * selects wharf.host.uplink.rx_bytes). No entries select everything.
 */
export function includes(include: readonly string[] | undefined, name: string): boolean {
  if (!include || include.length === 0) return true;
  return include.some((entry) => (entry.endsWith('.') ? name.startsWith(entry) : name === entry || name.startsWith(`${entry}.`)));
}
