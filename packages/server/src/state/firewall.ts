/**
 * Isolation: which sources each set accepts traffic from. By default a set accepts
 * every set of its own tenant; each network policy of its app adds sources (the
 * sets of an app, possibly of another tenant, or a CIDR block), optionally only on
 * some ports. Pure: the server computes it for the agents, which program it as
 * firewall rules inside each set's network namespace.
 */
import { setRef, type FirewallRule, type NetworkPolicy, type SetFirewall, type SetObject } from '@wharf/types';

function hostCidrs(sets: SetObject[]): string[] {
  return [...new Set(sets.flatMap((s) => (s.ips ?? []).map((x) => `${x.ip}/32`)))].sort();
}

/** Groups `sets` by `key`, each group's host CIDRs computed once, on first use. */
function cidrsBy(sets: SetObject[], key: (s: SetObject) => string): (k: string) => string[] {
  const groups = new Map<string, SetObject[]>();
  for (const s of sets) {
    const k = key(s);
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  const cidrs = new Map<string, string[]>();
  return (k) => {
    let c = cidrs.get(k);
    if (!c) cidrs.set(k, (c = hostCidrs(groups.get(k) ?? [])));
    return c;
  };
}

/** The firewall of every set in `targets` that has platform IPs, by set ref. */
export function firewallFor(targets: SetObject[], all: SetObject[], policies: NetworkPolicy[]): Record<string, SetFirewall> {
  const live = all.filter((s) => !s.deleting && (s.ips?.length ?? 0) > 0);
  // Every set of a tenant allows the whole tenant: its list is made once, not once per set.
  const tenantCidrs = cidrsBy(live, (s) => s.tenant);
  const appCidrs = cidrsBy(live, (s) => `${s.tenant}/${s.appkey}`);
  const tenantRules = new Map<string, FirewallRule[]>();
  const out: Record<string, SetFirewall> = {};
  for (const t of targets) {
    if (!t.ips?.length) continue;
    let own = tenantRules.get(t.tenant);
    if (!own) tenantRules.set(t.tenant, (own = tenantCidrs(t.tenant).map((cidr) => ({ cidr }))));
    const allow: FirewallRule[] = [...own];
    for (const p of policies) {
      if (p.tenant !== t.tenant || p.appkey !== t.appkey) continue;
      for (const rule of p.ingress) {
        const sources = rule.from.flatMap((peer) => {
          const cidrs: string[] = peer.cidr ? [peer.cidr] : [];
          if (peer.app) cidrs.push(...appCidrs(`${peer.tenant ?? p.tenant}/${peer.app}`));
          return cidrs;
        });
        for (const cidr of [...new Set(sources)].sort()) {
          allow.push(rule.ports?.length ? { cidr, ports: rule.ports.map((x) => ({ port: x.port, protocol: x.protocol ?? 'tcp' })) } : { cidr });
        }
      }
    }
    out[setRef(t)] = { allow };
  }
  return out;
}
