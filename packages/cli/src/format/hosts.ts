/** Table views of hosts (`wharf get hosts`). */
import { formatBytes, type Host } from '@wharf/types';
import { age } from './age.js';
import { cell, renderTable } from './table.js';
import { formatCores } from './units.js';

export const HOST_COLUMNS = ['NAME', 'STATE', 'ZONE', 'RACK', 'CPU', 'MEMORY', 'SETS', 'AGE'] as const;
export const HOST_WIDE_COLUMNS = [...HOST_COLUMNS, 'DISK', 'HEARTBEAT', 'AGENT', 'DOCKER', 'LABELS', 'IN USE'] as const;

export function hostState(h: Host): string {
  const extra = [h.draining && h.state !== 'draining' ? 'draining' : undefined, h.cordoned && h.state === 'not-ready' && !h.draining ? 'cordoned' : undefined].filter(Boolean);
  return [h.state, ...extra].join(',');
}

/** An allocation bar: `███░░░░░` for 3/8. */
export function bar(used: number, capacity: number, width = 8): string {
  const filled = capacity > 0 ? Math.min(width, Math.round((used / capacity) * width)) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function hostRow(h: Host, wide: boolean, now: number): string[] {
  const row = [
    cell(h.name),
    hostState(h),
    cell(h.zone),
    cell(h.rack),
    `${bar(h.allocated.cpu, h.capacity.cpu)} ${formatCores(h.allocated.cpu)}/${formatCores(h.capacity.cpu)}`,
    `${bar(h.allocated.memory, h.capacity.memory)} ${formatBytes(h.allocated.memory)}/${formatBytes(h.capacity.memory)}`,
    String(h.sets),
    age(h.registeredAt, now),
  ];
  if (!wide) return row;
  const labels = Object.entries(h.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return [
    ...row,
    `${bar(h.allocated.disk, h.capacity.disk)} ${formatBytes(h.allocated.disk)}/${formatBytes(h.capacity.disk)}`,
    `${age(h.lastHeartbeat, now)} ago`,
    cell(h.agentVersion),
    cell(h.dockerVersion),
    cell(labels),
    h.used ? `load ${formatCores(h.used.cpu)}, mem ${formatBytes(h.used.memory)}` : '-',
  ];
}

export function renderHosts(hosts: Host[], wide: boolean, now: number): string {
  const rows = [...hosts].sort((a, b) => a.name.localeCompare(b.name)).map((h) => hostRow(h, wide, now));
  return renderTable(wide ? HOST_WIDE_COLUMNS : HOST_COLUMNS, rows);
}
