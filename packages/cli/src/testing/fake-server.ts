/**
 * A tiny stand-in for wharf-server, for the CLI's end-to-end tests: just the
 * routes the CLI uses, with a pretend agent that moves a set one step towards
 * running (or towards gone) on every GET of it, a pretend IPAM that gives sets
 * addresses of the networks, hosts with settings, and network policies. Sets and
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
  type SetSpec,
  type SetView,
} from '@wharf/types';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  body: string;
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
    v.host = 'h1';
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
      })),
    ];
  } else if (v.status === 'starting') {
    v.status = 'running';
    for (const c of v.containers) c.state = 'running';
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
      if (req.method === 'GET' && sub === 'events') return send(res, 200, []);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
