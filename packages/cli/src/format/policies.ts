/** Table views of network policies (`wharf policy ls`, `wharf policy get`). */
import type { NetworkPolicy, PolicyPeer, PolicyPort } from '@wharf/types';
import { age } from './age.js';
import { cell, renderTable } from './table.js';

export const POLICY_COLUMNS = ['APPKEY', 'NAME', 'INGRESS', 'AGE'] as const;
export const POLICY_WIDE_COLUMNS = [...POLICY_COLUMNS, 'TENANT', 'UPDATED'] as const;

/** `app:com.y`, `app:com.y tenant:ops`, `tenant:ops`, `cidr:10.0.0.0/8` (the policy's own tenant is not repeated). */
export function peerText(p: PolicyPeer, policyTenant: string): string {
  const parts: string[] = [];
  if (p.app) parts.push(`app:${p.app}`);
  if (p.tenant && (p.tenant !== policyTenant || !p.app)) parts.push(`tenant:${p.tenant}`);
  if (p.cidr) parts.push(`cidr:${p.cidr}`);
  return parts.length > 0 ? parts.join(' ') : '<any>';
}

/** `80/tcp,53/udp`; no ports: every port. A port without a protocol is TCP. */
export function portsText(ports: PolicyPort[] | undefined): string {
  if (!ports || ports.length === 0) return 'all ports';
  return ports.map((p) => `${p.port}/${p.protocol ?? 'tcp'}`).join(',');
}

/** One line per policy: `app:com.y,cidr:10.0.0.0/8 → 80/tcp; tenant:ops → all ports`. */
export function ingressText(p: NetworkPolicy): string {
  return p.ingress.map((r) => `${r.from.map((f) => peerText(f, p.tenant)).join(',')} → ${portsText(r.ports)}`).join('; ');
}

export function policyRow(p: NetworkPolicy, wide: boolean, now: number): string[] {
  const row = [cell(p.appkey), cell(p.name), cell(ingressText(p)), age(p.createdAt, now)];
  return wide ? [...row, cell(p.tenant), age(p.updatedAt, now)] : row;
}

export function renderPolicies(policies: NetworkPolicy[], wide: boolean, now: number): string {
  const rows = [...policies].sort((a, b) => a.appkey.localeCompare(b.appkey) || a.name.localeCompare(b.name)).map((p) => policyRow(p, wide, now));
  return renderTable(wide ? POLICY_WIDE_COLUMNS : POLICY_COLUMNS, rows);
}
