/**
 * The naming service: an app's endpoints, read at once or long-polled (watch) the
 * way agents poll their desired state.
 */
import { Type } from '@sinclair/typebox';
import { Endpoints } from '@wharf/types';
import { readEndpoints, watchEndpoints } from '../state/endpoints.js';
import type { App, ApiContext } from './context.js';
import { AppParams } from './apps.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

/** Longest an endpoints watch is held. */
const MAX_WATCH_SECONDS = 60;

const EndpointsQuery = Type.Composite([
  TenantQuery,
  Type.Object({
    watch: Type.Optional(Type.Boolean({ description: 'Long poll: answer when the endpoints differ from `revision`' })),
    revision: Type.Integer({ minimum: 0, default: 0, description: 'The revision the caller has (0: none)' }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: MAX_WATCH_SECONDS, default: 30, description: 'How long a watch waits for a change' }),
    all: Type.Optional(Type.Boolean({ description: 'Also sets not serving (not ready, or draining), with their flags' })),
  }),
]);

export function endpointRoutes(app: App, { store }: ApiContext): void {
  app.get('/v1/apps/:appkey/endpoints', {
    config: { access: 'tenant' },
    schema: {
      tags: ['apps'],
      summary: "The app's endpoints: its ready sets with their IP and ports",
      description:
        'A set is an endpoint while it is ready (running at its current generation, every container ready) and not draining; ' +
        'a set that leaves on scale-in, or whose container a rollout is about to replace, drops out at once (`draining`), before its containers stop. `ip` is the set\'s primary platform IP ' +
        '(absent for a set on Docker\'s own bridge); `ports` are every containerPort its containers declare. ' +
        'With `watch=true` the answer waits until the revision differs from `revision`, or `timeoutSeconds` pass (then the same revision). ' +
        '404 APP_NOT_FOUND when there is neither an app nor a set of the appkey.',
      params: AppParams,
      querystring: EndpointsQuery,
      response: { 200: Endpoints, ...errors(400, 401, 404) },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req.query);
    const { appkey } = req.params;
    const query = { all: req.query.all === true };
    if (!req.query.watch) return readEndpoints(store, tenant, appkey, query);
    const abort = new AbortController();
    // The response's close also fires when the client goes away before the answer.
    reply.raw.once('close', () => abort.abort());
    return watchEndpoints(store, tenant, appkey, req.query.revision, { ...query, timeoutMs: req.query.timeoutSeconds * 1000, signal: abort.signal });
  });
}
