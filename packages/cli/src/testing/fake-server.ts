/**
 * A tiny stand-in for wharf-server, for the CLI's end-to-end tests: just the
 * routes the CLI uses, with a pretend agent that moves a set one step towards
 * running (or towards gone) on every GET of it, a pretend IPAM that gives sets
 * addresses of the networks, hosts with settings, network policies, volumes (usage,
 * resize, snapshots, export), recycle bins and moves. Sets and
 * policies are kept per tenant (`?tenant=`, default "default").
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import {
  formatIpv4,
  networkRange,
  parseIpv4,
  rangeSize,
  validateNetworkSpec,
  type FieldError,
  type Host,
  type HostNetwork,
  type HostSettingsPatch,
  type IpAllocation,
  type NetworkObject,
  type NetworkPolicy,
  type NetworkPolicySpec,
  type NetworkSpec,
  type NetworkView,
  type SetEvent,
  type SetSpec,
  type SetView,
  type TrashEntry,
  type VolumeSnapshot,
  type VolumeView,
  parseBytes,
  type ResizeRequest,
  type SetTop,
} from '@wharf/types';
import type { HostTop } from '@wharf/client';
import { fakeResize, limitsOf } from './fake-resize.js';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

/** What the pretend agents know of a set's volume. */
export interface FakeVolume {
  used: number;
  quota: number;
  snapshots: VolumeSnapshot[];
}

/** A host as its agent declares it, and what `wharf host set` overrides. */
export interface FakeHost {
  host: Host;
  declared: { networks: HostNetwork[]; bandwidth?: number };
  overrides: { networks?: HostNetwork[]; bandwidth?: number };
}

