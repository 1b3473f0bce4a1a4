/**
 * The leak checker: what the store says against what the hosts hold, both ways.
 *
 *   store (through the API)                 each host
 *   ───────────────────────                 ─────────
 *   sets: host, phase, IPs        ⇄   containers labelled wharf.managed=true
 *                                      (their wharf.set, role, IP on wharf-<network>)
 *                                 ⇄   btrfs subvolumes volumes/<tenant>/<appkey>/<id>
 *                                      of the agent's pool; recycle-bin entries and their
 *                                      metadata; level-0 qgroups left by deleted subvolumes
 *   IPAM allocations              ⇄   the host shim's /32 routes (wh-<uplink>)
 *                                      containerd shims of the host's namespace
 *   the machine: cgroups <controller>/docker/<container id> that no container has
 *
 * Every orphan is reported by name, on whichever side it is: a container, volume,
 * route, shim or cgroup with no set (or of a set placed elsewhere), and a set, IP or
 * allocation whose other half is missing. `findLeaks` is pure (tested with planted
 * inventories); `LeakChecker` takes the inventories from a running platform.
 *
 *   const leaks = await LeakChecker.start(cluster.platform);   // before the run: cgroups already there are not ours
 *   …the run…
 *   const found = await leaks.check({ settleMs: 60_000 });     // [] when clean; retried until clean or the time is up
 *   if (found.length) throw new Error(formatLeaks(found));
 *
 * Run it when nothing is in flight (or give it settleMs): a set being created has
 * its containers a moment after its placement, and the inventories are not one snapshot.
 * The cgroups of other engines on the machine are told apart by a baseline taken at
 * start and, for those created since, by the containerd shim of another namespace that
 * runs for their container; only a cgroup no live container anywhere has is reported.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Labels, type IpAllocation, type NetworkView, type SetView, type Tenant } from '@wharf/types';
import type { DockerHost } from './docker-host.js';
import { must, run, sleep } from './exec.js';
import type { Platform } from './platform.js';

export type LeakKind =
  | 'container' // a Wharf container with no set in the store on its host
  | 'set-containers' // a running set whose containers are missing on its host
  | 'volume' // a volume subvolume with no set on its host
  | 'set-volume' // a running set without its volume
  | 'trash' // a recycle-bin subvolume without metadata, or metadata without subvolume
  | 'qgroup' // a level-0 qgroup whose subvolume is gone
  | 'ip' // an IPAM allocation with no set, or one its set does not hold
  | 'set-ip' // an IP a set holds without an IPAM allocation
  | 'docker-ip' // an infra container's address that is not its set's
  | 'route' // a host-shim route to an address no set on that host holds
  | 'shim' // a containerd shim of a container the host's dockerd does not have
  | 'cgroup'; // a container cgroup no host's dockerd has a container for

export interface Leak {
  kind: LeakKind;
  /** The host it is on (absent for the store's side and the machine's cgroups). */
  host?: string;
  /** What leaked, by name: a container name, tenant/appkey/id, network/ip, a cgroup path. */
  name: string;
  why: string;
}

/** A set as the store has it. */
export interface StoreSet {
  /** tenant/appkey/id, as the wharf.set label writes it. */
  ref: string;
  host?: string;
  /** Its phase (running, pending, …) */
  status: string;
  /** network/ip */
  ips: string[];
}

export interface StoreInventory {
  sets: StoreSet[];
  /** network/ip → the tenant/appkey/id holding it. */
  allocations: { ip: string; ref: string }[];
}

export interface HostContainer {
  id: string;
  name: string;
  /** Its wharf.set label. */
  set: string;
  role: string;
  /** Docker's state: running, exited, created, … */
  state: string;
  /** network/ip of its addresses on Wharf's Docker networks (wharf-<network>). */
  ips: string[];
}

export interface HostInventory {
  host: string;
  /** Every container of the host's dockerd, Wharf's or not, by id: what a shim or cgroup may belong to. */
  allIds: string[];
  /** Wharf's containers (wharf.managed=true). */
  containers: HostContainer[];
  /** tenant/appkey/id of each volume subvolume in the pool. */
  volumes: string[];
  /** Recycle-bin entries: subvolumes and metadata files (`<trashId>.json`), by trash id. */
  trashSubvolumes: string[];
  trashMeta: string[];
  /** `0/<id>` of level-0 qgroups whose subvolume no longer exists. */
  staleQgroups: string[];
  /** Destinations of /32 routes through the host shim (wh-*). */
  shimRoutes: string[];
  /** Container ids of the containerd shims running in the host's containerd namespace. */
  shims: string[];
}

