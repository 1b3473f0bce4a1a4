/** Reading interfaces and IPv4 addresses (`ip -j -4 addr show`), and small IPv4 helpers (pure). */
import { parseCidr } from '@wharf/types';

export interface Iface {
  name: string;
  up: boolean;
  addresses: { ip: string; prefix: number; secondary: boolean }[];
}

interface IpAddrJson {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; secondary?: boolean; scope?: string }[];
}

/** The JSON of `ip -j -4 addr show` → interfaces with their IPv4 addresses. Throws on output that is not that. */
export function parseIpAddr(json: string): Iface[] {
  const text = json.trim();
  if (text === '') return [];
  const list = JSON.parse(text) as IpAddrJson[];
  if (!Array.isArray(list)) throw new Error('ip -j addr: not a list');
  return list
    .filter((i) => typeof i.ifname === 'string')
    .map((i) => ({
      name: i.ifname as string,
      up: (i.flags ?? []).includes('UP'),
      addresses: (i.addr_info ?? [])
        .filter((a) => (a.family ?? 'inet') === 'inet' && typeof a.local === 'string')
        .map((a) => ({ ip: a.local as string, prefix: a.prefixlen ?? 32, secondary: a.secondary === true })),
    }));
}

/** The interface holding `ip`, if any. */
export function ifaceWith(ifaces: Iface[], ip: string): Iface | undefined {
  return ifaces.find((i) => i.addresses.some((a) => a.ip === ip));
}

/** Interfaces that carry traffic of the set: not loopback, not our ifb, with an IPv4 address. */
export function trafficIfaces(ifaces: Iface[], exclude: string[]): string[] {
  return ifaces.filter((i) => i.name !== 'lo' && !exclude.includes(i.name) && i.addresses.length > 0).map((i) => i.name).sort();
}

/** "10.1.0.0/24" → 24; throws on a subnet that is not one. */
export function prefixOf(subnet: string): number {
  const c = parseCidr(subnet);
  if (!c) throw new Error(`"${subnet}" is not an IPv4 subnet`);
  return c.prefix;
}
