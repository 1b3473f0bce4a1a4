/** Views of hosts (`wharf get hosts`, `wharf describe host`). */
import { formatBytes, type Host, type NetworkView } from '@wharf/types';
import { age } from './age.js';
import { fields, when } from './fields.js';
import { cell, renderTable } from './table.js';
import { formatCores, formatMbit } from './units.js';
import { poolCell, poolText } from './volumes.js';

export const HOST_COLUMNS = ['NAME', 'STATE', 'ZONE', 'RACK', 'CPU', 'MEMORY', 'SETS', 'AGE'] as const;
export const HOST_WIDE_COLUMNS = [...HOST_COLUMNS, 'DISK', 'POOL', 'BANDWIDTH', 'NETWORKS', 'HEARTBEAT', 'AGENT', 'DOCKER', 'LABELS', 'IN USE'] as const;

/** Where an override made by `wharf host set` is shown. */
export const OVERRIDE_NOTE = 'set by wharf host set';

export function hostState(h: Host): string {
  const extra = [h.draining && h.state !== 'draining' ? 'draining' : undefined, h.cordoned && h.state === 'not-ready' && !h.draining ? 'cordoned' : undefined].filter(Boolean);
  return [h.state, ...extra].join(',');
}

/** An allocation bar: `███░░░░░` for 3/8. */
export function bar(used: number, capacity: number, width = 8): string {
  const filled = capacity > 0 ? Math.min(width, Math.round((used / capacity) * width)) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** `net1=eth0,net2=eth1` (network=uplink), in the order the host lists them. */
export function hostNetworks(h: Host): string {
  return (h.networks ?? []).map((n) => `${n.name}=${n.uplink}`).join(',');
}

/** Allocated/capacity of the uplink: `█░░░░░░░ 300/10000 Mbit/s`; a host that declares no bandwidth is unlimited. */
export function bandwidthUse(h: Host): string {
  const used = h.allocated.bandwidth ?? 0;
  const capacity = h.capacity.bandwidth;
  if (capacity === undefined) return used > 0 ? `${formatMbit(used)}/unlimited Mbit/s` : 'unlimited';
  return `${bar(used, capacity)} ${formatMbit(used)}/${formatMbit(capacity)} Mbit/s`;
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
    poolCell(h.pool),
    bandwidthUse(h),
    cell(hostNetworks(h)),
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

/**
 * The page of `wharf describe host`. `networks` are the platform networks (for
 * subnets and whether the host really attaches), or an Error when they could
 * not be fetched.
 */
export function describeHost(h: Host, networks: NetworkView[] | Error, now: number): string {
  const out: string[] = [];
  const labels = Object.entries(h.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
  const began = h.drain?.startedAt ? ` of ${h.drain.total ?? '?'} (began ${age(h.drain.startedAt, now)} ago)` : '';
  const drain = h.drain ? `${h.drain.remaining} set(s) left${began}, ${h.drain.moving} starting elsewhere${h.drain.blocked.length ? `; cannot move (local volume): ${h.drain.blocked.join(', ')}` : ''}` : undefined;
  out.push(
    fields([
      ['Name', h.name],
      ['State', hostState(h)],
      ['Zone', cell(h.zone)],
      ['Rack', cell(h.rack)],
      ['Labels', labels || '<none>'],
      ['Agent', `${cell(h.agentVersion)} at ${cell(h.agentUrl)}`],
      ['Docker', cell(h.dockerVersion)],
      ['Registered', when(h.registeredAt, now)],
      ['Heartbeat', when(h.lastHeartbeat, now)],
      ['Sets', String(h.sets)],
      ['Volume pool', poolText(h.pool, h.name)],
      ['Drain', drain],
    ]),
  );
  out.push('');
  const cap = h.capacity.bandwidth;
  const bwOverride = h.overrides?.bandwidth !== undefined ? ` (${OVERRIDE_NOTE})` : '';
  out.push('Resources:');
  out.push(
    renderTable(
      ['RESOURCE', 'ALLOCATED', 'CAPACITY', 'IN USE'],
      [
        ['cpu', formatCores(h.allocated.cpu), formatCores(h.capacity.cpu), h.used ? formatCores(h.used.cpu) : '-'],
        ['memory', formatBytes(h.allocated.memory), formatBytes(h.capacity.memory), h.used ? formatBytes(h.used.memory) : '-'],
        ['disk', formatBytes(h.allocated.disk), formatBytes(h.capacity.disk), h.used ? formatBytes(h.used.disk) : '-'],
        [
          'bandwidth',
          `${formatMbit(h.allocated.bandwidth ?? 0)} Mbit/s`,
          `${cap !== undefined ? `${formatMbit(cap)} Mbit/s` : 'unlimited'}${bwOverride}`,
          h.used?.bandwidth !== undefined ? `${formatMbit(h.used.bandwidth)} Mbit/s` : '-',
        ],
      ],
      { indent: '  ' },
    ),
  );
  out.push('');
  const declared = h.networks ?? [];
  const header = h.overrides?.networks !== undefined ? `Networks (${OVERRIDE_NOTE}):` : 'Networks:';
  if (declared.length === 0) {
    out.push(`${header}  <none>`);
  } else {
    out.push(header);
    if (networks instanceof Error) {
      out.push(renderTable(['NETWORK', 'UPLINK'], declared.map((n) => [n.name, n.uplink]), { indent: '  ' }));
      out.push(`  <network details unavailable: ${networks.message}>`);
    } else {
      const byName = new Map(networks.map((n) => [n.name, n]));
      const rows = declared.map((d) => {
        const net = byName.get(d.name);
        if (!net) return [d.name, d.uplink, '-', '-', 'no (no such network)'];
        const attached = net.hosts.includes(h.name) ? 'yes' : net.zone && net.zone !== h.zone ? `no (network is in zone ${net.zone})` : 'no';
        return [d.name, d.uplink, net.vlan !== undefined ? `${d.uplink}.${net.vlan}` : d.uplink, net.subnet, attached];
      });
      out.push(renderTable(['NETWORK', 'UPLINK', 'INTERFACE', 'SUBNET', 'ATTACHED'], rows, { indent: '  ' }));
    }
  }
  return out.join('\n');
}
