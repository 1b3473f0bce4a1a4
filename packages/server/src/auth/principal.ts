/**
 * Who a bearer token speaks for, and what that caller may do in a tenant (pure, apart
 * from loading the user's record). The admin token is a platform admin, the join token
 * an agent; a user token carries its user's roles, narrowed by the token's scope
 * (one tenant, at most one role).
 */
import type { Store } from '@wharf/store';
import { roleAllows, weakerRole, WharfError, type Me, type TenantAccess, type TenantRole } from '@wharf/types';
import { getUser, tokenInfo } from '../state/identity.js';
import { hashToken, lookupTokenHash, type TokenRecord } from './tokens.js';

export interface Principal {
  kind: 'admin' | 'agent' | 'user';
  /** The user, or the token's name for the admin and join tokens. */
  name: string;
  platformAdmin: boolean;
  /** Effective roles per tenant. */
  roles: Record<string, TenantRole>;
  /** An agent known by its host certificate: it may act only as this host. */
  host?: string;
  token: { hash: string; record: TokenRecord };
}

export function effectiveRoles(userRoles: Record<string, TenantRole>, token: Pick<TokenRecord, 'tenant' | 'tenantRole'>): Record<string, TenantRole> {
  const cap = (role: TenantRole) => (token.tenantRole ? weakerRole(role, token.tenantRole) : role);
  if (token.tenant !== undefined) {
    const role = userRoles[token.tenant];
    return role ? { [token.tenant]: cap(role) } : {};
  }
  return Object.fromEntries(Object.entries(userRoles).map(([t, r]) => [t, cap(r)]));
}

/** undefined: no such token, expired, or its user is gone. */
export async function principalOf(store: Store, token: string): Promise<Principal | undefined> {
  const hash = hashToken(token);
  const record = await lookupTokenHash(store, hash);
  if (!record) return undefined;
  if (record.role !== 'user') return { kind: record.role, name: record.name, platformAdmin: record.role === 'admin', roles: {}, token: { hash, record } };
  const user = record.user === undefined ? undefined : await getUser(store, record.user);
  if (!user) return undefined;
  return {
    kind: 'user',
    name: record.user as string,
    // A token scoped to one tenant never acts as a platform admin.
    platformAdmin: user.value.platformAdmin && record.tenant === undefined && record.tenantRole === undefined,
    roles: effectiveRoles(user.value.roles, record),
    token: { hash, record },
  };
}

/**
 * Checks that `who` may `access` tenant `tenant`. Someone without a role there is told
 * the tenant does not exist (404), whatever the method: other tenants' objects are not
 * even confirmed to exist. A member whose role is too weak gets 403.
 */
export function requireTenant(who: Pick<Principal, 'platformAdmin' | 'roles'>, tenant: string, access: TenantAccess): void {
  if (who.platformAdmin) return;
  const role = who.roles[tenant];
  if (!role) throw new WharfError('NOT_FOUND', `no tenant "${tenant}" among yours`);
  if (!roleAllows(role, access)) {
    const needed = access === 'read' ? 'viewer' : access === 'write' ? 'developer' : 'tenant-admin';
    throw new WharfError('FORBIDDEN', `your role in tenant "${tenant}" is ${role}; this needs ${needed}`);
  }
}

export function me(who: Principal): Me {
  return {
    kind: who.kind,
    name: who.name,
    platformAdmin: who.platformAdmin,
    roles: who.roles,
    ...(who.kind === 'user' ? { token: tokenInfo(who.token.hash, who.token.record) } : {}),
  };
}
