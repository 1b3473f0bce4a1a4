/**
 * The audit log: every change made through the API (each PUT, POST, PATCH and DELETE
 * but the hosts' agent protocol), logins included, written to the store after the
 * answer under `/audit/<time>-<random>` so keys sort by time on any number of servers.
 * Records older than the retention are pruned every ten minutes.
 *
 *   onResponse ─▶ auditRecord(req, reply) ─▶ store.put(/audit/…)      (not awaited by the client)
 *   GET /v1/audit ─▶ list /audit/ ─▶ filter (who may see which tenant, since, user, object)
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import type { AuditQuery, AuditRecord } from '@wharf/types';
import { routeTenant } from '../auth/hook.js';
import { answeredErrorCode } from '../errors.js';
import type { Principal } from '../auth/principal.js';

export const AUDIT_PREFIX = '/audit/';
const CHANGES = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);
// A public key is no secret, but a private one pasted by mistake must not end up in the log.
const SECRET_FIELDS = /^(password|current|token|secret|publicKey)$/i;
const MAX_REQUEST_CHARS = 1024;
const PRUNE_EVERY_MS = 10 * 60_000;
export const DEFAULT_AUDIT_RETENTION_MS = 90 * 24 * 3600_000;

/** The request body as a short string, secrets masked. */
export function requestSummary(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object') return undefined; // uploads (streams) and text are not copied
  const text = JSON.stringify(body, (k, v) => (SECRET_FIELDS.test(k) && v !== undefined ? '***' : v));
  return text.length > MAX_REQUEST_CHARS ? `${text.slice(0, MAX_REQUEST_CHARS)}…` : text;
}

/** Whether the request is a change the audit log records (not a read, not an agent's report). */
export function audited(req: FastifyRequest): boolean {
  return req.routeOptions.url !== undefined && CHANGES.has(req.method) && req.principal?.kind !== 'agent';
}

/** The record of a change, or undefined for what is not audited (reads, the agents' reports). */
export function auditRecord(req: FastifyRequest, status: number, errorCode: string | undefined, now = new Date()): AuditRecord | undefined {
  const route = req.routeOptions.url;
  if (!route || !audited(req)) return undefined;
  const who: Principal | undefined = req.principal;
  const access = req.routeOptions.config?.access;
  // Tenant routes, and platform routes about one tenant (its quota, the tenant itself).
  const tenantScoped = access === 'tenant' || access === 'tenant-admin' || typeof (req.params as { tenant?: unknown } | undefined)?.tenant === 'string';
  const loginName = route === '/v1/login' ? (req.body as { user?: unknown } | undefined)?.user : undefined;
  const request = requestSummary(req.body);
  return {
    time: now.toISOString(),
    actor: who ? who.name : typeof loginName === 'string' ? loginName : '',
    actorKind: who ? (who.kind === 'admin' ? 'admin' : 'user') : 'anonymous',
    ...(tenantScoped ? { tenant: routeTenant(req) } : {}),
    action: `${req.method} ${route}`,
    object: req.url.split('?')[0]!.replace(/^\/v1\//, ''),
    status,
    result: status < 400 ? 'ok' : 'failed',
    ...(errorCode ? { error: errorCode } : {}),
    ...(request ? { request } : {}),
    ...(req.auditBefore ? { before: req.auditBefore } : {}),
    sourceIp: req.ip,
  };
}

export class AuditLog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly retentionMs = DEFAULT_AUDIT_RETENTION_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.prune().catch((err) => this.log.warn({ err: String(err) }, 'audit: prune failed')), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Called after the answer was sent: a failure to write is logged, never thrown. */
  record(req: FastifyRequest, reply: FastifyReply): void {
    const rec = auditRecord(req, reply.statusCode, answeredErrorCode(reply));
    if (rec) this.write(rec);
  }

  /** Writes a record made elsewhere (the SSH gateway's sessions); a failure is logged, never thrown. */
  write(rec: AuditRecord): void {
    const key = `${AUDIT_PREFIX}${rec.time}-${randomBytes(4).toString('hex')}`;
    this.store.put(key, rec).catch((err: unknown) => this.log.warn({ err: String(err), action: rec.action, object: rec.object }, 'audit: record not written'));
  }

  /** Newest last; `visible` decides per record (tenant roles). */
  async query(q: AuditQuery, visible: (r: AuditRecord) => boolean): Promise<AuditRecord[]> {
    const since = q.since ? new Date(q.since).toISOString() : undefined;
    const { items } = await this.store.list<AuditRecord>(AUDIT_PREFIX);
    const out: AuditRecord[] = [];
    for (const kv of items) {
      const r = kv.value;
      if (since && r.time < since) continue;
      if (q.user !== undefined && r.actor !== q.user) continue;
      if (q.object !== undefined && !r.object.startsWith(q.object)) continue;
      if (q.tenant !== undefined && r.tenant !== q.tenant) continue;
      if (visible(r)) out.push(r);
    }
    return out.slice(-(q.limit ?? 500));
  }

  async prune(now = Date.now()): Promise<number> {
    const cutoff = `${AUDIT_PREFIX}${new Date(now - this.retentionMs).toISOString()}`;
    const { items } = await this.store.list(AUDIT_PREFIX);
    const old = items.filter((kv) => kv.key < cutoff);
    for (const kv of old) await this.store.delete(kv.key);
    return old.length;
  }
}
