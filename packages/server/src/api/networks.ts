import { isDeepStrictEqual } from 'node:util';
import { Type } from '@sinclair/typebox';
import {
  NetworkSpec,
  NetworkView,
  WharfError,
  formatIpv4,
  networkRange,
  rangeSize,
  validateNetworkSpec,
  type IpAllocation,
  type NetworkObject,
} from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys } from '../state/keys.js';
import { listHostRecords, reachableNetworks } from '../state/hosts.js';
import { describeHolder, listNetworks, listUsedIps } from '../state/ipam.js';
import type { App, ApiContext } from './context.js';
import { errors } from './schemas.js';

const NameParams = Type.Object({ name: Type.String({ description: 'Network name' }) });

function byAddress(a: IpAllocation, b: IpAllocation): number {
  const n = (x: IpAllocation) => x.ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  return n(a) - n(b);
}

async function views(store: Store, only?: string): Promise<NetworkView[]> {
  const [networks, used, hosts] = await Promise.all([listNetworks(store), listUsedIps(store, only), listHostRecords(store)]);
  const byName = new Map(networks.map((n) => [n.name, n]));
  return networks
    .filter((n) => !only || n.name === only)
    .map((n) => {
      const range = networkRange(n);
      const allocations = [...(used.get(n.name)?.values() ?? [])].sort(byAddress);
      const size = rangeSize(n);
      // Fixed addresses outside the range are held too, but do not use up the range.
      const inRange = allocations.filter((a) => {
        const x = a.ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
        return range !== undefined && x >= range.start && x <= range.end;
      }).length;
      return {
        ...n,
        rangeStart: range ? formatIpv4(range.start) : '',
        rangeEnd: range ? formatIpv4(range.end) : '',
        size,
        used: allocations.length,
        free: Math.max(0, size - inRange),
        hosts: hosts.filter((h) => reachableNetworks(h, byName).some((x) => x.name === n.name)).map((h) => h.name).sort(),
        ...(only ? { allocations } : {}),
      };
    });
}

async function viewOne(store: Store, name: string): Promise<NetworkView> {
  const [view] = await views(store, name);
  if (!view) throw new WharfError('NETWORK_NOT_FOUND', `network ${name} not found`, { network: name });
  return view;
}

export function networkRoutes(app: App, { store }: ApiContext): void {
  app.put('/v1/networks/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['networks'],
      summary: 'Create a platform network (IP pool)',
      description: 'Answers 201 when created, 200 when the same network already exists, 409 when a different one does.',
      params: NameParams,
      body: NetworkSpec,
      response: { 200: NetworkView, 201: NetworkView, ...errors(400, 401, 409) },
    },
  }, async (req, reply) => {
    const spec = req.body;
    if (spec.name !== req.params.name) throw WharfError.validation([{ path: 'name', message: `"${spec.name}" does not match the URL's "${req.params.name}"` }]);
    const problems = validateNetworkSpec(spec);
    if (problems.length > 0) throw WharfError.validation(problems);
    const key = Keys.network(spec.name);
    for (let attempt = 0; attempt < 10; attempt++) {
      const [existing, all] = await Promise.all([store.get<NetworkObject & { deleting?: boolean }>(key), listNetworks(store)]);
      if (existing?.value.deleting) throw new WharfError('CONFLICT', `network ${spec.name} is being removed; try again`);
      if (existing) {
        const { createdAt: _c, deleting: _d, ...was } = existing.value;
        if (isDeepStrictEqual(was, spec)) return reply.status(200).send(await viewOne(store, spec.name));
        throw new WharfError('CONFLICT', `network ${spec.name} exists with another definition; remove it first (wharf network rm ${spec.name})`, { network: spec.name });
      }
      const otherDefault = all.find((n) => n.default && n.name !== spec.name);
      if (spec.default && otherDefault) throw new WharfError('CONFLICT', `network ${otherDefault.name} is already the default network`, { network: otherDefault.name });
      const value: NetworkObject = { ...spec, createdAt: new Date().toISOString() };
      if ((await store.txn([{ key, absent: true }], [{ type: 'put', key, value }])).succeeded) {
        req.log.info({ network: spec.name, subnet: spec.subnet }, 'network created');
        return reply.status(201).send(await viewOne(store, spec.name));
      }
    }
    throw new WharfError('CONFLICT', `network ${spec.name} is being created concurrently`);
  });

  app.get('/v1/networks', {
    schema: { tags: ['networks'], summary: 'List platform networks with used and free addresses', response: { 200: Type.Array(NetworkView), ...errors(401) } },
  }, async () => views(store));

  app.get('/v1/networks/:name', {
    schema: { tags: ['networks'], summary: 'Get a network and every address in use', params: NameParams, response: { 200: NetworkView, ...errors(401, 404) } },
  }, async (req) => viewOne(store, req.params.name));

  app.delete('/v1/networks/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['networks'],
      summary: 'Remove a network',
      description: 'Refused (409 NETWORK_IN_USE) while any set holds an address of it.',
      params: NameParams,
      response: { 204: Type.Null(), ...errors(401, 404, 409) },
    },
  }, async (req, reply) => {
    const { name } = req.params;
    const key = Keys.network(name);
    const kv = await store.get<NetworkObject & { deleting?: boolean }>(key);
    if (!kv || kv.value.deleting) throw new WharfError('NETWORK_NOT_FOUND', `network ${name} not found`, { network: name });
    const prefix = `${Keys.ipamPrefix}${name}/`;
    const held = await store.list<IpAllocation>(prefix);
    if (held.items.length > 0) {
      const allocations = held.items.map((x) => x.value).sort(byAddress);
      const shown = allocations.slice(0, 10).map(describeHolder).join(', ');
      const more = allocations.length > 10 ? ` and ${allocations.length - 10} more` : '';
      throw new WharfError('NETWORK_IN_USE', `network ${name} has ${allocations.length} IP(s) in use: ${shown}${more}; delete those sets first`, { network: name, allocations });
    }
    // Two steps: mark it (every claim compares the network's revision, so none lands after this),
    // then delete it if nothing was claimed before the mark; else unmark it.
    const marked = await store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'put', key, value: { ...kv.value, deleting: true } }]);
    if (!marked.succeeded) throw new WharfError('CONFLICT', `network ${name} changed meanwhile; try again`);
    const late = await store.list<IpAllocation>(prefix);
    if (late.items.length > 0) {
      await store.txn([{ key, modRevision: marked.revision }], [{ type: 'put', key, value: kv.value }]);
      throw new WharfError('NETWORK_IN_USE', `network ${name} got an IP claimed while being removed; try again`, { network: name, allocations: late.items.map((x) => x.value) });
    }
    await store.txn([{ key, modRevision: marked.revision }], [{ type: 'delete', key }]);
    req.log.info({ network: name }, 'network removed');
    return reply.status(204).send(null);
  });
}
