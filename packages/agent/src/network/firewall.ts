/**
 * A set's firewall as iptables-restore input (pure rendering), applied with
 * `iptables-restore --noflush` in the set's namespace: a chain WHARF-IN, jumped to
 * first thing from INPUT, that accepts loopback, replies (conntrack), the host's own
 * uplink addresses (so the host can health-check its sets), then one rule per
 * allowed source (and port), and drops the rest. Declaring the chain in the restore
 * input flushes it, so the new rules replace the old ones in one transaction.
 */
import { parseCidr, parseIpv4, type SetFirewall } from '@wharf/types';

export const CHAIN = 'WHARF-IN';

/** How many `-A INPUT -j WHARF-IN` rules `iptables -S INPUT` shows. */
export function countJumps(iptablesS: string): number {
  return iptablesS.split('\n').filter((l) => l.trim() === `-A INPUT -j ${CHAIN}`).length;
}

/** The restore input that makes the chain match `fw` (groups expanded); `jumps` is the current number of jumps from INPUT. */
export function renderFirewall(fw: SetFirewall, hostIps: string[], jumps: number): string {
  const lines = ['*filter', `:${CHAIN} - [0:0]`];
  // Exactly one jump, first in INPUT.
  for (let i = 1; i < jumps; i++) lines.push(`-D INPUT -j ${CHAIN}`);
  if (jumps === 0) lines.push(`-I INPUT 1 -j ${CHAIN}`);
  const rule = (r: string): number => lines.push(`-A ${CHAIN} ${r}`);
  rule('-i lo -j ACCEPT');
  rule('-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
  for (const ip of [...new Set(hostIps)].sort()) {
    if (parseIpv4(ip) === undefined) throw new Error(`host address "${ip}" is not an IPv4 address`);
    rule(`-s ${ip}/32 -j ACCEPT`);
  }
  for (const r of fw.allow) {
    if (r.cidr === undefined) throw new Error(`firewall rule ${JSON.stringify(r)} has no cidr (its address group was not expanded)`);
    const cidr = parseCidr(r.cidr);
    if (!cidr || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(r.cidr)) throw new Error(`firewall source "${r.cidr}" is not an IPv4 CIDR`);
    if (!r.ports || r.ports.length === 0) {
      rule(`-s ${r.cidr} -j ACCEPT`);
      continue;
    }
    for (const p of r.ports) {
      const proto = p.protocol ?? 'tcp';
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535 || (proto !== 'tcp' && proto !== 'udp')) {
        throw new Error(`firewall port ${JSON.stringify(p)} is not a port`);
      }
      rule(`-s ${r.cidr} -p ${proto} --dport ${p.port} -j ACCEPT`);
    }
  }
  rule('-j DROP');
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** The restore input that takes the firewall away (the chain and every jump to it). */
export function renderFirewallRemoval(jumps: number): string {
  // Declaring the chain creates it when missing, so -X cannot fail.
  const lines = ['*filter', `:${CHAIN} - [0:0]`];
  for (let i = 0; i < jumps; i++) lines.push(`-D INPUT -j ${CHAIN}`);
  lines.push(`-X ${CHAIN}`, 'COMMIT', '');
  return lines.join('\n');
}
