/**
 * Tenants, users, roles and API tokens: the wire shapes of /v1/login, /v1/me,
 * /v1/tenants, /v1/users and /v1/tokens.
 */
import { Type, type Static } from '@sinclair/typebox';
import { NAME_PATTERN, TENANT_PATTERN } from './patterns.js';
import { Capability, LINUX_CAPABILITIES } from './security.js';

/** Roles a user holds per tenant, strongest first. `platform-admin` is a flag of the user, not a tenant role. */
export const TENANT_ROLES = ['tenant-admin', 'developer', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** What a role may do in its tenant: read (viewer), change resources (developer), manage members (tenant-admin). */
export type TenantAccess = 'read' | 'write' | 'admin';

const ACCESS_OF: Record<TenantRole, TenantAccess[]> = {
  viewer: ['read'],
  developer: ['read', 'write'],
  'tenant-admin': ['read', 'write', 'admin'],
};

export function roleAllows(role: TenantRole, access: TenantAccess): boolean {
  return ACCESS_OF[role].includes(access);
}

/** The weaker of two roles (a token's cap applied to its user's role). */
export function weakerRole(a: TenantRole, b: TenantRole): TenantRole {
  return TENANT_ROLES.indexOf(a) >= TENANT_ROLES.indexOf(b) ? a : b;
}

export const USER_PATTERN = NAME_PATTERN;
export const TenantRoleSchema = Type.Union([Type.Literal('tenant-admin'), Type.Literal('developer'), Type.Literal('viewer')], { description: 'tenant-admin, developer or viewer' });

/** What the sets and apps of a tenant may ask of their business containers' hardening (see security.ts). */
const TenantSecurityFields = {
  allowedCapabilities: Type.Optional(Type.Array(Capability, {
    maxItems: LINUX_CAPABILITIES.length,
    description: 'Capabilities its specs may add with security.capAdd (default none; [] takes them all back)',
  })),
  allowPrivilegeEscalation: Type.Optional(Type.Boolean({ description: 'Its specs may set security.noNewPrivileges: false (default false)' })),
};

export const TenantSpec = Type.Object({
  description: Type.Optional(Type.String({ maxLength: 200 })),
  ...TenantSecurityFields,
}, { additionalProperties: false });
export type TenantSpec = Static<typeof TenantSpec>;

export const Tenant = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  ...TenantSecurityFields,
  createdAt: Type.String(),
  /** Users with a role in the tenant (only for those who may manage it). */
  members: Type.Optional(Type.Array(Type.Object({ user: Type.String(), role: TenantRoleSchema }))),
});
export type Tenant = Static<typeof Tenant>;

export const PASSWORD_MIN = 8;
const Password = Type.String({ minLength: PASSWORD_MIN, maxLength: 1024, description: `at least ${PASSWORD_MIN} characters` });

export const UserCreate = Type.Object({
  password: Password,
  platformAdmin: Type.Optional(Type.Boolean()),
  roles: Type.Optional(Type.Record(Type.String({ pattern: TENANT_PATTERN }), TenantRoleSchema)),
}, { additionalProperties: false });
export type UserCreate = Static<typeof UserCreate>;

export const User = Type.Object({
  name: Type.String(),
  platformAdmin: Type.Boolean(),
  roles: Type.Record(Type.String(), TenantRoleSchema),
  createdAt: Type.String(),
});
export type User = Static<typeof User>;

export const PasswordChange = Type.Object({
  password: Password,
  /** Required when users change their own password. */
  current: Type.Optional(Type.String({ maxLength: 1024 })),
}, { additionalProperties: false });
export type PasswordChange = Static<typeof PasswordChange>;

export const RoleGrant = Type.Object({ role: TenantRoleSchema }, { additionalProperties: false });
export type RoleGrant = Static<typeof RoleGrant>;

/** Longest life of a login session or API token: a year. */
export const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;
export const DEFAULT_SESSION_TTL_SECONDS = 12 * 3600;

export const LoginRequest = Type.Object({
  user: Type.String({ pattern: USER_PATTERN }),
  password: Type.String({ maxLength: 1024 }),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_TOKEN_TTL_SECONDS })),
}, { additionalProperties: false });
export type LoginRequest = Static<typeof LoginRequest>;

export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  user: Type.String(),
  /** Only this tenant, with at most `role` there. */
  tenant: Type.Optional(Type.String()),
  role: Type.Optional(TenantRoleSchema),
  createdAt: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  /** A login session rather than an API token made with `wharf token create`. */
  session: Type.Boolean(),
});
export type TokenInfo = Static<typeof TokenInfo>;

export const TokenCreated = Type.Intersect([TokenInfo, Type.Object({ token: Type.String({ description: 'Shown once; only its hash is kept' }) })]);
export type TokenCreated = Static<typeof TokenCreated>;

export const TokenCreate = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN }),
  tenant: Type.Optional(Type.String({ pattern: TENANT_PATTERN })),
  role: Type.Optional(TenantRoleSchema),
  /** Absent: the token does not expire. */
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: MAX_TOKEN_TTL_SECONDS })),
}, { additionalProperties: false });
export type TokenCreate = Static<typeof TokenCreate>;

/** Who the caller is (`GET /v1/me`). */
export const Me = Type.Object({
  kind: Type.Union([Type.Literal('admin'), Type.Literal('agent'), Type.Literal('user')]),
  name: Type.String(),
  platformAdmin: Type.Boolean(),
  /** Effective roles: the user's, narrowed by the token's scope. */
  roles: Type.Record(Type.String(), TenantRoleSchema),
  token: Type.Optional(TokenInfo),
});
export type Me = Static<typeof Me>;
