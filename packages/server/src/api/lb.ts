/**
 * An app's load balancer as HAProxy reports it: the frontend from the app's spec,
 * the backend slots with their address and state (`show servers state`), and the
 * set each slot serves.
 */
import { LbView, WharfError } from '@wharf/types';
import { getApp } from '../state/apps.js';
import type { App, ApiContext } from './context.js';
import { AppParams } from './apps.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

export function lbRoutes(app: App, { store, lb }: ApiContext): void {
  app.get('/v1/apps/:appkey/lb', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: "The app's load balancer: its frontend and backend slots as HAProxy reports them",
      description: '404 APP_NOT_FOUND when there is no such app, LB_NOT_FOUND when the app has no `lb`.',
      params: AppParams,
      querystring: TenantQuery,
      response: { 200: LbView, ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const { appkey } = req.params;
    const spec = (await getApp(store, tenant, appkey)).value.spec;
    if (!spec.lb) throw new WharfError('LB_NOT_FOUND', `app ${appkey} has no load balancer (add lb: { port, targetPort } to its spec)`, { appkey });
    const seen = await lb?.describe(tenant, appkey);
    return { appkey, frontend: spec.lb, backend: seen?.backend ?? '', running: seen !== undefined, slots: seen?.slots ?? [] };
  });
}
