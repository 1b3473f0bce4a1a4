/**
 * The "before" of an audited change: what the object the route changes looked like
 * when the request came in, read from the store before the handler runs and kept
 * short (the fields people compare, secrets masked, cut at 1 KiB). The "after" is the
 * request itself (`request` in the record) and the object as it is now.
 *
 *   preHandler (changes only) ─▶ objectKey(route, params) ─▶ store.get ─▶ summary ─▶ req.auditBefore
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '@wharf/store';
import type { AppObject, SetObject } from '@wharf/types';
import { routeTenant } from '../auth/hook.js';
import { Keys } from '../state/keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The changed object before the change (see audit/before.ts). */
    auditBefore?: string;
  }
}

type Params = Record<string, string | undefined>;

/** Route prefixes (as Fastify names them) → the store key of the object they change. */
const OBJECTS: [prefix: string, key: (p: Params, tenant: string) => string | undefined][] = [
  ['/v1/sets/:appkey/:id', (p, t) => (p.appkey && p.id ? Keys.set(t, p.appkey, p.id) : undefined)],
  ['/v1/apps/:appkey', (p, t) => (p.appkey ? Keys.app(t, p.appkey) : undefined)],
  ['/v1/quotas/:tenant', (p) => (p.tenant ? Keys.quota(p.tenant) : undefined)],
  ['/v1/tenants/:tenant', (p) => (p.tenant ? Keys.tenant(p.tenant) : undefined)],
  ['/v1/users/:name', (p) => (p.name ? Keys.user(p.name) : undefined)],
  ['/v1/hosts/:name', (p) => (p.name ? Keys.host(p.name) : undefined)],
  ['/v1/networks/:name', (p) => (p.name ? Keys.network(p.name) : undefined)],
  ['/v1/policies/:appkey/:name', (p, t) => (p.appkey && p.name ? Keys.policy(t, p.appkey, p.name) : undefined)],
];

const MAX_CHARS = 1024;
const SECRETS = /^(password|passwordHash|hash|token|secret)$/i;

/** The store key of the object a change route acts on, if it names one. */
export function objectKey(route: string, params: Params, tenant: string): string | undefined {
  for (const [prefix, key] of OBJECTS) if (route === prefix || route.startsWith(`${prefix}/`)) return key(params, tenant);
  return undefined;
}

/** The fields of a set or an app people compare; anything else as stored. */
function summaryOf(key: string, value: unknown): unknown {
  if (key.startsWith('/sets/')) {
    const s = value as SetObject;
    return {
      generation: s.generation, desired: s.desired, host: s.host, resources: s.spec.resources,
      containers: s.spec.containers.map((c) => `${c.options.name}=${c.image}`),
      ...(s.draining ? { draining: s.draining } : {}), ...(s.standby ? { standby: true } : {}), ...(s.deleting ? { deleting: true } : {}),
    };
  }
  if (key.startsWith('/apps/')) {
    const a = value as AppObject;
    return {
      generation: a.generation, replicas: a.spec.replicas, ...(a.spec.warmPool ? { warmPool: a.spec.warmPool } : {}),
      resources: a.spec.template.resources, containers: a.spec.template.containers.map((c) => `${c.options.name}=${c.image}`),
      ...(a.spec.autoscale ? { autoscale: { min: a.spec.autoscale.min, max: a.spec.autoscale.max } } : {}),
    };
  }
  return value;
}

/** The object as it is before the change, summarised; undefined when the route names none or it does not exist. */
export async function beforeSummary(store: Store, req: FastifyRequest): Promise<string | undefined> {
  const route = req.routeOptions.url;
  if (!route) return undefined;
  const key = objectKey(route, (req.params ?? {}) as Params, routeTenant(req));
  if (!key) return undefined;
  const kv = await store.get(key);
  if (!kv) return undefined;
  const text = JSON.stringify(summaryOf(key, kv.value), (k, v) => (SECRETS.test(k) && v !== undefined ? '***' : v));
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
}
