/**
 * The platform registry's routes: what agents and people need to use it (address, CA),
 * the token service Distribution sends Docker clients to, and a repository's visibility.
 */
import { Type } from '@sinclair/typebox';
import { ImageVisibility, ImageVisibilityRequest, RegistryInfo, RegistryToken, WharfError, repositoryTenant } from '@wharf/types';
import { registryPrincipal } from '../registry/principal.js';
import { parseScopes } from '../registry/scope.js';
import { getVisibility, repositoryFacts, setVisibility } from '../registry/repositories.js';
import type { App, RouteContext } from './context.js';
import { errors } from './schemas.js';

const TokenQuery = Type.Object({
  service: Type.Optional(Type.String({ description: 'The registry\'s service name (its challenge says it)' })),
  scope: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'TYPE:NAME:ACTIONS, e.g. repository:default/app:pull,push; repeated or space-separated for several' })),
  account: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  offline_token: Type.Optional(Type.String()),
});

export const ImageParams = Type.Object({
  tenant: Type.String({ description: 'The tenant: the repository\'s first component' }),
  name: Type.String({ description: 'The repository within the tenant (a "/" in it written %2F)' }),
});

export function repositoryOf(params: { tenant: string; name: string }): string {
  const repository = `${params.tenant}/${params.name}`;
  if (!repositoryTenant(repository)) {
    throw WharfError.validation([{ path: 'repository', message: `"${repository}" is not a repository name <tenant>/<name> (lowercase letters, digits, and ".", "_", "-" between them)` }]);
  }
  return repository;
}

/** What the registry routes answer when the server runs without a registry. */
export function registryOff(): WharfError {
  return new WharfError('NOT_FOUND', 'the platform registry is off on this server (wharf-server --registry off)');
}

export function registryRoutes(app: App, { store, registry, loginLimiter }: RouteContext): void {
  const off = registryOff;

  app.get('/v1/registry', {
    config: { access: 'agent' },
    schema: {
      tags: ['registry'],
      summary: 'The platform registry: its address for image names, its CA, whether it runs',
      description: 'Agents read it at start and install the CA in Docker\'s certs.d for the address.',
      response: { 200: RegistryInfo, ...errors(401) },
    },
  }, async () => registry?.info() ?? { enabled: false });

  app.get('/v1/registry/ca.crt', {
    config: { access: 'public' },
    schema: { tags: ['registry'], summary: "The CA certificate (PEM) that signed the registry's TLS certificate", response: { 200: Type.String({ description: 'PEM' }), ...errors(404) } },
  }, async (_req, reply) => {
    if (!registry) throw off();
    return reply.type('application/x-pem-file').send(registry.caPem);
  });

  app.get('/v1/registry/token', {
    config: { access: 'public' },
    schema: {
      tags: ['registry'],
      summary: "The registry's token service (Docker's registry token specification)",
      description: 'Basic credentials: a user and its password, any user name and a Wharf token as the password, or a joined host\'s name and its registry secret '
        + '(none: anonymous, which may pull public repositories). '
        + 'Grants, per scope, the asked actions the caller may do: platform admins push and pull in every tenant, a tenant\'s developers push and pull and its viewers pull there, '
        + 'its admins also delete, hosts (the join token, a registry secret) pull, anyone pulls public repositories. '
        + 'Credentials that are neither a valid token nor a user\'s password get 401; too many wrong passwords 429.',
      querystring: TokenQuery,
      response: { 200: RegistryToken, ...errors(400, 401, 404) },
    },
  }, async (req, reply) => {
    if (!registry) throw off();
    const { service, scope } = req.query;
    if (service !== undefined && service !== registry.tokens.service) {
      throw new WharfError('BAD_REQUEST', `service "${service}" is not this token service's (${registry.tokens.service})`);
    }
    const scopes = parseScopes(scope);
    let who;
    try {
      who = await registryPrincipal(store, req.headers.authorization, { limiter: loginLimiter, address: req.ip });
    } catch (err) {
      reply.header('www-authenticate', 'Basic realm="Wharf registry", charset="UTF-8"');
      throw err;
    }
    const token = await registry.tokens.issue(who, scopes, (repository) => repositoryFacts(store, repository));
    req.log.debug({ subject: who.kind === 'anonymous' ? '' : who.subject, scopes: scopes.map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`) }, 'registry token issued');
    return token;
  });

  app.get('/v1/images/:tenant/:name/public', {
    config: { access: 'tenant' },
    schema: { tags: ['registry'], summary: 'Whether a repository can be pulled without credentials', params: ImageParams, response: { 200: ImageVisibility, ...errors(400, 401, 403) } },
  }, async (req) => getVisibility(store, repositoryOf(req.params)));

  app.put('/v1/images/:tenant/:name/public', {
    config: { access: 'tenant-admin' },
    schema: {
      tags: ['registry'],
      summary: 'Mark a repository public (anyone may pull it) or not',
      params: ImageParams,
      body: ImageVisibilityRequest,
      response: { 200: ImageVisibility, ...errors(400, 401, 403) },
    },
  }, async (req) => {
    const repository = repositoryOf(req.params);
    const v = await setVisibility(store, repository, req.body.public);
    req.log.info({ repository, public: v.public }, 'repository visibility changed');
    return v;
  });
}
