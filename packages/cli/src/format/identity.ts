/** Views of tenants, users, tokens and the caller (`wharf tenant|user|token|whoami`). */
import type { Me, Tenant, TenantRole, TokenInfo, User } from '@wharf/types';
import { age, humanDuration } from './age.js';
import { fields, when } from './fields.js';
import { cell, renderTable } from './table.js';

export const TENANT_COLUMNS = ['NAME', 'DESCRIPTION', 'AGE'] as const;
export const USER_COLUMNS = ['NAME', 'PLATFORM ADMIN', 'ROLES', 'AGE'] as const;
export const TOKEN_COLUMNS = ['ID', 'NAME', 'USER', 'TENANT', 'ROLE', 'EXPIRES', 'SESSION'] as const;

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** `team-a=developer,team-b=viewer`. */
export function roleList(roles: Record<string, TenantRole>): string {
  return Object.entries(roles).sort(([a], [b]) => a.localeCompare(b)).map(([t, r]) => `${t}=${r}`).join(',');
}

/** One `TENANT   ROLE` line per tenant, or what having none means. */
function roleLines(roles: Record<string, TenantRole>, platformAdmin: boolean): string {
  const rows = Object.entries(roles).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return platformAdmin ? '<none> (a platform admin acts in every tenant)' : '<none>';
  return renderTable(['TENANT', 'ROLE'], rows);
}

/** `in 11h59m`, `never`, `expired`: the time left of a token. */
export function expires(expiresAt: string | undefined, now: number): string {
  if (expiresAt === undefined) return 'never';
  const left = Date.parse(expiresAt) - now;
  return left > 0 ? `in ${humanDuration(left)}` : 'expired';
}

/** `expires 2025-01-01T12:00:00.000Z (in 11h59m)`, or `does not expire`. */
export function expiry(expiresAt: string | undefined, now: number): string {
  return expiresAt === undefined ? 'does not expire' : `expires ${expiresAt} (${expires(expiresAt, now)})`;
}

export function renderTenants(tenants: Tenant[], now: number): string {
  return renderTable(TENANT_COLUMNS, [...tenants].sort(byName).map((t) => [t.name, cell(t.description), age(t.createdAt, now)]));
}

export function describeTenant(t: Tenant, now: number): string {
  const members = t.members === undefined
    ? '<shown to its tenant admins and platform admins>'
    : t.members.length === 0
      ? '<none>'
      : renderTable(['USER', 'ROLE'], [...t.members].sort((a, b) => a.user.localeCompare(b.user)).map((m) => [m.user, m.role]));
  return fields([
    ['Name', t.name],
    ['Description', cell(t.description)],
    ['May add capabilities', t.allowedCapabilities?.length ? t.allowedCapabilities.join(', ') : '<none>'],
    ['May turn off no-new-privileges', yesNo(t.allowPrivilegeEscalation === true)],
    ['Created', when(t.createdAt, now)],
    ['Members', members],
  ]);
}

export function renderUsers(users: User[], now: number): string {
  return renderTable(USER_COLUMNS, [...users].sort(byName).map((u) => [u.name, yesNo(u.platformAdmin), cell(roleList(u.roles)), age(u.createdAt, now)]));
}

export function describeUser(u: User, now: number): string {
  return fields([
    ['Name', u.name],
    ['Platform admin', yesNo(u.platformAdmin)],
    ['Roles', roleLines(u.roles, u.platformAdmin)],
    ['Created', when(u.createdAt, now)],
  ]);
}

export function renderTokens(tokens: TokenInfo[], now: number): string {
  const sorted = [...tokens].sort((a, b) => a.user.localeCompare(b.user) || a.createdAt.localeCompare(b.createdAt));
  return renderTable(TOKEN_COLUMNS, sorted.map((t) => [t.id, t.name, t.user, t.tenant ?? '<any>', t.role ?? "<user's>", expires(t.expiresAt, now), yesNo(t.session)]));
}

/** `API token "ci" (ID 0123456789abcdef)`, `login session (ID …)`. */
export function tokenTitle(t: TokenInfo): string {
  return t.session ? `login session (ID ${t.id})` : `API token "${t.name}" (ID ${t.id})`;
}

/** `API token "ci" (ID 0123456789abcdef), only tenant team-a, at most viewer`. */
export function describeToken(t: TokenInfo): string {
  const what = tokenTitle(t);
  const scope = t.tenant === undefined ? `every tenant of ${t.user}` : `only tenant ${t.tenant}${t.role ? `, at most ${t.role}` : ''}`;
  return `${what}, ${scope}`;
}

/** The page of `wharf whoami`. */
export function describeMe(me: Me, server: string, now: number): string {
  const token = me.token
    ? `${describeToken(me.token)}\n${expiry(me.token.expiresAt, now)}`
    : `the ${me.kind} token of the server's data directory (it does not expire)`;
  return fields([
    ['Name', me.name],
    ['Kind', me.kind],
    ['Platform admin', yesNo(me.platformAdmin)],
    ['Roles', roleLines(me.roles, me.platformAdmin)],
    ['Token', token],
    ['Server', server],
  ]);
}
