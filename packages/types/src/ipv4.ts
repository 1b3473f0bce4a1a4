/**
 * IPv4 arithmetic for the IPAM and for validating networks: addresses as unsigned
 * 32-bit numbers, subnets, and the range a network hands out.
 */
import type { FieldError } from './errors.js';
import type { NetworkSpec } from './network.js';

/** "10.0.0.1" → 167772161; undefined when it is not a dotted quad of 0..255. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  /** The network address. */
  base: number;
  prefix: number;
  /** Network and broadcast addresses (equal to base and base+size-1). */
  first: number;
  last: number;
  size: number;
}

/** "10.99.0.0/24"; the address may have host bits set ("10.99.0.7/24" is 10.99.0.0/24). */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || addr === undefined || bits === undefined || !/^\d{1,2}$/.test(bits)) return undefined;
  const ip = parseIpv4(addr);
  const prefix = Number(bits);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const base = ip - (ip % size);
  return { base, prefix, first: base, last: base + size - 1, size };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.first && ip <= c.last;
}

export interface AddressRange {
  start: number;
  end: number;
}

/**
 * What the IPAM may hand out: `range` when given, else the subnet without its
 * network and broadcast addresses; the gateway is never handed out.
 */
export function networkRange(spec: Pick<NetworkSpec, 'subnet' | 'range'>): AddressRange | undefined {
  const cidr = parseCidr(spec.subnet);
  if (!cidr) return undefined;
  if (spec.range) {
    const [a, b, extra] = spec.range.split('-').map((x) => x.trim());
    const start = a ? parseIpv4(a) : undefined;
    const end = b ? parseIpv4(b) : undefined;
    if (extra !== undefined || start === undefined || end === undefined || start > end) return undefined;
    return { start, end };
  }
  return cidr.size <= 2 ? { start: cidr.first, end: cidr.last } : { start: cidr.first + 1, end: cidr.last - 1 };
}

/** Addresses of the range the IPAM can hand out (the gateway excluded). */
export function rangeSize(spec: Pick<NetworkSpec, 'subnet' | 'range' | 'gateway'>): number {
  const r = networkRange(spec);
  if (!r) return 0;
  const gw = parseIpv4(spec.gateway);
  return r.end - r.start + 1 - (gw !== undefined && gw >= r.start && gw <= r.end ? 1 : 0);
}

/** The checks the schema cannot express: addresses parse, the gateway and range lie in the subnet. */
export function validateNetworkSpec(spec: NetworkSpec): FieldError[] {
  const errors: FieldError[] = [];
  const cidr = parseCidr(spec.subnet);
  if (!cidr) errors.push({ path: 'subnet', message: `"${spec.subnet}" is not an IPv4 subnet (use e.g. 10.99.0.0/24)` });
  else if (cidr.prefix < 8 || cidr.prefix > 30) errors.push({ path: 'subnet', message: `/${cidr.prefix} is not supported (use /8 to /30)` });
  else if (formatIpv4(cidr.base) !== spec.subnet.split('/')[0]) errors.push({ path: 'subnet', message: `"${spec.subnet}" has host bits set; the subnet is ${formatIpv4(cidr.base)}/${cidr.prefix}` });
  const gw = parseIpv4(spec.gateway);
  if (gw === undefined) errors.push({ path: 'gateway', message: `"${spec.gateway}" is not an IPv4 address` });
  else if (cidr && !cidrContains(cidr, gw)) errors.push({ path: 'gateway', message: `${spec.gateway} is not in ${spec.subnet}` });
  if (spec.range !== undefined) {
    const r = networkRange(spec);
    if (!r) errors.push({ path: 'range', message: `"${spec.range}" is not a range (use first-last, e.g. 10.99.0.100-10.99.0.250)` });
    else if (cidr && (!cidrContains(cidr, r.start) || !cidrContains(cidr, r.end))) errors.push({ path: 'range', message: `${spec.range} is not inside ${spec.subnet}` });
    else if (cidr && (r.start === cidr.first || r.end === cidr.last) && cidr.size > 2) errors.push({ path: 'range', message: `${spec.range} includes the subnet's network or broadcast address` });
  }
  if (errors.length === 0 && rangeSize(spec) === 0) errors.push({ path: 'range', message: 'the range holds no address besides the gateway' });
  return errors;
}
