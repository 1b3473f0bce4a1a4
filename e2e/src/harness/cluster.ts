/**
 * A multi-host test cluster on one machine:
 *
 *                      netns wharf-e2e-tor-<pid>
 *               ┌──────── bridge br0 10.213.P.1/24 ────────┐
 *          veth-h1             veth-h2               veth-h3        (switch ports)
 *             │                   │                     │
 *   eth0 10.213.P.11     eth0 10.213.P.12      eth0 10.213.P.13
 *   netns wharf-e2e-h1-<pid> …                                       (one per host)
 *   dockerd (own data-root, exec-root, socket, containerd namespace, --live-restore)
 *             ▲                   ▲                     ▲
 *   wharf-agent h1 (z1/r1)  wharf-agent h2 (z1/r2)  wharf-agent h3 (z2/r3)
 *             └────────── wharf-server (127.0.0.1, root netns) ──┘
 *
 * P = pid % 250. The switch has its own namespace, so the root namespace's
 * networking is untouched, and equal subnets of concurrent runs never meet.
 * The agents and the server run in the root namespace and talk over loopback:
 * cutNetwork() cuts a host's data plane (its uplink), not its agent's link to the
 * server — for that, kill or stop the agent.
 *
 *   const cluster = await Cluster.start(3);                 // h1 z1/r1, h2 z1/r2, h3 z2/r3
 *   const cluster = await Cluster.start({ hosts: [{ name: 'a', zone: 'bj', rack: 'r1' }, …] });
 *   cluster.platform.client.listHosts(); cluster.host('h2').docker([...]);
 *   await cluster.killHost('h2'); await cluster.reviveHost('h2');
 *   await cluster.cutNetwork('h3'); await cluster.healNetwork('h3');
 *   await cluster.stop();
 */
import type { Host } from '@wharf/types';
import { DockerHost } from './docker-host.js';
import { waitFor, type RunResult } from './exec.js';
import { createSwitch, deleteNetns, inNetns, ping, setPort, type Switch, type Uplink } from './network.js';
import { Platform, type PlatformOptions } from './platform.js';

export interface ClusterHostSpec {
  name: string;
  zone: string;
  rack: string;
}

export interface ClusterOptions {
  hosts: ClusterHostSpec[];
  /** For the platform on the hosts (e.g. the registry, agent flags). */
  platform?: PlatformOptions;
}

/** Hosts on 10.213.P.11 … 10.213.P.99; the rest of the /24 (.100–.254) is free for test IP pools. */
export const MAX_HOSTS = 89;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

/**
 * `n` hosts `<prefix>1 … <prefix>n` in two zones — z1 holds the first ⌈n/2⌉, z2 the
 * rest — each in its own rack r1 … rn. For 3: h1 z1/r1, h2 z1/r2, h3 z2/r3, so there
 * are two racks in one zone and a second zone.
 */
