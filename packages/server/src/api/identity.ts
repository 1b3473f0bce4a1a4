/**
 * Login, the caller's identity, tenants and their members, users, and API tokens.
 * Passwords and token plaintexts are never logged (requests are logged by method and
 * URL only); a token's plaintext is in exactly one answer, the one that made it.
 */
import { Type } from '@sinclair/typebox';
import {
  capabilityErrors, DEFAULT_SESSION_TTL_SECONDS, LoginRequest, Me, PasswordChange, RoleGrant, Tenant, TenantSpec, TokenCreate, TokenCreated, TokenInfo, User, UserCreate,
  USER_PATTERN, TENANT_PATTERN, WharfError, weakerRole, type TenantRole,
} from '@wharf/types';
import { checkPassword, hashPassword, verifyPassword } from '../auth/passwords.js';
import { principal } from '../auth/hook.js';
import { me, requireTenant, type Principal } from '../auth/principal.js';
import {
  createTenant, createUser, createUserToken, deleteTenant, deleteUser, getTenant, getUser, listTenants, listUserTokens, listUsers, revokeToken, tenantView, updateUser, userView,
  withTenantSpec,
} from '../state/identity.js';
import { Keys } from '../state/keys.js';
import type { App, RouteContext } from './context.js';
import { errors } from './schemas.js';

const TenantParams = Type.Object({ tenant: Type.String({ pattern: TENANT_PATTERN }) });
const UserParams = Type.Object({ name: Type.String({ pattern: USER_PATTERN }) });
const MemberParams = Type.Object({ tenant: Type.String({ pattern: TENANT_PATTERN }), user: Type.String({ pattern: USER_PATTERN }) });

/** Someone acting for a user (not the admin or join token). */
export function userOf(who: Principal, what: string): string {
  if (who.kind !== 'user') throw new WharfError('BAD_REQUEST', `${what} needs a user's token (wharf login); the ${who.kind} token has no user`);
  return who.name;
}

