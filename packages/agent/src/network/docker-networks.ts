/**
 * The Docker networks behind platform networks: `wharf-<name>`, driver macvlan on the
 * host's uplink for the network (`<uplink>.<vlan>` for a VLAN), with the network's
 * subnet and gateway. Ensured before an infra container that needs one is created.
 *
 * Docker refuses a second macvlan network on a parent interface that one already
 * uses ("network dm-… is already using parent interface eth0"). Two platform networks
 * reaching the host through the same uplink therefore get, after the first, a parent
 * of their own: a macvlan link `wn-<name>` on the uplink, left down. The kernel puts a
 * macvlan created on a macvlan onto the real lower device, so the sets' interfaces
 * still sit side by side on the uplink. Either parent counts as matching.
 */
import { createHash } from 'node:crypto';
import { Labels, type NetworkAttachment } from '@wharf/types';
import { EngineError, type Engine, type NetworkConfig, type ObservedNetwork } from '../docker/engine.js';
import type { Netns } from './netns.js';

export function dockerNetworkName(network: string): string {
  return `wharf-${network}`;
}

/** The interface the network's macvlan hangs off: the uplink, or its VLAN sub-interface. */
export function macvlanParent(a: Pick<NetworkAttachment, 'uplink' | 'vlan'>): string {
  return a.vlan !== undefined ? `${a.uplink}.${a.vlan}` : a.uplink;
}

/** An interface name of at most 15 characters: `<prefix><name>`, or a shortened name with a hash. */
export function ifaceName(prefix: string, name: string): string {
  const full = `${prefix}${name}`;
  if (full.length <= 15) return full;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 5);
  return `${prefix}${name.slice(0, 15 - prefix.length - 6)}-${hash}`;
}

/** The stand-in parent of a network that shares its uplink with another one. */
export function aliasParent(network: string): string {
  return ifaceName('wn-', network);
}

export function desiredNetwork(a: NetworkAttachment): NetworkConfig {
  return {
    name: dockerNetworkName(a.name),
    subnet: a.subnet,
    gateway: a.gateway,
    parent: macvlanParent(a),
    labels: { [Labels.managed]: 'true', 'wharf.network': a.name },
  };
}

/** How an existing Docker network differs from what the platform network needs; undefined when it fits. */
export function networkMismatch(o: ObservedNetwork, want: NetworkConfig, network: string): string | undefined {
  const diffs: string[] = [];
  if (o.driver !== 'macvlan') diffs.push(`driver ${o.driver} (not macvlan)`);
  const subnet = o.subnets[0];
  if (o.subnets.length !== 1 || subnet?.subnet !== want.subnet) diffs.push(`subnet ${o.subnets.map((s) => s.subnet).join(',') || 'none'} (not ${want.subnet})`);
  if (subnet?.gateway !== want.gateway) diffs.push(`gateway ${subnet?.gateway ?? 'none'} (not ${want.gateway})`);
  if (o.parent !== want.parent && o.parent !== aliasParent(network)) diffs.push(`parent ${o.parent ?? 'none'} (not ${want.parent})`);
  return diffs.length > 0 ? diffs.join(', ') : undefined;
}

export interface EnsureResult {
  /** The network exists but differs and is in use, so it was kept: what to tell the user. */
  warning?: string;
  /** It was created (or recreated). */
  created?: boolean;
}

export class DockerNetworks {
  /**
   * One ensure at a time (sets are reconciled concurrently): two sets must not both
   * create a network, nor two networks both claim the same uplink as their parent.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    /** The Docker host's namespace (where the uplinks are). */
    private readonly hostNetns: Netns,
  ) {}

  ensure(a: NetworkAttachment): Promise<EnsureResult> {
    const next = this.queue.then(() => this.ensureNow(a));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async ensureNow(a: NetworkAttachment): Promise<EnsureResult> {
    const want = desiredNetwork(a);
    const existing = await this.engine.inspectNetwork(want.name);
    if (existing) {
      const mismatch = networkMismatch(existing, want, a.name);
      if (!mismatch) return {};
      const users = await this.engine.networkUsers(want.name);
      if (users.length > 0) {
        return {
          warning: `Docker network ${want.name} has ${mismatch}; it is kept because ${users.length} container(s) use it, so sets on network ${a.name} may not start here until they are gone`,
        };
      }
      await this.engine.removeNetwork(want.name);
    }
    await this.create(a, want);
    return { created: true };
  }

  private async create(a: NetworkAttachment, want: NetworkConfig): Promise<void> {
    const taken = (await this.engine.listNetworks('macvlan')).find((n) => n.parent === want.parent && n.name !== want.name);
    const config = { ...want };
    if (taken) {
      config.parent = aliasParent(a.name);
      await this.hostNetns.run({ argv: ['ip', 'link', 'add', config.parent, 'link', want.parent, 'type', 'macvlan', 'mode', 'bridge'], tolerate: /File exists/ });
    }
    try {
      await this.engine.createNetwork(config);
    } catch (err) {
      // Created meanwhile by someone else: fine if it fits.
      if (err instanceof EngineError && err.statusCode === 409) {
        const now = await this.engine.inspectNetwork(want.name);
        if (now && !networkMismatch(now, want, a.name)) return;
      }
      const how = a.vlan !== undefined ? `macvlan on ${want.parent}, VLAN ${a.vlan} of ${a.uplink}` : `macvlan on ${config.parent}${taken ? ` (a link on ${want.parent})` : ''}`;
      const hint = a.vlan !== undefined ? '; VLAN sub-interfaces need the 8021q kernel module on the host' : '';
      throw new Error(`cannot create Docker network ${want.name} for platform network ${a.name} (${how}, subnet ${a.subnet}): ${err instanceof Error ? err.message : String(err)}${hint}`);
    }
  }
}
