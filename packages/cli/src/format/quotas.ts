/** The view of a tenant's quota (`wharf quota get|set`): each resource's usage against its limit. */
import { formatBytes, QUOTA_RESOURCES, type QuotaResource, type QuotaView } from '@wharf/types';
import { renderTable } from './table.js';
import { formatCores } from './units.js';
import { usePercent } from './volumes.js';

export const QUOTA_COLUMNS = ['RESOURCE', 'USED', 'LIMIT', 'USE%'] as const;

/** How each resource is named (as its `wharf quota set` flag) and shown. */
export const QUOTA_NAMES: Record<QuotaResource, string> = { cpu: 'cpu', memory: 'memory', disk: 'disk', sets: 'sets', ips: 'ips', lbPorts: 'lb-ports' };

/** Cores, bytes with a binary unit, or a count. */
export function quotaAmount(resource: QuotaResource, n: number): string {
  if (resource === 'cpu') return formatCores(n);
  if (resource === 'memory' || resource === 'disk') return formatBytes(n);
  return String(n);
}

export function renderQuota(q: QuotaView): string {
  const rows = QUOTA_RESOURCES.map((r) => {
    const used = q.used[r] ?? 0;
    const limit = q.limits[r];
    return [QUOTA_NAMES[r], quotaAmount(r, used), limit === undefined ? 'unlimited' : quotaAmount(r, limit), usePercent(used, limit)];
  });
  return renderTable(QUOTA_COLUMNS, rows);
}
