/** Views of platform networks (`wharf network ls`, `wharf network inspect`). */
import { parseIpv4, type IpAllocation, type NetworkView } from '@wharf/types';
import { age } from './age.js';
import { fields, when } from './fields.js';
import { cell, renderTable } from './table.js';

export const NETWORK_COLUMNS = ['NAME', 'SUBNET', 'GATEWAY', 'RANGE', 'ZONE', 'VLAN', 'USED', 'FREE', 'HOSTS', 'DEFAULT'] as const;
export const NETWORK_WIDE_COLUMNS = [...NETWORK_COLUMNS, 'SIZE', 'AGE', 'HOST NAMES'] as const;
export const ALLOCATION_COLUMNS = ['IP', 'SET', 'TENANT', 'PRIMARY', 'SINCE'] as const;

function range(n: NetworkView): string {
  return n.rangeStart && n.rangeEnd ? `${n.rangeStart}-${n.rangeEnd}` : cell(n.range);
}

export function networkRow(n: NetworkView, wide: boolean, now: number): string[] {
  const row = [
    cell(n.name),
    cell(n.subnet),
    cell(n.gateway),
    range(n),
    n.zone ?? '<any>',
    n.vlan !== undefined ? String(n.vlan) : '-',
    String(n.used),
    String(n.free),
    String(n.hosts.length),
    n.default ? 'yes' : 'no',
  ];
  if (!wide) return row;
  return [...row, String(n.size), age(n.createdAt, now), cell(n.hosts.join(','))];
}

export function renderNetworks(networks: NetworkView[], wide: boolean, now: number): string {
  const rows = [...networks].sort((a, b) => a.name.localeCompare(b.name)).map((n) => networkRow(n, wide, now));
  return renderTable(wide ? NETWORK_WIDE_COLUMNS : NETWORK_COLUMNS, rows);
}

/** Numeric address order (10.0.0.9 before 10.0.0.10). */
export function byAddress(a: { ip: string }, b: { ip: string }): number {
  return (parseIpv4(a.ip) ?? 0) - (parseIpv4(b.ip) ?? 0);
}

export function allocationRows(allocations: IpAllocation[], now: number): string[][] {
  return [...allocations].sort(byAddress).map((a) => [a.ip, `${a.appkey}/${a.id}`, a.tenant, a.primary ? 'yes' : 'no', age(a.allocatedAt, now)]);
}

/** The page of `wharf network inspect`. */
export function describeNetwork(n: NetworkView, now: number): string {
  const out: string[] = [];
  out.push(
    fields([
      ['Name', n.name],
      ['Subnet', n.subnet],
      ['Gateway', n.gateway],
      ['Range', `${range(n)} (${n.size} address${n.size === 1 ? '' : 'es'}; the gateway is never handed out)`],
      ['Zone', n.zone ?? '<any> (hosts of every zone may attach)'],
      ['VLAN', n.vlan !== undefined ? `${n.vlan} (hosts attach through <uplink>.${n.vlan})` : '<none> (untagged)'],
      ['Default', n.default ? 'yes (sets that name no network get their IP here)' : 'no'],
      ['Used', String(n.used)],
      ['Free', String(n.free)],
      ['Hosts', n.hosts.length > 0 ? n.hosts.join(', ') : '<none> (no host declares it; see wharf host set --network)'],
      ['Created', when(n.createdAt, now)],
    ]),
  );
  out.push('');
  const allocations = n.allocations ?? [];
  if (allocations.length === 0) {
    out.push('Allocations:  <none>');
  } else {
    out.push('Allocations:');
    out.push(renderTable(ALLOCATION_COLUMNS, allocationRows(allocations, now), { indent: '  ' }));
  }
  return out.join('\n');
}
