import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_TENANT, EXEC_WS_PROTOCOL, WS_BEARER_PREFIX, WharfError } from '@wharf/types';
import type { Store } from '@wharf/store';
import { principalOf, requireTenant, type Principal } from './principal.js';
import { hostPrincipal, peerHost } from '../tls/peer.js';

/**
 * Who may call a route:
 * - `public`: anyone, no token;
 * - `admin`: platform admins (the admin token, users with the platform-admin flag);
 * - `agent`: the hosts' join token, a host certificate (on the agents' TLS listener; only
 *   for its own host where the path names one, `:name`), and platform admins;
 * - `user`: any user or admin token (the route decides what each may see);
 * - `tenant`: members of the route's tenant (`:tenant` in the path, else `?tenant=`, else
 *   the default tenant): viewers for GET, developers for changes; platform admins too;
 * - `tenant-admin`: the tenant's admins (and platform admins).
 */
export type AccessLevel = 'public' | 'admin' | 'agent' | 'user' | 'tenant' | 'tenant-admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Default `admin`. */
    access?: AccessLevel;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The subprotocols a WebSocket upgrade offers (`Sec-WebSocket-Protocol`, comma-separated). */
function offeredProtocols(req: FastifyRequest): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : h ?? '').split(',').map((p) => p.trim()).filter(Boolean);
}

/**
 * The caller's token: `Authorization: Bearer <token>`, else, on a WebSocket upgrade
 * (browsers cannot set that header), the `wharf.bearer.<token>` subprotocol.
 */
function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h) return /^Bearer\s+(\S+)$/i.exec(h)?.[1];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
  const offered = offeredProtocols(req).find((p) => p.startsWith(WS_BEARER_PREFIX));
  return offered ? offered.slice(WS_BEARER_PREFIX.length) || undefined : undefined;
}

/**
 * The subprotocol a WebSocket answers with (ws's `handleProtocols`): `wharf.exec` when
 * offered, else none. Never the bearer entry, so the token is not echoed back.
 */
export function pickWsProtocol(protocols: Set<string>): string | false {
  return protocols.has(EXEC_WS_PROTOCOL) ? EXEC_WS_PROTOCOL : false;
}

/** The tenant a tenant-scoped route acts on, as the route itself will read it. */
export function routeTenant(req: FastifyRequest): string {
  const fromPath = (req.params as { tenant?: unknown } | undefined)?.tenant;
  const fromQuery = (req.query as { tenant?: unknown } | undefined)?.tenant;
  const t = typeof fromPath === 'string' ? fromPath : typeof fromQuery === 'string' ? fromQuery : undefined;
  return t ?? DEFAULT_TENANT;
}

/** The caller of a route that is not public (set by the auth hook). */
export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw new WharfError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)');
  return req.principal;
}

/** A host certificate acts only for its own host: 403 for a path naming another. */
function requireOwnHost(who: Principal, req: FastifyRequest): void {
  const named = (req.params as { name?: unknown } | undefined)?.name;
  if (who.host !== undefined && typeof named === 'string' && named !== who.host) {
    throw new WharfError('FORBIDDEN', `the certificate of host ${who.host} cannot act for host ${named}`);
  }
}

/** Every route requires a token unless it declares `config: { access: 'public' }`. */
export function installAuth(app: FastifyInstance, store: Store): void {
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access ?? 'admin';
    if (!req.routeOptions.url) return;
    // Public routes that show more to a caller they know (the image catalog) read its credentials themselves.
    if (access === 'public') return;
    const peer = peerHost(req.raw);
    const token = peer ? undefined : bearer(req);
    if (!peer && !token) throw new WharfError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)');
    const who = peer ? await hostPrincipal(store, peer) : await principalOf(store, token as string);
    if (!who) throw new WharfError('UNAUTHORIZED', 'the token is not valid (unknown, expired or revoked)');
    req.principal = who;
    switch (access) {
      case 'admin':
        if (!who.platformAdmin) throw new WharfError('FORBIDDEN', 'this needs a platform admin');
        return;
      case 'agent':
        if (who.kind !== 'agent' && !who.platformAdmin) throw new WharfError('FORBIDDEN', 'this is for hosts (the join token) and platform admins');
        requireOwnHost(who, req);
        return;
      case 'user':
        if (who.kind === 'agent') throw new WharfError('FORBIDDEN', 'the join token is for hosts only');
        return;
      case 'tenant':
      case 'tenant-admin':
        if (who.kind === 'agent') throw new WharfError('FORBIDDEN', 'the join token is for hosts only');
        requireTenant(who, routeTenant(req), access === 'tenant-admin' ? 'admin' : req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
        return;
    }
  });
}
