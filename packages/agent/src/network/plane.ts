/**
 * The agent's data plane in one place, for the reconciler (Docker networks before an
 * infra container is created, the set's namespace once it runs) and for the agent
 * (the host shims, after every desired-state answer and on resync).
 */
import { type AddressGroups, type NetworkAttachment, type SetFirewall, type SetIp, type SetObject } from '@wharf/types';
import type { Engine } from '../docker/engine.js';
import { prefixOf } from './addresses.js';
import { DockerNetworks, macvlanParent } from './docker-networks.js';
import { HostNetwork, type ShimTarget } from './host.js';
import { execRunner, Netns, type CommandRunner } from './netns.js';
import { SetNetnsProgrammer, type SetIpInNetwork } from './set-netns.js';
import type { Bandwidth } from './tc.js';

export interface NetworkPlaneOptions {
  engine: Engine;
  /** Default: spawn the commands. */
  runner?: CommandRunner;
  /** The Docker host's network namespace (a file for nsenter --net); default: the agent's own. */
  hostNetns?: string;
}

/** What the desired-state answer says about a set's networking, besides the set itself. */
export interface SetNetworkContext {
  /** Every platform network this host attaches sets to. */
  attachments?: NetworkAttachment[];
  /** Absent: the set is not filtered. Its rules may name address groups (setAddressGroups). */
  firewall?: SetFirewall;
}

/** The attachment of every network the set has an IP on; throws when this host reaches one of them not at all. */
export function attachmentsOf(ips: SetIp[], attachments: NetworkAttachment[]): Map<string, NetworkAttachment> {
  const found = new Map<string, NetworkAttachment>();
  for (const x of ips) {
    const a = attachments.find((n) => n.name === x.network);
    if (!a) {
      throw new Error(`this host is not attached to network ${x.network} (of IP ${x.ip}); declare it with --network ${x.network}=IFACE on the agent or \`wharf host set\``);
    }
    found.set(a.name, a);
  }
  return found;
}

export class NetworkPlane {
  readonly host: HostNetwork;
  private readonly dockerNetworks: DockerNetworks;
  private readonly programmer: SetNetnsProgrammer;

  constructor(o: NetworkPlaneOptions) {
    const runner = o.runner ?? execRunner;
    this.host = new HostNetwork(new Netns(runner, o.hostNetns));
    this.dockerNetworks = new DockerNetworks(o.engine, this.host.netns);
    this.programmer = new SetNetnsProgrammer(runner);
  }

  /** Ensures the Docker network of every network the set has an IP on; resolves with warnings for the user. */
  async ensureNetworks(ips: SetIp[], attachments: NetworkAttachment[]): Promise<string[]> {
    const warnings: string[] = [];
    for (const a of attachmentsOf(ips, attachments).values()) {
      const r = await this.dockerNetworks.ensure(a);
      if (r.warning) warnings.push(r.warning);
    }
    return warnings;
  }

  /** Programs the set's namespace (see set-netns.ts); resolves with the parts (re)applied. */
  async program(ref: string, infra: { pid: number; startedAt?: string }, ips: SetIp[], ctx: SetNetworkContext, bandwidth: Bandwidth): Promise<string[]> {
    const nets = attachmentsOf(ips, ctx.attachments ?? []);
    const inNetwork: SetIpInNetwork[] = ips.map((x) => {
      const a = nets.get(x.network) as NetworkAttachment;
      return { network: x.network, ip: x.ip, prefix: prefixOf(a.subnet), gateway: a.gateway };
    });
    const hostIps = ctx.firewall ? await this.host.addressesOf([...new Set((ctx.attachments ?? []).flatMap((a) => [a.uplink, macvlanParent(a)]))]) : [];
    return this.programmer.apply(ref, {
      pid: infra.pid,
      ...(infra.startedAt ? { startedAt: infra.startedAt } : {}),
      ips: inNetwork,
      bandwidth,
      ...(ctx.firewall ? { firewall: ctx.firewall } : {}),
      hostIps,
    });
  }

  forget(ref: string): void {
    this.programmer.forget(ref);
  }

  /** The address groups that firewall rules name, from the newest desired-state answer. */
  setAddressGroups(groups: AddressGroups): void {
    this.programmer.setAddressGroups(groups);
  }

  /** Writes a programmed set's firewall again with the current address groups; resolves with whether it changed. */
  refreshFirewall(ref: string): Promise<boolean> {
    return this.programmer.refresh(ref);
  }

  /**
   * Shim routes for the IPs of every set placed here (not being deleted); resolves with
   * the commands run. A host attached to no platform network is left alone.
   */
  async syncShims(sets: SetObject[], attachments: NetworkAttachment[]): Promise<string[]> {
    if (attachments.length === 0) return [];
    const targets = new Map<string, ShimTarget>();
    for (const s of sets) {
      if (s.deleting || !s.ips?.length) continue;
      for (const x of s.ips) {
        const a = attachments.find((n) => n.name === x.network);
        if (!a) continue; // the set's reconcile says so
        const parent = macvlanParent(a);
        const t = targets.get(parent) ?? { parent, uplink: a.uplink, ips: [] };
        t.ips.push(x.ip);
        targets.set(parent, t);
      }
    }
    return this.host.syncShims([...targets.values()]);
  }
}
