/**
 * Apps: a set template kept at a replica count. The routes only write the app;
 * controllers/apps.ts creates, drains and deletes its sets.
 */
import { Type } from '@sinclair/typebox';
import { AppEvent, AppSpec, AppView, ScaleRequest, WharfError, resolveAppSpec, type AppObject } from '@wharf/types';
import { applyApp, deleteApp, getApp, listApps, loadMembers, appView, readAppEvents, scaleApp, viewApp } from '../state/apps.js';
import { admitAppScale, admitQuota, NOTHING } from '../state/quotas.js';
import { Keys } from '../state/keys.js';
import { admitSecurity } from '../state/security.js';
import type { App, ApiContext } from './context.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

export const AppParams = Type.Object({ appkey: Type.String({ description: 'The app (the appkey of its sets)' }) });

export function appRoutes(app: App, { store }: ApiContext): void {
  app.put('/v1/apps/:appkey', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: 'Create or update an app',
      description:
        'The body is the app spec as JSON or YAML: appkey, template (a set spec without id and appkey), replicas, scaleIn, update. ' +
        'Answers 201 when the app was created, 200 when it existed. With `If-None-Match: *` an existing app is 409 APP_EXISTS. ' +
        'Existing sets keep their spec when the template changes (use rollouts or resize); new sets get the new template.',
      params: AppParams,
      querystring: TenantQuery,
      body: AppSpec,
      response: { 200: AppView, 201: AppView, ...errors(400, 401, 403, 409) },
    },
    // resolveAppSpec validates and names fields as written (`template.containers[0].image`).
    validatorCompiler: () => () => true,
  }, async (req, reply) => {
    const tenant = tenantOf(req.query as { tenant?: string });
    const result = resolveAppSpec(req.body);
    if (!result.ok) throw WharfError.validation(result.errors);
    const { appkey } = req.params as { appkey: string };
    if (result.spec.appkey !== appkey) throw WharfError.validation([{ path: 'appkey', message: `"${result.spec.appkey}" does not match the URL's "${appkey}"` }]);
    await admitSecurity(store, tenant, result.spec.template.containers, 'template.');
    const createOnly = req.headers['if-none-match'] === '*';
    if (result.spec.lb) {
      const existing = await store.get<AppObject>(Keys.app(tenant, appkey));
      if (!existing?.value.spec.lb) await admitQuota(store, tenant, () => ({ ...NOTHING, lbPorts: 1 }), `app ${appkey}'s load balancer`);
    }
    const { created, app: stored } = await applyApp(store, tenant, result.spec, { createOnly });
    return reply.status(created ? 201 : 200).send(await viewApp(store, stored));
  });

  app.get('/v1/apps', {
    config: { access: 'tenant' },
    schema: { tags: ['apps'], summary: 'List the apps of the tenant', querystring: TenantQuery, response: { 200: Type.Array(AppView), ...errors(401) } },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const apps = await listApps(store, tenant);
    return Promise.all(apps.map(async (kv) => appView(kv.value, await loadMembers(store, tenant, kv.value.appkey))));
  });

  app.get('/v1/apps/:appkey', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: 'Get an app: its spec, replicas wanted and ready, and its sets',
      params: AppParams,
      querystring: TenantQuery,
      response: { 200: AppView, ...errors(401, 404) },
    },
  }, async (req) => viewApp(store, (await getApp(store, tenantOf(req.query), req.params.appkey)).value));

  app.get('/v1/apps/:appkey/events', {
    config: { access: 'tenant' },
    schema: { tags: ['apps'], summary: 'Recent events of an app (scaling), oldest first', params: AppParams, querystring: TenantQuery, response: { 200: Type.Array(AppEvent), ...errors(401, 404) } },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    await getApp(store, tenant, req.params.appkey);
    return readAppEvents(store, tenant, req.params.appkey);
  });

  app.post('/v1/apps/:appkey/scale', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: 'Set the number of sets of an app',
      description:
        'Answers at once; the apps controller creates the missing sets, or drains the sets the scale-in policy picks ' +
        '(out of the endpoints at once, deleted after drainSeconds). Sets of the warm pool are resumed before any is created. ' +
        'Concurrent requests: the last one wins.',
      params: AppParams,
      querystring: TenantQuery,
      body: ScaleRequest,
      response: { 200: AppView, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    await admitAppScale(store, (await getApp(store, tenant, req.params.appkey)).value, req.body.replicas);
    const scaled = await scaleApp(store, tenant, req.params.appkey, req.body.replicas, new Date(), req.body.warmPool);
    return viewApp(store, scaled);
  });

  app.delete('/v1/apps/:appkey', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: 'Delete an app and its sets',
      description: 'Marks the app deleting and every set of it for deletion; once the hosts have removed the containers, the app is gone (404).',
      params: AppParams,
      querystring: TenantQuery,
      response: { 202: AppView, ...errors(401, 404) },
    },
  }, async (req, reply) => {
    const deleting = await deleteApp(store, tenantOf(req.query), req.params.appkey);
    return reply.status(202).send(await viewApp(store, deleting));
  });
}
