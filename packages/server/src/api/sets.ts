import { admitQuota, setUsage, usageChange } from '../state/quotas.js';
import { isDeepStrictEqual } from 'node:util';
import { Type } from '@sinclair/typebox';
import {
  SetEvent,
  SetSpec,
  SetView,
  WharfError,
  resolveSetSpec,
  type SetObject,
  type SetStatus,
} from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys, setKeys } from '../state/keys.js';
import { isReady, type HostRecord } from '../state/hosts.js';
import { appendEvents, event, getSet, listSetViews, readEvents, setView, updateSet, type SetRef } from '../state/sets.js';
import type { App, ApiContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';
import { admitIps, releaseOps } from '../state/ipam.js';
import { admitSecurity } from '../state/security.js';

/** A set as the API serves it: with its status and whether its host is ready. */
export async function viewOf(store: Store, s: SetObject): Promise<SetView> {
  const k = setKeys(s);
  const [status, host] = await Promise.all([
    store.get<SetStatus>(k.status),
    s.host ? store.get<HostRecord>(Keys.host(s.host)) : Promise.resolve(undefined),
  ]);
  return setView(s, status?.value, host ? isReady(host.value) : undefined);
}

function refOf(params: { appkey: string; id: string }, query: { tenant?: string }): SetRef {
  return { tenant: tenantOf(query), appkey: params.appkey, id: params.id };
}

/** Creates the set or, when it exists, updates its spec (bumping the generation if it changed). */
async function applySet(store: Store, ref: SetRef, spec: SetSpec): Promise<{ created: boolean; set: SetObject }> {
  const key = Keys.set(ref.tenant, ref.appkey, ref.id);
  for (let attempt = 0; attempt < 20; attempt++) {
    const now = new Date().toISOString();
    const kv = await store.get<SetObject>(key);
    const what = `set ${ref.appkey}/${ref.id}`;
    if (!kv) {
      if (attempt === 0) await admitIps(store, ref, spec);
      const quota = await admitQuota(store, ref.tenant, (nets) => setUsage(spec, nets), what);
      const set: SetObject = { ...ref, spec, generation: 1, desired: 'running', createdAt: now, updatedAt: now };
      if ((await store.txn([{ key, absent: true }, ...quota.compares], [{ type: 'put', key, value: set }, ...quota.ops])).succeeded) return { created: true, set };
      continue;
    }
    if (kv.value.deleting) throw new WharfError('CONFLICT', `set ${ref.appkey}/${ref.id} is being deleted; apply it again once it is gone`);
    if (isDeepStrictEqual(kv.value.spec, spec)) return { created: false, set: kv.value };
    if (!isDeepStrictEqual(kv.value.spec.network, spec.network)) await admitIps(store, kv.value, spec);
    const quota = await admitQuota(store, ref.tenant, usageChange(kv.value.spec, spec), what);
    const set: SetObject = { ...kv.value, spec, generation: kv.value.generation + 1, updatedAt: now };
    if ((await store.txn([{ key, modRevision: kv.modRevision }, ...quota.compares], [{ type: 'put', key, value: set }, ...quota.ops])).succeeded) return { created: false, set };
  }
  throw new WharfError('CONFLICT', `set ${ref.appkey}/${ref.id} is changing too often; try again`);
}

export function setRoutes(app: App, { store }: ApiContext): void {
  app.put('/v1/sets/:appkey/:id', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'Create or update a set (apply)',
      description: 'The body is the set spec as JSON or YAML. Answers 201 when the set was created, 200 when it existed.',
      params: SetParams,
      querystring: TenantQuery,
      body: SetSpec,
      response: { 200: SetView, 201: SetView, ...errors(400, 401, 403, 409) },
    },
    // The body schema documents the spec; resolveSetSpec validates it and names fields the
    // way users write them. The params are two free strings, checked against the body below.
    validatorCompiler: () => () => true,
  }, async (req, reply) => {
    const result = resolveSetSpec(req.body, { admit: true });
    if (!result.ok) throw WharfError.validation(result.errors);
    const { appkey, id } = req.params;
    const specId = String(result.spec.id);
    if (result.spec.appkey !== appkey) throw WharfError.validation([{ path: 'appkey', message: `"${result.spec.appkey}" does not match the URL's "${appkey}"` }]);
    if (specId !== id) throw WharfError.validation([{ path: 'id', message: `"${specId}" does not match the URL's "${id}"` }]);
    const ref = refOf(req.params, req.query as { tenant?: string });
    await admitSecurity(store, ref.tenant, result.spec.containers);
    const { created, set } = await applySet(store, ref, result.spec);
    return reply.status(created ? 201 : 200).send(await viewOf(store, set));
  });

  app.get('/v1/sets', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'List sets',
      querystring: Type.Composite([TenantQuery, Type.Object({ appkey: Type.Optional(Type.String()) })]),
      response: { 200: Type.Array(SetView), ...errors(401) },
    },
  }, async (req) => {
    return listSetViews(store, Keys.tenantSets(tenantOf(req.query)) + (req.query.appkey ? `${req.query.appkey}/` : ''));
  });

  app.get('/v1/sets/:appkey/:id', {
    config: { access: 'tenant' },
    schema: { tags: ['sets'], summary: 'Get a set: desired and actual state', params: SetParams, querystring: TenantQuery, response: { 200: SetView, ...errors(401, 404) } },
  }, async (req) => viewOf(store, (await getSet(store, refOf(req.params, req.query))).value));

  app.get('/v1/sets/:appkey/:id/events', {
    config: { access: 'tenant' },
    schema: { tags: ['sets'], summary: 'Recent events of a set, oldest first', params: SetParams, querystring: TenantQuery, response: { 200: Type.Array(SetEvent), ...errors(401, 404) } },
  }, async (req) => {
    const ref = refOf(req.params, req.query);
    await getSet(store, ref);
    return readEvents(store, ref);
  });

  app.delete('/v1/sets/:appkey/:id', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'Delete a set',
      description: 'Marks the set for deletion; its host stops and removes the containers, then the set is gone (404).',
      params: SetParams,
      querystring: TenantQuery,
      response: { 202: SetView, ...errors(401, 404) },
    },
  }, async (req, reply) => {
    const ref = refOf(req.params, req.query);
    const set = await updateSet(store, ref, (s) => (s.deleting ? undefined : { ...s, deleting: true, updatedAt: new Date().toISOString() }));
    const view = await viewOf(store, set);
    if (!set.host) {
      // Never placed: nothing runs anywhere, forget it now.
      const k = setKeys(ref);
      await store.txn([], [{ type: 'delete', key: k.set }, { type: 'delete', key: k.status }, { type: 'delete', key: k.events }, ...releaseOps(set)]);
    } else {
      await appendEvents(store, ref, [event('Normal', 'Deleting', 'deletion requested')]);
    }
    return reply.status(202).send(view);
  });

  const actions = {
    start: { summary: 'Start a stopped set (containers in index order)', change: (s: SetObject) => (s.desired === 'running' ? undefined : { ...s, desired: 'running' as const }) },
    stop: { summary: 'Stop a set (containers in reverse index order)', change: (s: SetObject) => (s.desired === 'stopped' ? undefined : { ...s, desired: 'stopped' as const }) },
    restart: { summary: 'Restart every container of a set, in order', change: (s: SetObject) => ({ ...s, desired: 'running' as const, restartRequestedAt: new Date().toISOString() }) },
  };
  for (const [action, { summary, change }] of Object.entries(actions)) {
    app.post(`/v1/sets/:appkey/:id/${action}`, {
      config: { access: 'tenant' },
      schema: { tags: ['sets'], summary, params: SetParams, querystring: TenantQuery, response: { 200: SetView, ...errors(401, 404, 409) } },
    }, async (req) => {
      const ref = refOf(req.params as { appkey: string; id: string }, req.query as { tenant?: string });
      const set = await updateSet(store, ref, (s) => {
        if (s.deleting) throw new WharfError('CONFLICT', `set ${ref.appkey}/${ref.id} is being deleted`);
        const next = change(s);
        return next ? { ...next, updatedAt: new Date().toISOString() } : undefined;
      });
      await appendEvents(store, ref, [event('Normal', `${action[0]?.toUpperCase()}${action.slice(1)}Requested`, `${action} requested`)]);
      return viewOf(store, set);
    });
  }
}
