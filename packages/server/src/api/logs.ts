import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { WharfError, type SetStatus } from '@wharf/types';
import { Keys, setKeys } from '../state/keys.js';
import { getSet } from '../state/sets.js';
import type { HostRecord } from '../state/hosts.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';

/** Streams a container's log from the agent of the set's host (the server never reads Docker itself). */
export function logRoutes(app: App, { store, agents }: RouteContext): void {
  app.get('/v1/sets/:appkey/:id/logs', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'Stream a container\'s log',
      description: 'Plain text. `container` defaults to the business container with the lowest index.',
      params: SetParams,
      querystring: Type.Object({
        ...TenantQuery.properties,
        container: Type.Optional(Type.String()),
        follow: Type.Optional(Type.Boolean()),
        tail: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      response: { 200: Type.String(), ...errors(401, 404, 502) },
    },
  }, async (req, reply) => {
    const ref = { tenant: tenantOf(req.query), ...req.params };
    const set = (await getSet(store, ref)).value;
    const status = (await store.get<SetStatus>(setKeys(ref).status))?.value;
    const business = (status?.containers ?? []).filter((c) => c.role === 'business').sort((a, b) => a.index - b.index);
    const name = req.query.container ?? business[0]?.name;
    const container = status?.containers.find((c) => c.name === name);
    if (!name || !container?.containerId) {
      const known = (status?.containers ?? []).map((c) => c.name).join(', ') || 'none yet';
      throw new WharfError('CONTAINER_NOT_FOUND', `set ${ref.appkey}/${ref.id} has no container "${name ?? ''}" with logs (containers: ${known})`);
    }
    const host = set.host ? (await store.get<HostRecord>(Keys.host(set.host)))?.value : undefined;
    if (!host) throw new WharfError('HOST_UNREACHABLE', `set ${ref.appkey}/${ref.id} is not on a known host`);
    const q = new URLSearchParams({ follow: String(req.query.follow ?? false) });
    if (req.query.tail !== undefined) q.set('tail', String(req.query.tail));
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    // A followed log may stay open for days: only the client's going away ends it.
    const res = await agents.stream(host, `/v1/containers/${encodeURIComponent(container.containerId)}/logs?${q}`, {
      signal: abort.signal,
      ...(req.query.follow ? { timeoutMs: 2 ** 31 - 1 } : {}),
    });
    reply.header('content-type', 'text/plain; charset=utf-8');
    // The response schema documents text; the body is streamed as it comes.
    return reply.send(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) as unknown as string);
  });
}