export function identityRoutes(app: App, { store, loginLimiter: limiter }: RouteContext): void {
  app.post('/v1/login', {
    config: { access: 'public' },
    schema: {
      tags: ['identity'],
      summary: 'Log in: a session token for a user name and password',
      description: `The session lasts ttlSeconds (default ${DEFAULT_SESSION_TTL_SECONDS / 3600} h). Failed attempts are limited per user and address (429 with Retry-After).`,
      body: LoginRequest,
      response: { 201: TokenCreated, ...errors(400, 401, 429) },
    },
  }, async (req, reply) => {
    const { user, password, ttlSeconds } = req.body;
    await checkPassword(store, limiter, req.ip, user, password);
    const { token, info } = await createUserToken(store, { user, name: 'login', session: true, ttlSeconds: ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS });
    return reply.status(201).send({ ...info, token });
  });

  app.post('/v1/logout', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: 'End this login session (revokes the session token used)', response: { 204: Type.Null(), ...errors(400, 401) } },
  }, async (req, reply) => {
    const who = principal(req);
    if (who.kind !== 'user' || !who.token.record.session) throw new WharfError('BAD_REQUEST', 'this token is not a login session; revoke API tokens with DELETE /v1/tokens/{id} (wharf token revoke)');
    await store.delete(Keys.token(who.token.hash));
    return reply.status(204).send(null);
  });

  app.get('/v1/me', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: 'Who the token speaks for, and its roles', response: { 200: Me, ...errors(401) } },
  }, async (req) => me(principal(req)));

  // ---- tenants ----

  app.get('/v1/tenants', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: 'Tenants: all for platform admins, else those the caller has a role in', response: { 200: Type.Array(Tenant), ...errors(401) } },
  }, async (req) => {
    const who = principal(req);
    return (await listTenants(store)).filter((t) => who.platformAdmin || who.roles[t.name]).map((t) => tenantView(t.name, t.record));
  });

  app.get('/v1/tenants/:tenant', {
    config: { access: 'tenant' },
    schema: { tags: ['identity'], summary: 'A tenant; its members for its admins', params: TenantParams, response: { 200: Tenant, ...errors(401, 404) } },
  }, async (req) => {
    const who = principal(req);
    const kv = await getTenant(store, req.params.tenant);
    if (!kv) throw new WharfError('TENANT_NOT_FOUND', `no tenant "${req.params.tenant}"`);
    const seesMembers = who.platformAdmin || who.roles[req.params.tenant] === 'tenant-admin';
    return tenantView(req.params.tenant, kv.value, seesMembers ? await membersOf(req.params.tenant) : undefined);
  });

  app.put('/v1/tenants/:tenant', {
    schema: {
      tags: ['identity'],
      summary: 'Create a tenant, or change its description and security policy (platform admins)',
      description: 'Fields left out stay as they are. allowedCapabilities and allowPrivilegeEscalation bound what the security field of its set specs and app templates may ask.',
      params: TenantParams,
      body: TenantSpec,
      response: { 200: Tenant, 201: Tenant, ...errors(400, 401, 403) },
    },
  }, async (req, reply) => {
    const capErrors = capabilityErrors(req.body.allowedCapabilities, 'allowedCapabilities');
    if (capErrors.length > 0) throw WharfError.validation(capErrors);
    const existing = await getTenant(store, req.params.tenant);
    if (existing) {
      const record = withTenantSpec(existing.value, req.body);
      await store.put(existing.key, record);
      return reply.status(200).send(tenantView(req.params.tenant, record));
    }
    return reply.status(201).send(tenantView(req.params.tenant, await createTenant(store, req.params.tenant, req.body)));
  });

  app.delete('/v1/tenants/:tenant', {
    schema: { tags: ['identity'], summary: 'Delete an empty tenant (platform admins)', params: TenantParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) } },
  }, async (req, reply) => {
    await deleteTenant(store, req.params.tenant);
    return reply.status(204).send(null);
  });

  const membersOf = async (tenant: string) =>
    (await listUsers(store)).flatMap((u) => (u.record.roles[tenant] ? [{ user: u.name, role: u.record.roles[tenant] as TenantRole }] : []));

  app.put('/v1/tenants/:tenant/members/:user', {
    config: { access: 'tenant-admin' },
    schema: { tags: ['identity'], summary: 'Give a user a role in the tenant (its admins)', params: MemberParams, body: RoleGrant, response: { 200: User, ...errors(400, 401, 403, 404) } },
  }, async (req) => {
    if (!(await getTenant(store, req.params.tenant))) throw new WharfError('TENANT_NOT_FOUND', `no tenant "${req.params.tenant}"`);
    const next = await updateUser(store, req.params.user, (r) => ({ ...r, roles: { ...r.roles, [req.params.tenant]: req.body.role } }));
    return userView(req.params.user, next);
  });

  app.delete('/v1/tenants/:tenant/members/:user', {
    config: { access: 'tenant-admin' },
    schema: { tags: ['identity'], summary: "Take a user's role in the tenant away (its admins)", params: MemberParams, response: { 200: User, ...errors(401, 403, 404) } },
  }, async (req) => {
    const next = await updateUser(store, req.params.user, (r) => {
      const { [req.params.tenant]: _gone, ...roles } = r.roles;
      return { ...r, roles };
    });
    return userView(req.params.user, next);
  });

  // ---- users ----

  app.get('/v1/users', {
    schema: { tags: ['identity'], summary: 'Users (platform admins)', response: { 200: Type.Array(User), ...errors(401, 403) } },
  }, async () => (await listUsers(store)).map((u) => userView(u.name, u.record)));

  app.put('/v1/users/:name', {
    schema: {
      tags: ['identity'],
      summary: 'Create a user with a password, roles per tenant and optionally the platform-admin flag (platform admins)',
      description: 'Answers 409 USER_EXISTS when the user exists (change roles through the tenants\' members, the password through /password).',
      params: UserParams,
      body: UserCreate,
      response: { 201: User, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (req, reply) => {
    const roles = req.body.roles ?? {};
    for (const tenant of Object.keys(roles)) {
      if (!(await getTenant(store, tenant))) throw WharfError.validation([{ path: `roles.${tenant}`, message: `no tenant "${tenant}"` }]);
    }
    const record = { passwordHash: await hashPassword(req.body.password), platformAdmin: req.body.platformAdmin ?? false, roles, createdAt: new Date().toISOString() };
    await createUser(store, req.params.name, record);
    return reply.status(201).send(userView(req.params.name, record));
  });

  app.get('/v1/users/:name', {
    config: { access: 'user' },
    schema: { tags: ['identity'], summary: 'A user (platform admins, or the user itself)', params: UserParams, response: { 200: User, ...errors(401, 404) } },
  }, async (req) => {
    const who = principal(req);
    const kv = who.platformAdmin || (who.kind === 'user' && who.name === req.params.name) ? await getUser(store, req.params.name) : undefined;
    if (!kv) throw new WharfError('USER_NOT_FOUND', `no user "${req.params.name}"`);
    return userView(req.params.name, kv.value);
  });

  app.delete('/v1/users/:name', {
    schema: { tags: ['identity'], summary: 'Delete a user and revoke its tokens (platform admins)', params: UserParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
  }, async (req, reply) => {
    await deleteUser(store, req.params.name);
    return reply.status(204).send(null);
  });

  app.put('/v1/users/:name/password', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: 'Set a password: users their own (with the current one), platform admins anyone\'s',
      params: UserParams,
      body: PasswordChange,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
    },
  }, async (req, reply) => {
    const who = principal(req);
    const self = who.kind === 'user' && who.name === req.params.name;
    if (!self && !who.platformAdmin) throw new WharfError('USER_NOT_FOUND', `no user "${req.params.name}"`);
    const kv = await getUser(store, req.params.name);
    if (!kv) throw new WharfError('USER_NOT_FOUND', `no user "${req.params.name}"`);
    if (self && !who.platformAdmin && !(await verifyPassword(req.body.current ?? '', kv.value.passwordHash))) {
      throw WharfError.validation([{ path: 'current', message: 'is not the current password' }]);
    }
    const passwordHash = await hashPassword(req.body.password);
    await updateUser(store, req.params.name, (r) => ({ ...r, passwordHash }));
    return reply.status(204).send(null);
  });

  // ---- tokens ----

  app.get('/v1/tokens', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: "The caller's tokens (login sessions and API tokens); platform admins every user's",
      response: { 200: Type.Array(TokenInfo), ...errors(401) },
    },
  }, async (req) => {
    const who = principal(req);
    return listUserTokens(store, who.platformAdmin ? undefined : userOf(who, 'listing tokens'));
  });

  app.post('/v1/tokens', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: 'Make an API token for the caller, optionally only for one tenant and with at most one role there',
      description: 'The answer holds the token once; only its hash is kept. A token never has more than its user: a role above the user\'s in the tenant is refused.',
      body: TokenCreate,
      response: { 201: TokenCreated, ...errors(400, 401, 404) },
    },
  }, async (req, reply) => {
    const who = principal(req);
    const user = userOf(who, 'making an API token');
    const { tenant, role, ttlSeconds, name } = req.body;
    if (role !== undefined && tenant === undefined) throw WharfError.validation([{ path: 'role', message: 'needs tenant: a role caps the token in one tenant' }]);
    if (tenant !== undefined) {
      requireTenant(who, tenant, 'read');
      const mine = who.roles[tenant];
      if (role && mine && !who.platformAdmin && weakerRole(mine, role) !== role) throw WharfError.validation([{ path: 'role', message: `is above your role in tenant "${tenant}" (${mine})` }]);
    }
    const { token, info } = await createUserToken(store, { user, name, session: false, ...(tenant ? { tenant } : {}), ...(role ? { role } : {}), ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
    return reply.status(201).send({ ...info, token });
  });

  app.delete('/v1/tokens/:id', {
    config: { access: 'user' },
    schema: {
      tags: ['identity'],
      summary: 'Revoke a token by its ID: users their own, platform admins anyone\'s',
      params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) }),
      response: { 200: TokenInfo, ...errors(400, 401, 404) },
    },
  }, async (req) => {
    const who = principal(req);
    return revokeToken(store, req.params.id, who.platformAdmin ? undefined : userOf(who, 'revoking a token'));
  });
}
