/**
 * Builds the Fastify application: error catalog, auth, content types, OpenAPI and
 * the route modules. No sockets here, so tests use `app.inject()`.
 */
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WHARF_VERSION, WharfError } from '@wharf/types';
import { answerError, installErrorHandling, refuseNonFiniteNumbers } from './errors.js';
import { installAuth, pickWsProtocol } from './auth/hook.js';
import { LoginLimiter } from './auth/login-limiter.js';
import { AuditLog, audited } from './audit/log.js';
import { beforeSummary } from './audit/before.js';
import { auditRoutes } from './api/audit.js';
import { quotaRoutes } from './api/quotas.js';
import type { App, ApiContext, RouteContext } from './api/context.js';
import { metaRoutes } from './api/meta.js';
import { setRoutes } from './api/sets.js';
import { hostRoutes } from './api/hosts.js';
import { logRoutes } from './api/logs.js';
import { execRoutes } from './api/exec.js';
import { MAX_EXEC_FRAME_BYTES } from './exec/open.js';
import { networkRoutes } from './api/networks.js';
import { policyRoutes } from './api/policies.js';
import { volumeRoutes } from './api/volumes.js';
import { moveRoutes } from './api/move.js';
import { resizeRoutes } from './api/resize.js';
import { rolloutRoutes } from './api/rollouts.js';
import { appRoutes } from './api/apps.js';
import { endpointRoutes } from './api/endpoints.js';
import { lbRoutes } from './api/lb.js';
import { metricsRoutes } from './api/metrics.js';
import { Monitoring } from './metrics/monitoring.js';
import { CustomMetrics } from './metrics/custom.js';
import { autoscaleRoutes } from './api/autoscale.js';
import { registryRoutes } from './api/registry.js';
import { imageRoutes } from './api/images.js';
import { identityRoutes } from './api/identity.js';
import { sshKeyRoutes } from './api/ssh-keys.js';
import { eventRoutes } from './api/events.js';
import { joinRoutes } from './api/join.js';
import { Agents } from './agents.js';
import { consoleRoutes, defaultConsoleDir } from './console.js';

export async function buildApp(given: ApiContext, logger: Logger): Promise<App> {
  const monitoring = given.monitoring ?? (await Monitoring.start(given.store));
  const ctx: RouteContext = { ...given, monitoring, customMetrics: given.customMetrics ?? new CustomMetrics(), loginLimiter: new LoginLimiter(), audit: new AuditLog(given.store, logger, given.auditRetentionMs),
    agents: new Agents(given.joinToken, undefined, given.cluster?.server) };
  ctx.audit.start();
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
    frameworkErrors: answerError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandling(app);
  // WebSocket routes (exec) go through the same hooks (auth) before the upgrade. Registered
  // first, so its own hooks see every upgrade, also one the auth hook refuses (its socket is closed).
  await app.register(websocket, { options: { maxPayload: MAX_EXEC_FRAME_BYTES, handleProtocols: pickWsProtocol } });
  installAuth(app, ctx.store);

  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseYaml(body as string));
    } catch (err) {
      done(new WharfError('BAD_REQUEST', `the body is not valid YAML: ${(err as Error).message}`), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Wharf API', version: WHARF_VERSION, description: 'Container cluster management: sets, hosts, volumes, networks, policies and the agent protocol.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // After validation, before any handler: a string the schemas coerced to Infinity.
  app.addHook('preHandler', refuseNonFiniteNumbers);
  // The object a change acts on, as it was before, for the audit log.
  app.addHook('preHandler', async (req) => {
    if (audited(req)) req.auditBefore = await beforeSummary(ctx.store, req).catch(() => undefined);
  });
  // Failures and people's changes are logged; agents' heartbeats and reports only when they fail.
  app.addHook('onResponse', async (req, reply) => {
    ctx.audit.record(req, reply);
    monitoring.telemetry.observeRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    const routine = req.method === 'GET' || req.routeOptions.config?.access === 'agent';
    if (reply.statusCode >= 400 || !routine) {
      req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    }
  });

  metaRoutes(app, ctx);
  setRoutes(app, ctx);
  hostRoutes(app, ctx);
  logRoutes(app, ctx);
  execRoutes(app, ctx);
  networkRoutes(app, ctx);
  policyRoutes(app, ctx);
  volumeRoutes(app, ctx);
  moveRoutes(app, ctx);
  resizeRoutes(app, ctx);
  rolloutRoutes(app, ctx);
  appRoutes(app, ctx);
  endpointRoutes(app, ctx);
  lbRoutes(app, ctx);
  metricsRoutes(app, ctx);
  autoscaleRoutes(app, ctx);
  registryRoutes(app, ctx);
  imageRoutes(app, ctx);
  identityRoutes(app, ctx);
  sshKeyRoutes(app, ctx);
  auditRoutes(app, ctx);
  quotaRoutes(app, ctx);
  eventRoutes(app, ctx);
  joinRoutes(app, ctx);
  await consoleRoutes(app, given.consoleDir ?? defaultConsoleDir());
  app.addHook('onClose', async () => ctx.audit.stop());
  if (!given.monitoring) app.addHook('onClose', async () => monitoring.stop());
  return app;
}
