/**
 * Isolation: which sources each set accepts traffic from. By default a set accepts
 * every set of its own tenant; each network policy of its app adds sources (the
 * sets of an app, possibly of another tenant, or a CIDR block), optionally only on
 * some ports. Pure: the server computes it for the agents, which program it as
 * firewall rules inside each set's network namespace.
 *
 * The sets of a tenant or an app are named address groups, sent once per answer:
 * every set of a tenant refers to the same list, so an answer grows with the sets,
 * not with their square, and a new address changes one list, not every set's rules.
 */
import { setRef, type AddressGroups, type FirewallRule, type NetworkPolicy, type SetFirewall, type SetObject } from '@wharf/types';

export interface FirewallAnswer {
  /** By set ref, for the targets with platform IPs. */
  firewall: Record<string, SetFirewall>;
  /** Every group the rules name, and only those. */
  addressGroups: AddressGroups;
}

export const tenantGroup = (tenant: string): string => `tenant:${tenant}`;
export const appGroup = (tenant: string, appkey: string): string => `app:${tenant}/${appkey}`;

function hostCidrs(sets: SetObject[]): string[] {
  return [...new Set(sets.flatMap((s) => (s.ips ?? []).map((x) => `${x.ip}/32`)))].sort();
}

/** The firewall of every set in `targets` that has platform IPs, and the groups its rules name. */
export function firewallFor(targets: SetObject[], all: SetObject[], policies: NetworkPolicy[]): FirewallAnswer {
  const live = all.filter((s) => !s.deleting && (s.ips?.length ?? 0) > 0);
  const members = new Map<string, SetObject[]>();
  const add = (group: string, s: SetObject): void => {
    const list = members.get(group);
    if (list) list.push(s);
    else members.set(group, [s]);
  };
  for (const s of live) {
    add(tenantGroup(s.tenant), s);
    add(appGroup(s.tenant, s.appkey), s);
  }
  const named = new Set<string>();
  const firewall: Record<string, SetFirewall> = {};
  for (const t of targets) {
    if (!t.ips?.length) continue;
    const own = tenantGroup(t.tenant);
    named.add(own);
    const allow: FirewallRule[] = [{ group: own }];
    for (const p of policies) {
      if (p.tenant !== t.tenant || p.appkey !== t.appkey) continue;
      for (const rule of p.ingress) {
        const ports = rule.ports?.length ? { ports: rule.ports.map((x) => ({ port: x.port, protocol: x.protocol ?? 'tcp' as const })) } : {};
        const sources: FirewallRule[] = [];
        for (const peer of rule.from) {
          if (peer.cidr) sources.push({ cidr: peer.cidr, ...ports });
          if (peer.app) {
            const group = appGroup(peer.tenant ?? p.tenant, peer.app);
            named.add(group);
            sources.push({ group, ...ports });
          }
        }
        allow.push(...sources);
      }
    }
    firewall[setRef(t)] = { allow };
  }
  const addressGroups: AddressGroups = {};
  for (const group of [...named].sort()) addressGroups[group] = hostCidrs(members.get(group) ?? []);
  return { firewall, addressGroups };
}