export function defaultHosts(n: number, prefix = 'h'): ClusterHostSpec[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`a cluster has 1 to ${MAX_HOSTS} hosts, not ${n}`);
  const perZone = Math.ceil(n / 2);
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i + 1}`, zone: `z${Math.floor(i / perZone) + 1}`, rack: `r${i + 1}` }));
}

/** Checks names, counts and duplicates; throws with a message for people. */
export function validateHosts(hosts: ClusterHostSpec[], reserved: string[] = []): void {
  if (hosts.length < 1 || hosts.length > MAX_HOSTS) throw new Error(`a cluster has 1 to ${MAX_HOSTS} hosts, not ${hosts.length}`);
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h.name)) throw new Error(`host name "${h.name}" is not valid (letters, digits, '.', '_', '-'; at most 63)`);
    if (reserved.includes(h.name)) throw new Error(`host name "${h.name}" is reserved`);
    if (seen.has(h.name)) throw new Error(`host "${h.name}" is listed twice`);
    if (!h.zone || !h.rack) throw new Error(`host "${h.name}" needs a zone and a rack`);
    seen.add(h.name);
  }
}

/** The switch port of the i-th host (0-based): `veth-<name>` when that fits in 15 characters, else `veth<i+1>`. */
export function portName(name: string, i: number): string {
  return `veth-${name}`.length <= 15 ? `veth-${name}` : `veth${i + 1}`;
}

let live: Cluster | undefined;

export class Cluster {
  /** The top-of-rack switch: bridge br0 in its own namespace. */
  readonly switch: Switch = { netns: `wharf-e2e-tor-${process.pid}`, bridge: 'br0' };
  /** e.g. 10.213.7.0/24 */
  readonly subnet: string;
  /** The bridge's address, usable as the gateway of a test network: 10.213.P.1 */
  readonly gateway: string;
  readonly hosts: DockerHost[] = [];
  private platformOrUndefined: Platform | undefined;
  private stopped = false;

  private constructor(readonly specs: ClusterHostSpec[]) {
    const p = process.pid % 250;
    this.subnet = `10.213.${p}.0/24`;
    this.gateway = `10.213.${p}.1`;
  }

  /** The wharf-server and the agents (one per host). */
  get platform(): Platform {
    if (!this.platformOrUndefined) throw new Error('the cluster has no platform (it did not start, or stopped)');
    return this.platformOrUndefined;
  }

  /**
   * Platform IPs: network `lan` on this cluster's subnet (set IPs .100 to .`last`), the
   * default network, on every host's uplink eth0.
   */
  async addLan(last = 140): Promise<void> {
    const c = this.platform.client;
    const prefix = this.gateway.replace(/\.1$/, '');
    await c.request('PUT', '/v1/networks/lan', { name: 'lan', subnet: this.subnet, gateway: this.gateway, range: `${prefix}.100-${prefix}.${last}`, default: true });
    for (const h of this.hosts) await c.request('PATCH', `/v1/hosts/${h.name}`, { networks: [{ name: 'lan', uplink: 'eth0' }] });
  }

  /** The address of the i-th host (0-based) in this cluster's subnet. */
  addressOf(i: number): string {
    return this.gateway.replace(/\.1$/, `.${11 + i}`);
  }

  /**
   * Starts the switch, the hosts (in parallel: netns, uplink, dockerd, busybox image),
   * then a wharf-server and one agent per host with its zone and rack, and waits until
   * every host is ready. `Cluster.start(n)` uses defaultHosts(n). On failure everything
   * started so far is torn down before the error is thrown.
   */
  static async start(spec: number | ClusterOptions): Promise<Cluster> {
    const hosts = typeof spec === 'number' ? defaultHosts(spec) : spec.hosts;
    validateHosts(hosts, ['tor']); // a host "tor" would share the switch's namespace name
    if (live) throw new Error('a Cluster of this process is already running; stop it first (one per process)');
    const c = new Cluster(hosts);
    live = c;
    try {
      await createSwitch(c.switch, `${c.gateway}/24`);
      const started = await Promise.allSettled(hosts.map((h, i) => {
        const uplink: Uplink = { ...c.switch, port: portName(h.name, i), cidr: `${c.addressOf(i)}/24` };
        return DockerHost.start(h.name, { zone: h.zone, rack: h.rack, uplink });
      }));
      for (const r of started) if (r.status === 'fulfilled') c.hosts.push(r.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      c.platformOrUndefined = await Platform.start(c.hosts, typeof spec === 'number' ? {} : spec.platform);
    } catch (err) {
      await c.stop().catch(() => undefined);
      throw err;
    }
    return c;
  }

  host(name: string): DockerHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} in the cluster (${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  private uplink(name: string): Uplink {
    const u = this.host(name).uplink;
    if (!u) throw new Error(`host ${name} has no uplink`);
    return u;
  }

  /** Runs a command inside a host's network namespace (nsenter --net=…). */
  exec(name: string, cmd: string, args: string[]): Promise<RunResult> {
    return inNetns(this.host(name).netns, cmd, args);
  }

  /** One ping from host `from` to host `to` (a host name) or to an address. */
  ping(from: string, to: string): Promise<boolean> {
    const target = this.hosts.find((h) => h.name === to)?.address ?? to;
    return ping(this.host(from).netns, target);
  }

  /**
   * A hung host: SIGKILL to its agent and its dockerd. Containers keep running under
   * their containerd shims; the server marks the host not-ready once heartbeats stop.
   */
  async killHost(name: string): Promise<void> {
    const h = this.host(name);
    await Promise.all([this.platform.stopAgent(name, 'SIGKILL'), h.stopDockerd('SIGKILL')]);
  }

  /**
   * Starts the host's dockerd again with the same arguments (live-restore re-attaches
   * the containers), then its agent; by default waits until the new agent has
   * registered, and returns the server's view of the host.
   */
  async reviveHost(name: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<Host | undefined> {
    const h = this.host(name);
    const since = Date.now();
    if (h.dockerdPid() === undefined) await h.startDockerd();
    if (this.platform.agentPid(name) === undefined) await this.platform.startAgent(name);
    if (opts.wait === false) return undefined;
    return waitFor(`${name} to register again`, async () => {
      const x = await this.platform.client.getHost(name);
      return Date.parse(x.lastHeartbeat) >= since && x.state !== 'not-ready' ? x : undefined;
    }, opts.timeoutMs ?? 30_000, 200);
  }

  /** Shuts the host's switch port: its eth0 loses carrier, cross-host traffic to and from it stops. */
  async cutNetwork(name: string): Promise<void> {
    await setPort(this.uplink(name), false);
  }

  async healNetwork(name: string): Promise<void> {
    await setPort(this.uplink(name), true);
  }

  /**
   * Stops the platform, then every host (containers, dockerd, netns with its eth0,
   * directories), then deletes the switch namespace (the bridge and any veth left).
   * Goes on past failures, and throws them together at the end. Safe to call twice,
   * and on a cluster whose start failed half-way.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    if (this.platformOrUndefined) await this.platformOrUndefined.stop().catch((e: unknown) => errors.push(e));
    this.platformOrUndefined = undefined;
    await Promise.all(this.hosts.map((h) => h.stop().catch((e: unknown) => errors.push(e))));
    deleteNetns(this.switch.netns);
    if (live === this) live = undefined;
    if (errors.length) throw new AggregateError(errors, `cluster teardown: ${errors.map(String).join('; ')}`);
  }
}
