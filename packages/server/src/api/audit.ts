/** `GET /v1/audit`: the changes made through the API, for those who may see them. */
import { Type } from '@sinclair/typebox';
import { AuditQuery, AuditRecord } from '@wharf/types';
import { principal } from '../auth/hook.js';
import type { App, RouteContext } from './context.js';
import { errors } from './schemas.js';

export function auditRoutes(app: App, { audit }: RouteContext): void {
  app.get('/v1/audit', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: 'The audit log: who changed what, when, from where, and the outcome',
      description: 'Platform admins see every record; tenant admins those of their tenants; everyone their own. Oldest first, the newest `limit` (default 500).',
      querystring: AuditQuery,
      response: { 200: Type.Array(AuditRecord), ...errors(400, 401) },
    },
  }, async (req) => {
    const who = principal(req);
    return audit.query(req.query, (r) =>
      who.platformAdmin
      || (r.tenant !== undefined && who.roles[r.tenant] === 'tenant-admin')
      || (who.kind === 'user' && r.actorKind === 'user' && r.actor === who.name));
  });
}