export interface Inventory {
  store: StoreInventory;
  hosts: HostInventory[];
  /** `<controller>/docker/<id>` cgroup directories on the machine, new since the baseline. */
  cgroups: string[];
}

/** Every orphan in an inventory, on either side, sorted by kind and name. */
export function findLeaks(inv: Inventory): Leak[] {
  const leaks: Leak[] = [];
  const sets = new Map(inv.store.sets.map((s) => [s.ref, s]));
  const placed = (ref: string, host: string) => sets.get(ref)?.host === host;
  const whereIs = (ref: string) => {
    const s = sets.get(ref);
    return !s ? `set ${ref} is not in the store` : s.host ? `set ${ref} is placed on ${s.host}` : `set ${ref} is not placed`;
  };

  for (const h of inv.hosts) {
    for (const c of h.containers) {
      if (!placed(c.set, h.host)) leaks.push({ kind: 'container', host: h.host, name: c.name, why: `${c.state} container (${c.role}) of ${whereIs(c.set)}` });
    }
    for (const v of h.volumes) {
      if (!placed(v, h.host)) leaks.push({ kind: 'volume', host: h.host, name: v, why: `volume subvolume of ${whereIs(v)}` });
    }
    const meta = new Set(h.trashMeta);
    const subvolumes = new Set(h.trashSubvolumes);
    for (const t of h.trashSubvolumes) if (!meta.has(t)) leaks.push({ kind: 'trash', host: h.host, name: t, why: 'recycle-bin subvolume without its metadata' });
    for (const t of h.trashMeta) if (!subvolumes.has(t)) leaks.push({ kind: 'trash', host: h.host, name: t, why: 'recycle-bin metadata without its subvolume' });
    for (const q of h.staleQgroups) leaks.push({ kind: 'qgroup', host: h.host, name: q, why: 'quota group of a deleted subvolume' });

    const ipsHere = new Set(inv.store.sets.filter((s) => s.host === h.host).flatMap((s) => s.ips.map((x) => x.split('/')[1])));
    for (const dst of h.shimRoutes) if (!ipsHere.has(dst)) leaks.push({ kind: 'route', host: h.host, name: dst, why: 'host-shim route to an address no set on this host holds' });

    const ids = new Set(h.allIds);
    for (const s of h.shims) if (!ids.has(s)) leaks.push({ kind: 'shim', host: h.host, name: s, why: 'containerd shim of a container the dockerd does not have' });

    for (const c of h.containers) {
      const s = sets.get(c.set);
      if (!s || s.host !== h.host) continue;
      for (const ip of c.ips) if (!s.ips.includes(ip)) leaks.push({ kind: 'docker-ip', host: h.host, name: ip, why: `address of container ${c.name}; its set holds ${s.ips.join(', ') || 'none'}` });
    }
  }

  const hostsByName = new Map(inv.hosts.map((h) => [h.host, h]));
  for (const s of inv.store.sets) {
    const h = s.host === undefined ? undefined : hostsByName.get(s.host);
    if (!h || s.status !== 'running') continue;
    const mine = h.containers.filter((c) => c.set === s.ref);
    for (const role of ['infra', 'business']) {
      if (!mine.some((c) => c.role === role)) leaks.push({ kind: 'set-containers', name: s.ref, why: `running in the store, but ${h.host} has no ${role} container of it` });
    }
    if (!h.volumes.includes(s.ref)) leaks.push({ kind: 'set-volume', name: s.ref, why: `running in the store, but ${h.host} has no volume of it` });
  }

  const allocated = new Map(inv.store.allocations.map((a) => [a.ip, a.ref]));
  for (const a of inv.store.allocations) {
    const s = sets.get(a.ref);
    if (!s) leaks.push({ kind: 'ip', name: a.ip, why: `allocated to ${a.ref}, which is not in the store` });
    else if (!s.ips.includes(a.ip)) leaks.push({ kind: 'ip', name: a.ip, why: `allocated to ${a.ref}, which holds ${s.ips.join(', ') || 'no address'}` });
  }
  for (const s of inv.store.sets) {
    for (const ip of s.ips) if (allocated.get(ip) !== s.ref) leaks.push({ kind: 'set-ip', name: ip, why: `held by ${s.ref} without an IPAM allocation${allocated.has(ip) ? ` (allocated to ${allocated.get(ip)})` : ''}` });
  }

  const known = new Set(inv.hosts.flatMap((h) => h.allIds));
  for (const path of inv.cgroups) {
    if (!known.has(path.split('/').pop() ?? '')) leaks.push({ kind: 'cgroup', name: path, why: 'container cgroup that no host has a container for' });
  }
  return leaks.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** One line per leak, for an error message or a report. */
export function formatLeaks(leaks: Leak[]): string {
  if (!leaks.length) return 'no leaks';
  return `${leaks.length} leak(s):\n${leaks.map((l) => `  ${l.kind.padEnd(14)} ${l.host ? `${l.host}: ` : ''}${l.name} — ${l.why}`).join('\n')}`;
}

/** How many leaks of each kind, for a benchmark's JSON line. */
export function countLeaks(leaks: Leak[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of leaks) out[l.kind] = (out[l.kind] ?? 0) + 1;
  return out;
}

// ---- taking the inventories ----

/** The cgroup v1 controllers (and the v2 root) whose docker/ directories are looked at. */
const CGROUP_DIRS = ['memory/docker', 'pids/docker', 'cpu,cpuacct/docker', 'blkio/docker', 'unified/docker', 'docker'];
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** `<dir>/<id>` for every container-id directory below the cgroup root's docker/ directories. */
export async function containerCgroups(root = '/sys/fs/cgroup'): Promise<string[]> {
  const out: string[] = [];
  for (const d of CGROUP_DIRS) {
    const names = await readdir(join(root, d)).catch(() => [] as string[]);
    for (const n of names) if (CONTAINER_ID.test(n)) out.push(`${d}/${n}`);
  }
  return out.sort();
}

async function storeInventory(platform: Platform): Promise<StoreInventory> {
  const c = platform.client;
  const tenants = new Set(['default', ...(await c.listTenants()).map((t: Tenant) => t.name)]);
  const sets: StoreSet[] = [];
  for (const t of tenants) {
    for (const s of await c.request<SetView[]>('GET', `/v1/sets?tenant=${encodeURIComponent(t)}`)) {
      sets.push({ ref: `${s.tenant}/${s.appkey}/${s.id}`, ...(s.host ? { host: s.host } : {}), status: s.status, ips: s.ips.map((x) => `${x.network}/${x.ip}`) });
    }
  }
  const allocations: StoreInventory['allocations'] = [];
  for (const n of await c.listNetworks()) {
    const view = await c.getNetwork(n.name) as NetworkView;
    for (const a of view.allocations ?? [] as IpAllocation[]) allocations.push({ ip: `${a.network}/${a.ip}`, ref: `${a.tenant}/${a.appkey}/${a.id}` });
  }
  return { sets, allocations };
}

const INSPECT = '{{.Id}}\t{{.Name}}\t{{.State.Status}}\t{{json .Config.Labels}}\t{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}';

async function containersOf(h: DockerHost): Promise<{ allIds: string[]; containers: HostContainer[] }> {
  const allIds = (await must('docker', ['-H', `unix://${h.socket}`, 'ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  const wharf = await h.containerIds();
  const containers: HostContainer[] = [];
  for (let i = 0; i < wharf.length; i += 200) {
    const r = await h.docker(['inspect', '--format', INSPECT, ...wharf.slice(i, i + 200)]);
    // A container removed since the list is no orphan: inspect names it in stderr and goes on.
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [id = '', name = '', state = '', labels = '{}', nets = ''] = line.split('\t');
      const l = JSON.parse(labels) as Record<string, string>;
      const ips = nets.split(' ').filter(Boolean)
        .map((x) => x.split('='))
        .filter(([net, ip]) => net?.startsWith('wharf-') && ip)
        .map(([net, ip]) => `${net?.slice('wharf-'.length)}/${ip}`);
      containers.push({ id, name: name.replace(/^\//, ''), set: l[Labels.set] ?? '?', role: l[Labels.role] ?? '?', state, ips });
    }
  }
  return { allIds, containers };
}

/** `btrfs subvolume list` paths and the level-0 qgroups without a subvolume. */
async function poolOf(pool: string): Promise<Pick<HostInventory, 'volumes' | 'trashSubvolumes' | 'trashMeta' | 'staleQgroups'>> {
  const none = { volumes: [], trashSubvolumes: [], trashMeta: [], staleQgroups: [] };
  if ((await run('findmnt', ['-n', '--mountpoint', pool])).code !== 0) return none; // no pool (yet)
  const ids = new Set<string>();
  const volumes: string[] = [];
  const trashSubvolumes: string[] = [];
  for (const line of (await must('btrfs', ['subvolume', 'list', pool])).split('\n')) {
    const m = /^ID (\d+) .* path (.+)$/.exec(line.trim());
    if (!m) continue;
    ids.add(m[1] as string);
    const parts = (m[2] as string).split('/');
    if (parts[0] === 'volumes' && parts.length === 4) volumes.push(parts.slice(1).join('/'));
    if (parts[0] === 'trash' && parts.length === 2) trashSubvolumes.push(parts[1] as string);
  }
  const q = await run('btrfs', ['qgroup', 'show', '--raw', pool]);
  const staleQgroups = q.code !== 0 ? [] : q.stdout.split('\n')
    .map((l) => /^0\/(\d+)\s/.exec(l.trim())?.[1])
    .filter((id): id is string => id !== undefined && id !== '5' && !ids.has(id))
    .map((id) => `0/${id}`);
  const trashMeta = (await readdir(join(pool, 'trash')).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  return { volumes: volumes.sort(), trashSubvolumes: trashSubvolumes.sort(), trashMeta: trashMeta.sort(), staleQgroups };
}

async function shimRoutesOf(h: DockerHost): Promise<string[]> {
  const out = await must('ip', [...(h.uplink ? ['-n', h.netns] : []), '-j', 'route', 'show']);
  const routes = JSON.parse(out.trim() || '[]') as { dst?: string; dev?: string }[];
  return routes.filter((r) => r.dev?.startsWith('wh-') && r.dst && !r.dst.includes('/')).map((r) => r.dst as string).sort();
}

/** The `-id` of every containerd-shim process on the machine, by its containerd namespace. */
async function shimsByNamespace(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const argv = (await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.includes('containerd-shim') || !argv.includes('-namespace') || !argv.includes('-id')) continue;
    const ns = argv[argv.indexOf('-namespace') + 1] ?? '';
    const id = argv[argv.indexOf('-id') + 1] ?? '';
    if (CONTAINER_ID.test(id)) out.set(ns, [...(out.get(ns) ?? []), id]);
  }
  for (const ids of out.values()) ids.sort();
  return out;
}

export class LeakChecker {
  private constructor(
    readonly platform: Platform,
    private readonly baseline: Set<string>,
  ) {}

  /** Takes the machine's container cgroups now as the baseline: those are not this platform's. */
  static async start(platform: Platform): Promise<LeakChecker> {
    const ours = new Set((await Promise.all(platform.hosts.map(async (h) => (await containersOf(h)).allIds))).flat());
    const baseline = (await containerCgroups()).filter((p) => !ours.has(p.split('/').pop() ?? ''));
    return new LeakChecker(platform, new Set(baseline));
  }

  async inventory(): Promise<Inventory> {
    const store = await storeInventory(this.platform);
    // Cgroups before the shims: another engine's container starts its shim before runc makes
    // its cgroup, so a cgroup seen here has its shim in the scan below while it runs.
    const cgroupsBefore = new Set(await containerCgroups());
    const shims = await shimsByNamespace();
    const hosts = await Promise.all(this.platform.hosts.map(async (h): Promise<HostInventory> => ({
      host: h.name,
      ...(await containersOf(h)),
      ...(await poolOf(join(this.platform.agentDataDir(h.name), 'pool'))),
      shimRoutes: await shimRoutesOf(h),
      shims: shims.get(h.netns) ?? [],
    })));
    // A container of another engine on the machine (a test file running beside this
    // one) has its shim running for as long as it has a cgroup: not this platform's.
    const ours = new Set(this.platform.hosts.map((h) => h.netns));
    const others = new Set([...shims].filter(([ns]) => !ours.has(ns)).flatMap(([, ids]) => ids));
    // Seen again after the shims: one torn down meanwhile (its shim gone with it) is not reported.
    const cgroups = (await containerCgroups()).filter((p) => cgroupsBefore.has(p) && !this.baseline.has(p) && !others.has(p.split('/').pop() ?? ''));
    return { store, hosts, cgroups };
  }

  /**
   * The leaks found; with `settleMs`, taken again every `everyMs` (2 s) until none
   * is left or the time is up, and the last finding returned.
   */
  async check(opts: { settleMs?: number; everyMs?: number } = {}): Promise<Leak[]> {
    const deadline = Date.now() + (opts.settleMs ?? 0);
    for (;;) {
      const leaks = findLeaks(await this.inventory());
      if (!leaks.length || Date.now() >= deadline) return leaks;
      await sleep(opts.everyMs ?? 2000);
    }
  }
}
