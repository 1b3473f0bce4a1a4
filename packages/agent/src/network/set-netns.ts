/**
 * Programs a set's network namespace (its infra container's) once the infra container
 * runs: secondary addresses, the default route, bandwidth limits and the firewall.
 *
 * Idempotent and cheap to call: what was applied is remembered per set as a key per
 * part, for the infra process it was applied to (pid and start time). A part is
 * applied again when its inputs change; everything is applied again when the infra
 * container was restarted (a new namespace) or the agent restarted (nothing known).
 *
 * Firewall rules may name address groups (a tenant's sets): they are expanded with
 * the groups known when the rules are written. When a group changes, refresh()
 * rewrites the firewall of a set from its last input, without a reconcile. Work on
 * one set's namespace is serialized, so the newest groups are always written last.
 */
import { createHash } from 'node:crypto';
import { expandFirewall, type AddressGroups, type SetFirewall } from '@wharf/types';
import { canonicalJson } from '../containers.js';
import { ifaceWith, parseIpAddr, trafficIfaces, type Iface } from './addresses.js';
import { countJumps, renderFirewall, renderFirewallRemoval, CHAIN } from './firewall.js';
import { Netns, processNetns, type Cmd, type CommandRunner } from './netns.js';
import { bandwidthCommands, IFB, type Bandwidth } from './tc.js';

export interface SetIpInNetwork {
  network: string;
  ip: string;
  /** Prefix length and gateway of the network's subnet. */
  prefix: number;
  gateway: string;
}

export interface SetNetnsInput {
  /** The infra container's process, and when it started (a restart is a new namespace). */
  pid: number;
  startedAt?: string;
  /** Platform IPs, primary first. */
  ips: SetIpInNetwork[];
  bandwidth: Bandwidth;
  /** Absent: the set is not filtered. Its rules may name address groups (see setAddressGroups). */
  firewall?: SetFirewall;
  /** The host's own addresses, always let in (health checks). */
  hostIps: string[];
}

interface Applied {
  infra: string;
  addresses: string;
  bandwidth: string;
  firewall: string;
  /** How many jumps to the chain INPUT has now, as this programmer left it. */
  jumps: number;
}

const key = (v: unknown): string => createHash('sha256').update(canonicalJson(v ?? null)).digest('hex').slice(0, 16);

/** The commands that give the set its secondary addresses and the primary network's default route (pure). */
export function addressCommands(ifaces: Iface[], ips: SetIpInNetwork[]): Cmd[] {
  const cmds: Cmd[] = [];
  const endpoints = new Map<string, { dev: string; first: SetIpInNetwork }>();
  for (const x of ips) {
    if (endpoints.has(x.network)) continue;
    const dev = ifaceWith(ifaces, x.ip)?.name;
    if (!dev) throw new Error(`the set's namespace has no interface with ${x.ip} (network ${x.network}); interfaces: ${ifaces.map((i) => `${i.name} ${i.addresses.map((a) => a.ip).join(',') || '-'}`).join('; ')}`);
    endpoints.set(x.network, { dev, first: x });
  }
  for (const x of ips) {
    const e = endpoints.get(x.network);
    if (!e || e.first === x || ifaceWith(ifaces, x.ip)?.name === e.dev) continue;
    cmds.push({ argv: ['ip', 'addr', 'replace', `${x.ip}/${x.prefix}`, 'dev', e.dev] });
  }
  // Docker picks the default route among several networks by name; the primary's gateway is the one.
  const primary = ips[0];
  const e = primary && endpoints.get(primary.network);
  if (primary && e && endpoints.size > 1) cmds.push({ argv: ['ip', 'route', 'replace', 'default', 'via', primary.gateway, 'dev', e.dev] });
  return cmds;
}

/**
 * Gratuitous ARP for every IP (busybox arping -U), so neighbours that knew an IP at
 * another MAC (the set moved, or its infra container was recreated) update at once.
 */
export function announceCommands(ifaces: Iface[], ips: SetIpInNetwork[]): Cmd[] {
  const devs = new Map<string, string>();
  for (const x of ips) {
    const dev = devs.get(x.network) ?? ifaceWith(ifaces, x.ip)?.name;
    if (dev) devs.set(x.network, dev);
  }
  return ips.flatMap((x) => {
    const dev = devs.get(x.network);
    return dev ? [{ argv: ['busybox', 'arping', '-U', '-q', '-c', '1', '-w', '1', '-I', dev, '-s', x.ip, x.ip], tolerate: /.*/s }] : [];
  });
}

export class SetNetnsProgrammer {
  private readonly applied = new Map<string, Applied>();
  /** The last input applied per set, for refresh(). */
  private readonly inputs = new Map<string, SetNetnsInput>();
  /** The work under way on each set's namespace, to queue behind. */
  private readonly busy = new Map<string, Promise<unknown>>();
  private groups: AddressGroups = {};

  constructor(private readonly runner: CommandRunner) {}

