import { isDeepStrictEqual } from 'node:util';
import { Type } from '@sinclair/typebox';
import { NetworkPolicy, NetworkPolicySpec, WharfError } from '@wharf/types';
import { Keys } from '../state/keys.js';
import type { App, ApiContext } from './context.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

const PolicyParams = Type.Object({ appkey: Type.String(), name: Type.String() });

export function policyRoutes(app: App, { store }: ApiContext): void {
  app.put('/v1/policies/:appkey/:name', {
    config: { access: 'tenant' },
    schema: {
      tags: ['policies'],
      summary: "Create or replace a network policy: extra traffic an app's sets accept",
      description: "By default a set accepts traffic only from its own tenant's sets. Answers 201 when created, 200 when replaced or unchanged.",
      params: PolicyParams,
      querystring: TenantQuery,
      body: NetworkPolicySpec,
      response: { 200: NetworkPolicy, 201: NetworkPolicy, ...errors(400, 401) },
    },
  }, async (req, reply) => {
    const spec = req.body;
    const tenant = tenantOf(req.query);
    if (spec.appkey !== req.params.appkey) throw WharfError.validation([{ path: 'appkey', message: `"${spec.appkey}" does not match the URL's "${req.params.appkey}"` }]);
    if (spec.name !== req.params.name) throw WharfError.validation([{ path: 'name', message: `"${spec.name}" does not match the URL's "${req.params.name}"` }]);
    spec.ingress.forEach((rule, i) => rule.from.forEach((peer, j) => {
      const kinds = [peer.app, peer.cidr].filter((x) => x !== undefined).length;
      if (kinds !== 1) throw WharfError.validation([{ path: `ingress[${i}].from[${j}]`, message: 'give exactly one of app or cidr' }]);
      if (peer.tenant && !peer.app) throw WharfError.validation([{ path: `ingress[${i}].from[${j}].tenant`, message: 'only goes with app' }]);
    }));
    const key = Keys.policy(tenant, spec.appkey, spec.name);
    for (let attempt = 0; attempt < 10; attempt++) {
      const kv = await store.get<NetworkPolicy>(key);
      const now = new Date().toISOString();
      if (kv && isDeepStrictEqual({ ...kv.value, createdAt: '', updatedAt: '' }, { ...spec, tenant, createdAt: '', updatedAt: '' })) return reply.status(200).send(kv.value);
      const value: NetworkPolicy = { ...spec, tenant, createdAt: kv?.value.createdAt ?? now, updatedAt: now };
      const cmp = kv ? { key, modRevision: kv.modRevision } : { key, absent: true as const };
      if ((await store.txn([cmp], [{ type: 'put', key, value }])).succeeded) return reply.status(kv ? 200 : 201).send(value);
    }
    throw new WharfError('CONFLICT', `policy ${spec.appkey}/${spec.name} is changing too often; try again`);
  });

  app.get('/v1/policies', {
    config: { access: 'tenant' },
    schema: {
      tags: ['policies'],
      summary: 'List network policies',
      querystring: Type.Composite([TenantQuery, Type.Object({ appkey: Type.Optional(Type.String()) })]),
      response: { 200: Type.Array(NetworkPolicy), ...errors(401) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const prefix = `${Keys.policiesPrefix}${tenant}/${req.query.appkey ? `${req.query.appkey}/` : ''}`;
    return (await store.list<NetworkPolicy>(prefix)).items.map((kv) => kv.value);
  });

  app.get('/v1/policies/:appkey/:name', {
    config: { access: 'tenant' },
    schema: { tags: ['policies'], summary: 'Get a network policy', params: PolicyParams, querystring: TenantQuery, response: { 200: NetworkPolicy, ...errors(401, 404) } },
  }, async (req) => {
    const kv = await store.get<NetworkPolicy>(Keys.policy(tenantOf(req.query), req.params.appkey, req.params.name));
    if (!kv) throw new WharfError('POLICY_NOT_FOUND', `policy ${req.params.appkey}/${req.params.name} not found`);
    return kv.value;
  });

  app.delete('/v1/policies/:appkey/:name', {
    config: { access: 'tenant' },
    schema: { tags: ['policies'], summary: 'Delete a network policy', params: PolicyParams, querystring: TenantQuery, response: { 204: Type.Null(), ...errors(401, 404) } },
  }, async (req, reply) => {
    const key = Keys.policy(tenantOf(req.query), req.params.appkey, req.params.name);
    const kv = await store.get(key);
    if (!kv) throw new WharfError('POLICY_NOT_FOUND', `policy ${req.params.appkey}/${req.params.name} not found`);
    await store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'delete', key }]);
    return reply.status(204).send(null);
  });
}
