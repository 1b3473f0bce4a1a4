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

  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