  /** The address groups that firewall rules name, from now on. */
  setAddressGroups(groups: AddressGroups): void {
    this.groups = groups;
  }

  /** True when there is nothing to program and nothing known to undo: the set needs no namespace work. */
  private static empty(input: SetNetnsInput): boolean {
    return input.ips.length === 0 && input.bandwidth.egress === undefined && input.bandwidth.ingress === undefined && !input.firewall;
  }

  /** Makes the set's namespace match `input`; resolves with what was (re)applied. Throws with a message for people. */
  apply(ref: string, input: SetNetnsInput): Promise<string[]> {
    return this.serialized(ref, () => this.applyNow(ref, input));
  }

  /**
   * Writes the set's firewall again with the current address groups, from the last
   * input applied; resolves with whether anything was written. Nothing is known
   * about a set not programmed yet: its reconcile uses the current groups anyway.
   */
  refresh(ref: string): Promise<boolean> {
    return this.serialized(ref, async () => {
      const input = this.inputs.get(ref);
      if (!input?.firewall) return false;
      return (await this.applyNow(ref, input)).length > 0;
    });
  }

  private serialized<T>(ref: string, work: () => Promise<T>): Promise<T> {
    const run = (this.busy.get(ref) ?? Promise.resolve()).then(work, work);
    const settled = run.catch(() => undefined);
    this.busy.set(ref, settled);
    void settled.then(() => {
      if (this.busy.get(ref) === settled) this.busy.delete(ref);
    });
    return run;
  }

  private async applyNow(ref: string, input: SetNetnsInput): Promise<string[]> {
    const firewall = input.firewall ? expandFirewall(input.firewall, this.groups) : undefined;
    const prev = this.applied.get(ref);
    const want: Applied = {
      infra: `${input.pid}@${input.startedAt ?? ''}`,
      addresses: key(input.ips),
      bandwidth: key(input.bandwidth),
      firewall: key(firewall ? { fw: firewall, host: [...input.hostIps].sort() } : null),
      jumps: prev?.jumps ?? -1,
    };
    const fresh = prev?.infra !== want.infra;
    if (fresh) want.jumps = -1;
    if (fresh && SetNetnsProgrammer.empty(input)) {
      this.applied.set(ref, want);
      this.inputs.set(ref, input);
      return [];
    }
    const todo = (['firewall', 'addresses', 'bandwidth'] as const).filter((p) => fresh || prev?.[p] !== want[p]);
    if (todo.length === 0) {
      this.inputs.set(ref, input);
      return [];
    }

    const ns = new Netns(this.runner, processNetns(input.pid));
    // Until everything is in place: a failure leaves nothing to refresh from, and the next apply does it all.
    this.applied.delete(ref);
    this.inputs.delete(ref);
    let ifaces: Iface[] | undefined;
    try {
      if (todo.includes('firewall')) want.jumps = await this.firewall(ns, firewall, input.hostIps, want.jumps);
      const readIfaces = async (): Promise<Iface[]> => (ifaces ??= parseIpAddr(await ns.read(['ip', '-j', '-4', 'addr', 'show'])));
      if (todo.includes('addresses') && input.ips.length > 0) await ns.runAll(addressCommands(await readIfaces(), input.ips));
      if (todo.includes('bandwidth')) {
        const devs = trafficIfaces(await readIfaces(), [IFB]);
        if (devs.length > 0) await ns.runAll(bandwidthCommands(devs, input.bandwidth));
      }
    } catch (err) {
      throw new Error(`cannot program the set's network namespace (${processNetns(input.pid)}): ${err instanceof Error ? err.message : String(err)}`);
    }
    this.applied.set(ref, want);
    this.inputs.set(ref, input);
    // A new namespace: tell the neighbours (best effort, in the background).
    if (fresh && ifaces) for (const c of announceCommands(ifaces, input.ips)) void ns.run(c).catch(() => undefined);
    return todo;
  }

  /**
   * Writes the chain (or takes it away) in one iptables-restore; resolves with the
   * jumps INPUT has afterwards. `jumps` < 0: unknown, read from the namespace first.
   */
  private async firewall(ns: Netns, fw: SetFirewall | undefined, hostIps: string[], jumps: number): Promise<number> {
    let chain = jumps > 0;
    if (jumps < 0) {
      const rules = await ns.read(['iptables', '-S']);
      jumps = countJumps(rules);
      chain = jumps > 0 || rules.split('\n').includes(`-N ${CHAIN}`);
    }
    if (fw) {
      await ns.run({ argv: ['iptables-restore', '--noflush'], input: renderFirewall(fw, hostIps, jumps) });
      return 1;
    }
    if (chain) await ns.run({ argv: ['iptables-restore', '--noflush'], input: renderFirewallRemoval(jumps) });
    return 0;
  }

  /** The set is gone: what is known about it goes, after any work under way on it. */
  forget(ref: string): void {
    void this.serialized(ref, async () => {
      this.applied.delete(ref);
      this.inputs.delete(ref);
    });
  }
}
