/**
 * The host shim: a macvlan child cannot talk to its parent, so the Docker host would
 * not reach its own sets over the uplink. In the host's namespace the agent keeps,
 * per parent interface with local sets, a macvlan link `wh-<parent>` (bridge mode, up,
 * no address) and a /32 route per local set IP through it, with the parent's (else
 * the uplink's) address as source. Routes of IPs no longer on the host are removed,
 * and so is a shim without routes.
 *
 * `arp_filter=1` on the shim: it answers ARP only for requests it would route back
 * through itself (from local sets), so it never claims the host's address towards
 * the rest of the network.
 */
import type { Cmd } from './netns.js';
import { ifaceName } from './docker-networks.js';

export const SHIM_PREFIX = 'wh-';

export function shimName(parent: string): string {
  return ifaceName(SHIM_PREFIX, parent);
}

export interface ShimWanted {
  parent: string;
  /** Source address of the routes (the host's address on that network). */
  src?: string;
  ips: string[];
}

export interface ShimLink {
  name: string;
  up: boolean;
}

export interface ShimRoute {
  dst: string;
  dev: string;
  src?: string;
}

/** `ip -j link show type macvlan` → our shim links. */
export function parseShimLinks(json: string): ShimLink[] {
  const text = json.trim();
  if (!text) return [];
  const list = JSON.parse(text) as { ifname?: string; flags?: string[] }[];
  return list
    .filter((l) => typeof l.ifname === 'string' && l.ifname.startsWith(SHIM_PREFIX))
    .map((l) => ({ name: l.ifname as string, up: (l.flags ?? []).includes('UP') }));
}

/** `ip -j -4 route show` → routes through our shim links. */
export function parseShimRoutes(json: string): ShimRoute[] {
  const text = json.trim();
  if (!text) return [];
  const list = JSON.parse(text) as { dst?: string; dev?: string; prefsrc?: string }[];
  return list
    .filter((r) => typeof r.dst === 'string' && typeof r.dev === 'string' && r.dev.startsWith(SHIM_PREFIX))
    .map((r) => ({ dst: (r.dst as string).replace(/\/32$/, ''), dev: r.dev as string, ...(r.prefsrc ? { src: r.prefsrc } : {}) }));
}

/** What makes the host's shims match `wanted`, given what is there now (pure). */
export function shimCommands(wanted: ShimWanted[], current: { links: ShimLink[]; routes: ShimRoute[] }): Cmd[] {
  const cmds: Cmd[] = [];
  const want = new Map<string, ShimWanted>();
  for (const w of wanted) {
    if (w.ips.length === 0) continue;
    const name = shimName(w.parent);
    const prev = want.get(name);
    want.set(name, prev ? { ...prev, ips: [...prev.ips, ...w.ips] } : w);
  }
  const links = new Map(current.links.map((l) => [l.name, l]));

  for (const [name, w] of [...want].sort(([a], [b]) => a.localeCompare(b))) {
    const link = links.get(name);
    if (!link) {
      cmds.push(
        { argv: ['ip', 'link', 'add', name, 'link', w.parent, 'type', 'macvlan', 'mode', 'bridge'], tolerate: /File exists/ },
        { argv: ['sysctl', '-qw', `net/ipv4/conf/${name}/arp_filter=1`] },
      );
    }
    if (!link?.up) cmds.push({ argv: ['ip', 'link', 'set', name, 'up'] });
    const have = new Map(current.routes.filter((r) => r.dev === name).map((r) => [r.dst, r]));
    for (const ip of [...new Set(w.ips)].sort()) {
      const r = have.get(ip);
      if (r && r.src === w.src) continue;
      cmds.push({ argv: ['ip', 'route', 'replace', `${ip}/32`, 'dev', name, ...(w.src ? ['src', w.src] : [])] });
    }
  }
  // Routes of IPs that left (or moved to another shim), then shims nobody needs.
  for (const r of current.routes) {
    const w = want.get(r.dev);
    // A shim nobody needs is deleted below, and its routes with it.
    if (w && !w.ips.includes(r.dst)) cmds.push({ argv: ['ip', 'route', 'del', `${r.dst}/32`, 'dev', r.dev], tolerate: /No such process|Cannot find device/ });
  }
  for (const l of current.links) {
    if (!want.has(l.name)) cmds.push({ argv: ['ip', 'link', 'del', l.name], tolerate: /Cannot find device/ });
  }
  return cmds;
}
