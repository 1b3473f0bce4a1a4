import { Type } from '@sinclair/typebox';
import { WHARF_VERSION } from '@wharf/types';
import type { App, ApiContext } from './context.js';

export function metaRoutes(app: App, ctx: ApiContext): void {
  app.get('/v1/health', {
    config: { access: 'public' },
    schema: { tags: ['meta'], summary: 'Liveness of the server', response: { 200: Type.Object({ status: Type.String(), version: Type.String() }) } },
  }, async () => ({ status: 'ok', version: WHARF_VERSION }));

  app.get('/v1/version', {
    schema: { tags: ['meta'], summary: 'Server version and store revision', response: { 200: Type.Object({ version: Type.String(), revision: Type.Integer() }) } },
  }, async () => ({ version: WHARF_VERSION, revision: await ctx.store.revision() }));

  app.get('/v1/leader', {
    config: { access: 'user' },
    schema: {
      tags: ['meta'],
      summary: 'Which server runs the controllers',
      description: 'Every server serves the API; the one elected through the store (a lease on etcd) runs the scheduler and the controllers.',
      response: { 200: Type.Object({ server: Type.String(), leading: Type.Boolean(), leader: Type.Optional(Type.String()), since: Type.Optional(Type.String()) }) },
    },
  }, async () => (ctx.leaderStatus ? ctx.leaderStatus() : { server: 'this server', leading: true }));

  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
