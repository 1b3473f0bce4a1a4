/** `GET|PUT /v1/quotas/{tenant}`: a tenant's quota limits and what it uses. */
import { Type } from '@sinclair/typebox';
import { QuotaSpec, QuotaView, TENANT_PATTERN, WharfError } from '@wharf/types';
import { getTenant } from '../state/identity.js';
import { Keys } from '../state/keys.js';
import { quotaLimits, quotaView } from '../state/quotas.js';
import type { App, ApiContext } from './context.js';
import { errors } from './schemas.js';

const TenantParams = Type.Object({ tenant: Type.String({ pattern: TENANT_PATTERN }) });

export function quotaRoutes(app: App, { store }: ApiContext): void {
  app.get('/v1/quotas/:tenant', {
    config: { access: 'tenant' },
    schema: { tags: ['identity'], summary: "A tenant's quota: its limits and what it uses", params: TenantParams, response: { 200: QuotaView, ...errors(401, 404) } },
  }, async (req) => quotaView(store, req.params.tenant));

  app.put('/v1/quotas/:tenant', {
    schema: {
      tags: ['identity'],
      summary: "Set a tenant's quota (platform admins)",
      description: 'The body replaces the limits: CPU (cores), memory and disk (bytes or quantities like 16Gi), sets, IPs, LB ports; a resource left out is unlimited, `{}` lifts every limit. '
        + 'Usage above a new limit stays; only what would add to it is refused (403 QUOTA_EXCEEDED naming the resource, what is used, what is asked and the limit).',
      params: TenantParams,
      body: QuotaSpec,
      response: { 200: QuotaView, ...errors(400, 401, 403, 404) },
    },
  }, async (req) => {
    if (!(await getTenant(store, req.params.tenant))) throw new WharfError('TENANT_NOT_FOUND', `no tenant "${req.params.tenant}"`);
    await store.put(Keys.quota(req.params.tenant), quotaLimits(req.body));
    return quotaView(store, req.params.tenant);
  });
}
