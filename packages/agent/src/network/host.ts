/**
 * The Docker host's side of the data plane, in its network namespace (`--netns`, else
 * the agent's own): its uplink addresses, its uplink speed, and the shims that let it
 * reach its own sets.
 */
import { readFile } from 'node:fs/promises';
import { parseIpAddr, type Iface } from './addresses.js';
import type { Netns } from './netns.js';
import { parseShimLinks, parseShimRoutes, shimCommands, type ShimWanted } from './shim.js';

export interface ShimTarget {
  /** The macvlan parent (uplink or uplink.vlan) and the uplink. */
  parent: string;
  uplink: string;
  ips: string[];
}

export class HostNetwork {
  private ifaces: Iface[] | undefined;

  constructor(readonly netns: Netns) {}

  /** The host's interfaces and IPv4 addresses (cached; `refresh` reads them again). */
  async interfaces(refresh = false): Promise<Iface[]> {
    if (refresh || !this.ifaces) this.ifaces = parseIpAddr(await this.netns.read(['ip', '-j', '-4', 'addr', 'show']));
    return this.ifaces;
  }

  /** Every IPv4 address of these interfaces. */
  async addressesOf(names: string[]): Promise<string[]> {
    const ifaces = await this.interfaces();
    return [...new Set(ifaces.filter((i) => names.includes(i.name)).flatMap((i) => i.addresses.map((a) => a.ip)))].sort();
  }

  /** The first (primary) IPv4 address of the first of `names` that has one. */
  async primaryAddress(names: string[]): Promise<string | undefined> {
    const ifaces = await this.interfaces();
    for (const n of names) {
      const a = ifaces.find((i) => i.name === n)?.addresses.find((x) => !x.secondary);
      if (a) return a.ip;
    }
    return undefined;
  }

  /** Makes the shims and their routes match `targets` (every local set IP by parent); resolves with the commands run. */
  async syncShims(targets: ShimTarget[]): Promise<string[]> {
    await this.interfaces(true);
    const byParent = new Map<string, ShimWanted>();
    for (const t of targets) {
      const w = byParent.get(t.parent) ?? { parent: t.parent, ips: [] };
      const src = w.src ?? (await this.primaryAddress([t.parent, t.uplink]));
      byParent.set(t.parent, { ...w, ...(src ? { src } : {}), ips: [...w.ips, ...t.ips] });
    }
    const [links, routes] = await Promise.all([
      this.netns.read(['ip', '-j', 'link', 'show', 'type', 'macvlan']),
      this.netns.read(['ip', '-j', '-4', 'route', 'show', 'table', 'main']),
    ]);
    const cmds = shimCommands([...byParent.values()], { links: parseShimLinks(links), routes: parseShimRoutes(routes) });
    await this.netns.runAll(cmds);
    return cmds.map((c) => c.argv.join(' '));
  }

  /** The uplink's speed in Mbit/s as the kernel reports it; undefined when it does not know (virtual links say -1). */
  async uplinkSpeed(uplink: string): Promise<number | undefined> {
    let text: string;
    if (this.netns.path === undefined) {
      text = await readFile(`/sys/class/net/${uplink}/speed`, 'utf8').catch(() => '');
    } else {
      // /sys shows the namespace of whoever mounted it: mount a fresh one in a private mount namespace.
      const r = await this.netns
        .run({ argv: ['unshare', '--mount', 'sh', '-c', 'mount -t sysfs sysfs /sys && cat "/sys/class/net/$1/speed"', 'sh', uplink], tolerate: /.*/s })
        .catch(() => ({ stdout: '' }));
      text = r.stdout;
    }
    const n = Number(text.trim());
    return Number.isFinite(n) && n > 0 ? n : undefined;
  }
}
