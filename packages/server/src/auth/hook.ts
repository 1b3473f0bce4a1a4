import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WharfError } from '@wharf/types';
import type { Store } from '@wharf/store';
import { lookupToken, type Role } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: `public` (no token), `admin`, or `agent` (join token; admin too). */
    access?: 'public' | Role;
  }
  interface FastifyRequest {
    role?: Role;
  }
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/** Every route requires a token unless it declares `config: { access: 'public' }`. */
export function installAuth(app: FastifyInstance, store: Store): void {
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access ?? 'admin';
    if (access === 'public' || !req.routeOptions.url) return;
    const token = bearer(req);
    if (!token) throw new WharfError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)');
    const rec = await lookupToken(store, token);
    if (!rec) throw new WharfError('UNAUTHORIZED', 'the token is not valid');
    if (access === 'admin' && rec.role !== 'admin') throw new WharfError('FORBIDDEN', `this route needs an admin token, not an ${rec.role} token`);
    req.role = rec.role;
  });
}