export interface FakeServer {
  url: string;
  /** By `tenant/appkey/id`. */
  sets: Map<string, SetView>;
  networks: Map<string, NetworkObject>;
  /** Every address held, in allocation order. */
  allocations: IpAllocation[];
  hosts: Map<string, FakeHost>;
  /** By `tenant/appkey/name`. */
  policies: Map<string, NetworkPolicy>;
  requests: RecordedRequest[];
  /** Volume usage by `tenant/appkey/id` (sets without an entry have none reported). */
  volumes: Map<string, FakeVolume>;
  /** Every host's recycle bin. */
  trash: TrashEntry[];
  /** Hosts named as not answering by `GET /v1/trash`. */
  unreachableHosts: string[];
  /** What `export` streams (in chunks of 64 KiB). */
  exportData: Buffer;
  /** Events by `tenant/appkey/id` (`GET …/events`; none by default). */
  events: Map<string, SetEvent[]>;
  /**
   * How the pretend move ends: `drop` cuts the connection after moving the set (a
   * client that gave up waiting), `drop-and-fail` cuts it and records a MoveFailed event instead.
   */
  moveBehaviour: 'normal' | 'drop' | 'drop-and-fail';
  /** What `GET /v1/metrics/sets` (sorted, filtered, limited here) and `/v1/metrics/hosts` answer. */
  topSets: SetTop[];
  topHosts: HostTop[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string, details?: unknown): void {
  send(res, status, { error: { code, message, ...(details ? { details } : {}) } });
}

function viewOf(spec: SetSpec, tenant: string, now: string): SetView {
  return {
    tenant,
    appkey: spec.appkey,
    id: String(spec.id),
    generation: 1,
    observedGeneration: 0,
    desired: 'running',
    status: 'pending',
    ready: false,
    resources: { cpu: spec.resources?.cpu ?? 1, memory: 1024 ** 3, disk: 1024 ** 3 },
    ips: [],
    containers: [],
    spec,
    createdAt: now,
    updatedAt: now,
  };
}

/** The pretend agent: one step per GET. */
function step(v: SetView): void {
  if (v.status === 'deleting') {
    v.containers = [];
    return;
  }
  const containers = [...v.spec.containers].sort((a, b) => a.index - b.index);
  if (v.observedGeneration < v.generation) {
    v.observedGeneration = v.generation;
    v.status = 'starting';
    v.ready = false;
    v.host ??= 'h1';
    v.containers = [
      { name: 'infra', role: 'infra', index: 0, image: 'wharf/busybox:latest', state: 'running', restartCount: 0, containerId: 'f'.repeat(64), startedAt: new Date().toISOString() },
      ...containers.map((c, i) => ({
        name: c.options.name,
        role: 'business' as const,
        index: c.index,
        image: c.image,
        state: i === 0 ? ('running' as const) : ('created' as const),
        restartCount: 0,
        containerId: String(i + 1).repeat(64),
        ...limitsOf(v.spec, c.options.name),
      })),
    ];
  } else if (v.status === 'starting') {
    v.status = 'running';
    v.ready = true;
    for (const c of v.containers) {
      c.state = 'running';
      if (c.role === 'business') c.ready = true;
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function validation(res: ServerResponse, errors: FieldError[]): void {
  const first = errors[0];
  error(res, 400, 'VALIDATION_FAILED', `${first?.path}: ${first?.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
}

export function fakeHost(name: string, declared: FakeHost['declared'], zone = 'dc1'): FakeHost {
  const now = new Date().toISOString();
  return {
    declared,
    overrides: {},
    host: {
      name,
      zone,
      rack: 'r1',
      labels: {},
      capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 100 * 1024 ** 3 },
      agentUrl: 'http://127.0.0.1:7071',
      agentVersion: '0.1.0',
      dockerVersion: '24.0.7',
      state: 'ready',
      cordoned: false,
      draining: false,
      lastHeartbeat: now,
      registeredAt: now,
      allocated: { cpu: 0, memory: 0, disk: 0 },
      sets: 0,
      networks: [],
    },
  };
}

/** The host as the API shows it: overrides win over what the agent declares. */
function hostView(h: FakeHost, sets: SetView[]): Host {
  const bandwidth = h.overrides.bandwidth ?? h.declared.bandwidth;
  const mine = sets.filter((s) => s.host === h.host.name);
  const reserved = mine.reduce((sum, s) => {
    const bw = s.spec.resources?.bandwidth;
    return sum + (typeof bw === 'number' ? bw : Math.max(bw?.egress ?? 0, bw?.ingress ?? 0));
  }, 0);
  const { bandwidth: _b, ...capacity } = h.host.capacity;
  const { bandwidth: _a, ...allocated } = h.host.allocated;
  return {
    ...h.host,
    capacity: { ...capacity, ...(bandwidth !== undefined ? { bandwidth } : {}) },
    allocated: { ...allocated, ...(reserved > 0 ? { bandwidth: reserved } : {}) },
    sets: mine.length,
    networks: h.overrides.networks ?? h.declared.networks,
    ...(Object.keys(h.overrides).length > 0 ? { overrides: h.overrides } : {}),
  };
}

export async function startFakeServer(): Promise<FakeServer> {
  const sets = new Map<string, SetView>();
  const networks = new Map<string, NetworkObject>();
  const allocations: IpAllocation[] = [];
  const hosts = new Map<string, FakeHost>([['h1', fakeHost('h1', { networks: [{ name: 'net1', uplink: 'eth0' }], bandwidth: 1000 })]]);
  const policies = new Map<string, NetworkPolicy>();
  const requests: RecordedRequest[] = [];

  function networkView(n: NetworkObject, withAllocations: boolean): NetworkView {
    const range = networkRange(n);
    const held = allocations.filter((a) => a.network === n.name).sort((a, b) => (parseIpv4(a.ip) ?? 0) - (parseIpv4(b.ip) ?? 0));
    const size = rangeSize(n);
    const views = [...hosts.values()].map((h) => hostView(h, [...sets.values()]));
    return {
      ...n,
      rangeStart: range ? formatIpv4(range.start) : '',
      rangeEnd: range ? formatIpv4(range.end) : '',
      size,
      used: held.length,
      free: Math.max(0, size - held.length),
      hosts: views.filter((h) => h.networks.some((x) => x.name === n.name) && (!n.zone || n.zone === h.zone)).map((h) => h.name).sort(),
      ...(withAllocations ? { allocations: held } : {}),
    };
  }

  /** The pretend IPAM: the set's primary address (on its network or the default one), then its extras. */
  function allocate(view: SetView): FieldError[] {
    const want = view.spec.network;
    const primary = want?.name ?? [...networks.values()].find((n) => n.default)?.name;
    if (!primary) return [];
    const asks = [{ network: primary, ip: want?.ip, path: 'network' }, ...(want?.extra ?? []).map((x, i) => ({ network: x.network ?? primary, ip: x.ip, path: `network.extra[${i}]` }))];
    const got: IpAllocation[] = [];
    for (const [i, ask] of asks.entries()) {
      const net = networks.get(ask.network);
      if (!net) return [{ path: `${ask.path}.name`, message: `there is no network ${ask.network}` }];
      const taken = new Set([...allocations, ...got].filter((a) => a.network === net.name).map((a) => a.ip));
      let ip = ask.ip;
      if (ip !== undefined && taken.has(ip)) return [{ path: `${ask.path}.ip`, message: `${ip} is held by another set` }];
      if (ip === undefined) {
        const r = networkRange(net);
        for (let n = r?.start ?? 1; r && n <= r.end && ip === undefined; n++) {
          const candidate = formatIpv4(n);
          if (candidate !== net.gateway && !taken.has(candidate)) ip = candidate;
        }
      }
      if (ip === undefined) return [{ path: ask.path, message: `network ${net.name} has no free address` }];
      got.push({ network: net.name, ip, tenant: view.tenant, appkey: view.appkey, id: view.id, primary: i === 0, allocatedAt: new Date().toISOString() });
    }
    allocations.push(...got);
    view.ips = got.map((a) => ({ network: a.network, ip: a.ip }));
    return [];
  }

  function release(view: SetView): void {
    for (let i = allocations.length - 1; i >= 0; i--) {
      const a = allocations[i];
      if (a && a.tenant === view.tenant && a.appkey === view.appkey && a.id === view.id) allocations.splice(i, 1);
    }
  }

  function networkRoute(req: IncomingMessage, res: ServerResponse, name: string | undefined, body: string): void {
    if (name === undefined) {
      if (req.method === 'GET') return send(res, 200, [...networks.values()].map((n) => networkView(n, false)));
      return error(res, 404, 'NOT_FOUND', `no route ${req.method} /v1/networks`);
    }
    const existing = networks.get(name);
    if (req.method === 'PUT') {
      const spec = JSON.parse(body) as NetworkSpec;
      const errors = spec.name !== name ? [{ path: 'name', message: `"${spec.name}" does not match the URL's "${name}"` }] : validateNetworkSpec(spec);
      if (errors.length > 0) return validation(res, errors);
      if (existing) {
        const { createdAt: _c, ...was } = existing;
        if (isDeepStrictEqual(was, spec)) return send(res, 200, networkView(existing, true));
        return error(res, 409, 'CONFLICT', `network ${name} exists with another definition; remove it first (wharf network rm ${name})`, { network: name });
      }
      const other = [...networks.values()].find((n) => n.default);
      if (spec.default && other) return error(res, 409, 'CONFLICT', `network ${other.name} is already the default network`, { network: other.name });
      const created: NetworkObject = { ...spec, createdAt: new Date().toISOString() };
      networks.set(name, created);
      return send(res, 201, networkView(created, true));
    }
    if (!existing) return error(res, 404, 'NETWORK_NOT_FOUND', `network ${name} not found`, { network: name });
    if (req.method === 'GET') return send(res, 200, networkView(existing, true));
    if (req.method === 'DELETE') {
      const held = allocations.filter((a) => a.network === name);
      if (held.length > 0) {
        const shown = held.map((a) => `${a.ip} (${a.tenant === 'default' ? '' : `${a.tenant}/`}${a.appkey}/${a.id})`).join(', ');
        return error(res, 409, 'NETWORK_IN_USE', `network ${name} has ${held.length} IP(s) in use: ${shown}; delete those sets first`, { network: name, allocations: held });
      }
      networks.delete(name);
      res.writeHead(204).end();
      return;
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} /v1/networks/${name}`);
  }

  function hostRoute(req: IncomingMessage, res: ServerResponse, name: string | undefined, body: string): void {
    const all = [...sets.values()];
    if (name === undefined) return send(res, 200, [...hosts.values()].map((h) => hostView(h, all)));
    const h = hosts.get(name);
    if (!h) return error(res, 404, 'HOST_NOT_FOUND', `host ${name} not found`);
    if (req.method === 'GET') return send(res, 200, hostView(h, all));
    if (req.method === 'PATCH') {
      const patch = JSON.parse(body) as HostSettingsPatch;
      if (patch.networks === null) delete h.overrides.networks;
      else if (patch.networks !== undefined) h.overrides.networks = patch.networks;
      if (patch.bandwidth === null) delete h.overrides.bandwidth;
      else if (patch.bandwidth !== undefined) h.overrides.bandwidth = patch.bandwidth;
      return send(res, 200, hostView(h, all));
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} /v1/hosts/${name}`);
  }

  function policyRoute(req: IncomingMessage, res: ServerResponse, tenant: string, url: URL, appkey: string | undefined, name: string | undefined, body: string): void {
    if (appkey === undefined) {
      const want = url.searchParams.get('appkey');
      return send(res, 200, [...policies.values()].filter((p) => p.tenant === tenant && (!want || p.appkey === want)));
    }
    const key = `${tenant}/${appkey}/${name}`;
    const existing = policies.get(key);
    if (req.method === 'PUT') {
      const spec = JSON.parse(body) as NetworkPolicySpec & Record<string, unknown>;
      const errors: FieldError[] = [];
      for (const extra of Object.keys(spec).filter((k) => !['name', 'appkey', 'ingress'].includes(k))) errors.push({ path: extra, message: 'is not allowed' });
      if (!Array.isArray(spec.ingress) || spec.ingress.length === 0) errors.push({ path: 'ingress', message: 'must have at least 1 rule' });
      else {
        spec.ingress.forEach((r, i) => {
          r.from.forEach((peer, j) => {
            if ([peer.app, peer.cidr].filter((x) => x !== undefined).length !== 1) errors.push({ path: `ingress[${i}].from[${j}]`, message: 'give exactly one of app or cidr' });
          });
          (r.ports ?? []).forEach((p, j) => {
            if (p.port < 1 || p.port > 65535) errors.push({ path: `ingress[${i}].ports[${j}].port`, message: 'must be 1..65535' });
          });
        });
      }
      if (spec.appkey !== appkey || spec.name !== name) errors.push({ path: 'name', message: 'does not match the URL' });
      if (errors.length > 0) return validation(res, errors);
      const now = new Date().toISOString();
      const policy: NetworkPolicy = { ...spec, tenant, createdAt: existing?.createdAt ?? now, updatedAt: now };
      policies.set(key, policy);
      return send(res, existing ? 200 : 201, policy);
    }
    if (!existing) return error(res, 404, 'POLICY_NOT_FOUND', `policy ${appkey}/${name} not found`);
    if (req.method === 'GET') return send(res, 200, existing);
    if (req.method === 'DELETE') {
      policies.delete(key);
      res.writeHead(204).end();
      return;
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }

  const volumes = new Map<string, FakeVolume>();
  const events = new Map<string, SetEvent[]>();
  const fake: { trash: TrashEntry[]; unreachableHosts: string[]; exportData: Buffer; moveBehaviour: FakeServer['moveBehaviour'] } = {
    trash: [],
    unreachableHosts: [],
    exportData: Buffer.alloc(200 * 1024, 7),
    moveBehaviour: 'normal',
  };

  function volumeView(v: SetView, withSnapshots: boolean): VolumeView {
    const usage = volumes.get(`${v.tenant}/${v.appkey}/${v.id}`);
    return {
      tenant: v.tenant,
      appkey: v.appkey,
      id: v.id,
      ...(v.host ? { host: v.host } : {}),
      size: v.resources.disk,
      ...(usage ? { driver: 'btrfs' as const, used: usage.used, quota: usage.quota, path: `/var/lib/wharf/volumes/${v.tenant}/${v.appkey}/${v.id}`, reportedAt: new Date().toISOString() } : {}),
      ...(withSnapshots ? { snapshots: usage?.snapshots ?? [] } : {}),
    };
  }

  function volumeRoute(req: IncomingMessage, res: ServerResponse, tenant: string, url: URL, parts: string[], body: string): void {
    const [, , appkey, id, sub, name, action] = parts;
    if (appkey === undefined) {
      const want = url.searchParams.get('appkey');
      return send(res, 200, [...sets.values()].filter((s) => s.tenant === tenant && (!want || s.appkey === want)).map((s) => volumeView(s, false)));
    }
    const key = `${tenant}/${appkey}/${id}`;
    const set = sets.get(key);
    if (!set) return error(res, 404, 'SET_NOT_FOUND', `set ${appkey}/${id} not found`);
    if (req.method === 'GET' && !sub) return send(res, 200, volumeView(set, true));
    if (!set.host) return error(res, 409, 'CONFLICT', `set ${appkey}/${id} is not placed on a host yet, so it has no volume`);
    const vol = volumes.get(key) ?? { used: 0, quota: set.resources.disk, snapshots: [] };
    volumes.set(key, vol);
    if (req.method === 'POST' && sub === 'resize') {
      const { size } = JSON.parse(body) as { size: string | number };
      const bytes = parseBytes(size) ?? 0;
      if (bytes > 100 * 1024 ** 3) return error(res, 409, 'INSUFFICIENT_DISK', `host ${set.host} has 90Gi of disk unreserved; growing by ${(bytes - set.resources.disk) / 1024 ** 3}Gi needs more`);
      if (bytes < vol.used) return error(res, 409, 'VOLUME_TOO_SMALL', `the volume holds ${vol.used} bytes; it cannot shrink to ${bytes}`);
      vol.quota = bytes;
      set.resources.disk = bytes;
      set.spec = { ...set.spec, resources: { ...set.spec.resources, disk: size } };
      set.generation++;
      return send(res, 200, volumeView(set, false));
    }
    if (req.method === 'GET' && sub === 'export') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(fake.exportData.length), 'content-disposition': `attachment; filename="${appkey}-${id}.tar"` });
      for (let i = 0; i < fake.exportData.length; i += 64 * 1024) res.write(fake.exportData.subarray(i, i + 64 * 1024));
      res.end();
      return;
    }
    if (sub !== 'snapshots') return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
    if (name === undefined) {
      if (req.method === 'GET') return send(res, 200, vol.snapshots);
      const asked = (JSON.parse(body || '{}') as { name?: string }).name;
      const snap = { name: asked ?? `20250101T120000Z`, createdAt: new Date().toISOString(), used: vol.used };
      vol.snapshots.push(snap);
      return send(res, 201, snap);
    }
    const snap = vol.snapshots.find((x) => x.name === name);
    if (!snap) return error(res, 404, 'SNAPSHOT_NOT_FOUND', `volume of set ${appkey}/${id} has no snapshot ${name}`);
    if (req.method === 'POST' && action === 'restore') {
      if (set.status === 'running') return error(res, 409, 'VOLUME_IN_USE', `set ${appkey}/${id} has running containers`);
      vol.used = snap.used;
      return send(res, 200, volumeView(set, false));
    }
    if (req.method === 'DELETE' && !action) {
      vol.snapshots = vol.snapshots.filter((x) => x !== snap);
      res.writeHead(204).end();
      return;
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }

  function trashRoute(req: IncomingMessage, res: ServerResponse, tenant: string, url: URL, parts: string[], body: string): void {
    const [, , host, trashId, action] = parts;
    if (host === undefined) {
      const only = url.searchParams.get('host');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fake.unreachableHosts.length > 0 && !only) headers['x-wharf-unreachable-hosts'] = fake.unreachableHosts.join(',');
      res.writeHead(200, headers);
      res.end(JSON.stringify(fake.trash.filter((e) => e.tenant === tenant && (!only || e.host === only))));
      return;
    }
    if (!hosts.has(host)) return error(res, 404, 'HOST_NOT_FOUND', `host ${host} not found`);
    if (trashId === undefined && req.method === 'DELETE') {
      const gone = fake.trash.filter((e) => e.host === host && e.tenant === tenant);
      fake.trash = fake.trash.filter((e) => !gone.includes(e));
      return send(res, 200, { purged: gone.length, bytes: gone.reduce((n, e) => n + e.used, 0) });
    }
    const entry = fake.trash.find((e) => e.host === host && e.trashId === trashId && e.tenant === tenant);
    if (!entry) return error(res, 404, 'TRASH_NOT_FOUND', `there is no volume ${trashId} in the recycle bin of host ${host}`);
    if (req.method === 'DELETE' && !action) {
      fake.trash = fake.trash.filter((e) => e !== entry);
      return send(res, 200, { purged: 1, bytes: entry.used });
    }
    if (req.method === 'POST' && action === 'restore') {
      const to = JSON.parse(body) as { appkey: string; id: string };
      if (to.appkey !== entry.appkey) return validation(res, [{ path: 'appkey', message: `the volume ${host}/${trashId} was of app ${entry.appkey}` }]);
      const set = sets.get(`${tenant}/${to.appkey}/${to.id}`);
      if (!set) return error(res, 404, 'SET_NOT_FOUND', `set ${to.appkey}/${to.id} not found`);
      if (set.host !== host) return error(res, 409, 'CONFLICT', `set ${to.appkey}/${to.id} is on host ${set.host ?? '<none>'}; the volume is in ${host}'s recycle bin`);
      if (set.status === 'running') return error(res, 409, 'VOLUME_IN_USE', `set ${to.appkey}/${to.id} has running containers`);
      fake.trash = fake.trash.filter((e) => e !== entry);
      volumes.set(`${tenant}/${to.appkey}/${to.id}`, { used: entry.used, quota: set.resources.disk, snapshots: [] });
      return send(res, 200, volumeView(set, false));
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }

  /** The pretend move: a stopped set goes to the host at once and starts there. */
  function move(res: ServerResponse, set: SetView, body: string): void {
    const { host } = JSON.parse(body) as { host: string };
    if (!hosts.has(host)) return error(res, 404, 'HOST_NOT_FOUND', `host ${host} not found`);
    if (set.host === host) return error(res, 409, 'CONFLICT', `set ${set.appkey}/${set.id} is already on host ${host}`);
    if (set.status !== 'stopped') return error(res, 409, 'CONFLICT', `set ${set.appkey}/${set.id} is ${set.status} on host ${set.host ?? '<none>'}; stop it first: wharf stop set ${set.appkey}/${set.id} --wait`);
    if (fake.moveBehaviour !== 'normal') {
      const key = `${set.tenant}/${set.appkey}/${set.id}`;
      if (fake.moveBehaviour === 'drop-and-fail') {
        events.set(key, [...(events.get(key) ?? []), { time: new Date().toISOString(), type: 'Warning', reason: 'MoveFailed', message: `move to host ${host} failed: checksums differ` }]);
      } else {
        set.host = host;
      }
      res.socket?.destroy();
      return;
    }
    set.host = host;
    set.desired = 'running';
    set.status = 'starting';
    return send(res, 200, set);
  }

  const topSets: SetTop[] = [];
  const topHosts: HostTop[] = [];

  function metricsRoute(res: ServerResponse, tenant: string, url: URL, what: string | undefined): void {
    if (what === 'hosts') return send(res, 200, topHosts);
    if (what !== 'sets') return error(res, 404, 'NOT_FOUND', `no route GET ${url.pathname}`);
    const appkey = url.searchParams.get('appkey');
    const sort = url.searchParams.get('sort') ?? 'cpu';
    const by = (s: SetTop) => (sort === 'memory' ? s.set.memory : sort === 'net' ? (s.set.rxBytes ?? 0) + (s.set.txBytes ?? 0) : s.set.cpu);
    const rows = topSets.filter((s) => s.tenant === tenant && (!appkey || s.appkey === appkey)).sort((a, b) => by(b) - by(a));
    return send(res, 200, rows.slice(0, Number(url.searchParams.get('limit') ?? rows.length)));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const [v1, resource, appkey, id, sub] = parts;
      const tenant = url.searchParams.get('tenant') ?? 'default';
      if (v1 !== 'v1') return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
      if (resource === 'version') return send(res, 200, { version: '0.1.0-fake', revision: 7 });
      if (resource === 'networks') return networkRoute(req, res, appkey, body);
      if (resource === 'hosts') return hostRoute(req, res, appkey, body);
      if (resource === 'policies') return policyRoute(req, res, tenant, url, appkey, id, body);
      if (resource === 'volumes') return volumeRoute(req, res, tenant, url, parts, body);
      if (resource === 'trash') return trashRoute(req, res, tenant, url, parts, body);
      if (resource === 'metrics') return metricsRoute(res, tenant, url, appkey);
      if (resource !== 'sets') return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
      if (appkey === undefined) {
        const want = url.searchParams.get('appkey');
        return send(res, 200, [...sets.values()].filter((s) => s.tenant === tenant && (!want || s.appkey === want)));
      }
      const key = `${tenant}/${appkey}/${id}`;
      const existing = sets.get(key);
      if (req.method === 'PUT' && !sub) {
        const spec = JSON.parse(body) as SetSpec;
        const errors = spec.containers.flatMap((c, i) =>
          c.options.cpu !== undefined && (c.options.cpu < 1 || c.options.cpu > 100) ? [{ path: `containers[${i}].options.cpu`, message: 'must be 1..100' }] : [],
        );
        if (!spec.containers.some((c) => c.image)) errors.push({ path: 'containers[0].image', message: 'must not be empty' });
        if (errors.length > 0) return validation(res, errors);
        if (existing) {
          existing.spec = spec;
          existing.generation++;
          return send(res, 200, existing);
        }
        const view = viewOf(spec, tenant, new Date().toISOString());
        const ipErrors = allocate(view);
        if (ipErrors.length > 0) return validation(res, ipErrors);
        sets.set(key, view);
        return send(res, 201, view);
      }
      if (!existing) return error(res, 404, 'SET_NOT_FOUND', `set ${appkey}/${id} not found`);
      if (req.method === 'GET' && !sub) {
        if (existing.status === 'deleting' && existing.containers.length === 0) {
          sets.delete(key);
          release(existing);
          return error(res, 404, 'SET_NOT_FOUND', `set ${appkey}/${id} not found`);
        }
        const answer = structuredClone(existing);
        step(existing);
        return send(res, 200, answer);
      }
      if (req.method === 'DELETE' && !sub) {
        existing.status = 'deleting';
        return send(res, 202, existing);
      }
      if (req.method === 'POST' && sub === 'move') return move(res, existing, body);
      if (req.method === 'POST' && sub === 'resize') {
        const r = fakeResize(existing, JSON.parse(body) as ResizeRequest);
        return send(res, r.status, r.body);
      }
      if (req.method === 'GET' && sub === 'events') return send(res, 200, events.get(key) ?? []);
      if (req.method === 'GET' && sub === 'logs') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`log of ${url.searchParams.get('container')}\nline 2\n`);
        return;
      }
      return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
    })().catch((err: unknown) => error(res, 500, 'INTERNAL', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sets,
    networks,
    allocations,
    hosts,
    policies,
    requests,
    volumes,
    get trash() {
      return fake.trash;
    },
    set trash(v: TrashEntry[]) {
      fake.trash = v;
    },
    get unreachableHosts() {
      return fake.unreachableHosts;
    },
    set unreachableHosts(v: string[]) {
      fake.unreachableHosts = v;
    },
    events,
    get moveBehaviour() {
      return fake.moveBehaviour;
    },
    set moveBehaviour(v: FakeServer['moveBehaviour']) {
      fake.moveBehaviour = v;
    },
    get exportData() {
      return fake.exportData;
    },
    set exportData(v: Buffer) {
      fake.exportData = v;
    },
    topSets,
    topHosts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
