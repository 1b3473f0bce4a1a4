/** `wharf top sets|hosts`: the newest figures of each set or host, in human units. */
import type { HostTop } from '@wharf/client';
import { formatBytes, type SetTop } from '@wharf/types';
import { cell, renderTable } from './table.js';

export const TOP_SET_COLUMNS = ['APPKEY', 'ID', 'HOST', 'CPU', 'MEMORY', 'NET RX/TX', 'DISK R/W', 'PIDS', 'VOLUME'] as const;
export const TOP_HOST_COLUMNS = ['HOST', 'CPU', 'MEMORY', 'LOAD', 'POOL', 'CONTAINERS', 'UPLINK RX/TX'] as const;

export type HostSort = 'cpu' | 'mem';

/** Bytes with a binary unit, whole below 1 KiB: 0, 512, 1.5Ki, 2Gi. */
export function size(bytes: number): string {
  return formatBytes(Math.round(bytes));
}

/** 1258291 → "1.2MiB/s"; undefined → "-". */
export function rate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '-' : `${size(bytesPerSecond)}B/s`;
}

/** " (40%)" of a limit, or nothing when there is none. */
function percentOf(used: number, limit: number | undefined): string {
  return limit !== undefined && limit > 0 ? ` (${Math.round((used / limit) * 100)}%)` : '';
}

/** 0.4234 → "0.42", 2 → "2". */
export function cores(n: number): string {
  return String(Number(n.toFixed(2)));
}

/** "0.42 (21%)": cores used and the share of the limit; no limit, no share. */
export function cpuCell(used: number, limit: number | undefined): string {
  return `${cores(used)}${percentOf(used, limit)}`;
}

/** "412Mi/1Gi (40%)", or "412Mi" without a limit. */
export function usedOf(used: number, limit: number | undefined): string {
  return limit !== undefined && limit > 0 ? `${size(used)}/${size(limit)}${percentOf(used, limit)}` : size(used);
}

/** "1.2MiB/s / 300KiB/s"; "-" when neither is known. */
export function ratePair(a: number | undefined, b: number | undefined): string {
  return a === undefined && b === undefined ? '-' : `${rate(a)} / ${rate(b)}`;
}

function topSetRow(s: SetTop): string[] {
  const r = s.set;
  return [
    cell(s.appkey),
    cell(s.id),
    cell(s.host),
    cpuCell(r.cpu, r.cpuLimit),
    usedOf(r.memory, r.memoryLimit),
    ratePair(r.rxBytes, r.txBytes),
    ratePair(r.readBytes, r.writeBytes),
    r.pids !== undefined ? String(r.pids) : '-',
    s.volumeUsed !== undefined ? usedOf(s.volumeUsed, s.volumeQuota) : '-',
  ];
}

/** In the order given (the server sorts). */
export function renderTopSets(rows: SetTop[]): string {
  return renderTable(TOP_SET_COLUMNS, rows.map(topSetRow));
}

function topHostRow(h: HostTop): string[] {
  const uplinks = h.uplinks.map((u) => `${u.name} ${ratePair(u.rxBytes, u.txBytes)}`).join(', ');
  return [
    cell(h.host),
    `${cores(h.cpu)}/${h.cpus}${percentOf(h.cpu, h.cpus)}`,
    usedOf(h.memory, h.memoryTotal),
    [h.load1, h.load5, h.load15].map((l) => l.toFixed(2)).join(' '),
    h.poolUsed !== undefined ? usedOf(h.poolUsed, h.poolSize) : '-',
    String(h.containers),
    uplinks || '-',
  ];
}

/** Busiest first, by the share of the host's CPU or memory in use. */
export function sortHosts(rows: HostTop[], by: HostSort): HostTop[] {
  const share = (h: HostTop) => (by === 'cpu' ? h.cpu / h.cpus : h.memoryTotal > 0 ? h.memory / h.memoryTotal : 0);
  return [...rows].sort((a, b) => share(b) - share(a) || a.host.localeCompare(b.host));
}

export function renderTopHosts(rows: HostTop[]): string {
  return renderTable(TOP_HOST_COLUMNS, rows.map(topHostRow));
}
