/**
 * Tenants, users and their tokens in the store. Tenant and user records are created
 * with a compare on absence, changed with a compare on their modRevision, so two
 * admins granting roles at once cannot lose one of the grants.
 *
 *   /tenants/<name>        { description?, allowedCapabilities?, allowPrivilegeEscalation?, createdAt }
 *   /users/<name>          { passwordHash, platformAdmin, roles: {tenant: role}, createdAt }
 *   /auth/tokens/<sha256>  TokenRecord (role 'user': user, scope, expiry)
 */
import type { KeyValue, Store } from '@wharf/store';
import { DEFAULT_TENANT, WharfError, type Tenant, type TenantRole, type TenantSpec, type TokenInfo, type User } from '@wharf/types';
import { hashToken, newToken, tokenId, type TokenRecord } from '../auth/tokens.js';
import { Keys } from './keys.js';
import { sshKeyDeletes } from './ssh-keys.js';

export interface TenantRecord {
  description?: string;
  /** Capabilities its specs may add to business containers (see state/security.ts). */
  allowedCapabilities?: string[];
  /** Its specs may turn no-new-privileges off. */
  allowPrivilegeEscalation?: boolean;
  createdAt: string;
}

export interface UserRecord {
  passwordHash: string;
  platformAdmin: boolean;
  roles: Record<string, TenantRole>;
  createdAt: string;
}

const nameOf = (key: string, prefix: string) => key.slice(prefix.length);

export function tenantView(name: string, r: TenantRecord, members?: { user: string; role: TenantRole }[]): Tenant {
  return {
    name,
    ...(r.description ? { description: r.description } : {}),
    ...(r.allowedCapabilities?.length ? { allowedCapabilities: r.allowedCapabilities } : {}),
    ...(r.allowPrivilegeEscalation ? { allowPrivilegeEscalation: true } : {}),
    createdAt: r.createdAt,
    ...(members ? { members } : {}),
  };
}

/** A tenant record with the fields `spec` gives changed (absent fields stay; `allowedCapabilities: []` clears them). */
export function withTenantSpec(record: TenantRecord, spec: TenantSpec): TenantRecord {
  const next: TenantRecord = { ...record };
  if (spec.description !== undefined) next.description = spec.description;
  if (spec.allowedCapabilities !== undefined) next.allowedCapabilities = [...new Set(spec.allowedCapabilities)].sort();
  if (spec.allowPrivilegeEscalation !== undefined) next.allowPrivilegeEscalation = spec.allowPrivilegeEscalation;
  if (next.allowedCapabilities?.length === 0) delete next.allowedCapabilities;
  if (next.allowPrivilegeEscalation === false) delete next.allowPrivilegeEscalation;
  return next;
}

export function userView(name: string, r: UserRecord): User {
  return { name, platformAdmin: r.platformAdmin, roles: r.roles, createdAt: r.createdAt };
}

/** The default tenant always exists: sets made without a tenant live there. */
export async function ensureDefaultTenant(store: Store, now = new Date()): Promise<void> {
  await store.txn([{ key: Keys.tenant(DEFAULT_TENANT), absent: true }], [{ type: 'put', key: Keys.tenant(DEFAULT_TENANT), value: { description: 'sets made without a tenant', createdAt: now.toISOString() } satisfies TenantRecord }]);
}

export async function getTenant(store: Store, name: string): Promise<KeyValue<TenantRecord> | undefined> {
  return store.get<TenantRecord>(Keys.tenant(name));
}

export async function listTenants(store: Store): Promise<{ name: string; record: TenantRecord }[]> {
  const { items } = await store.list<TenantRecord>(Keys.tenantsPrefix);
  return items.map((kv) => ({ name: nameOf(kv.key, Keys.tenantsPrefix), record: kv.value }));
}

export async function createTenant(store: Store, name: string, spec: TenantSpec, now = new Date()): Promise<TenantRecord> {
  const record = withTenantSpec({ createdAt: now.toISOString() }, spec);
  const r = await store.txn([{ key: Keys.tenant(name), absent: true }], [{ type: 'put', key: Keys.tenant(name), value: record }]);
  if (!r.succeeded) throw new WharfError('TENANT_EXISTS', `tenant "${name}" exists`);
  return record;
}

/** Refused while the tenant has sets, apps or images; its members lose their role in it. */
export async function deleteTenant(store: Store, name: string): Promise<void> {
  if (name === DEFAULT_TENANT) throw new WharfError('CONFLICT', `the "${DEFAULT_TENANT}" tenant cannot be deleted`);
  const kv = await getTenant(store, name);
  if (!kv) throw new WharfError('TENANT_NOT_FOUND', `no tenant "${name}"`);
  const held: string[] = [];
  for (const [what, prefix] of [['sets', Keys.tenantSets(name)], ['apps', Keys.tenantApps(name)], ['images', Keys.registryRepo(`${name}/`)]] as const) {
    const n = (await store.list(prefix)).items.length;
    if (n > 0) held.push(`${n} ${what}`);
  }
  if (held.length > 0) throw new WharfError('TENANT_NOT_EMPTY', `tenant "${name}" still has ${held.join(', ')}; delete them first`, { held });
  for (const u of await listUsers(store)) {
    if (u.record.roles[name]) await updateUser(store, u.name, (r) => ({ ...r, roles: withoutKey(r.roles, name) }));
  }
  await store.delete(Keys.tenant(name));
}

function withoutKey<T>(o: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = o;
  return rest;
}

export async function getUser(store: Store, name: string): Promise<KeyValue<UserRecord> | undefined> {
  return store.get<UserRecord>(Keys.user(name));
}

export async function listUsers(store: Store): Promise<{ name: string; record: UserRecord }[]> {
  const { items } = await store.list<UserRecord>(Keys.usersPrefix);
  return items.map((kv) => ({ name: nameOf(kv.key, Keys.usersPrefix), record: kv.value }));
}

export async function createUser(store: Store, name: string, record: UserRecord): Promise<void> {
  const r = await store.txn([{ key: Keys.user(name), absent: true }], [{ type: 'put', key: Keys.user(name), value: record }]);
  if (!r.succeeded) throw new WharfError('USER_EXISTS', `user "${name}" exists`);
}

/** Read, change, write back if nobody changed it meanwhile (retried a few times). */
export async function updateUser(store: Store, name: string, change: (r: UserRecord) => UserRecord): Promise<UserRecord> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const kv = await getUser(store, name);
    if (!kv) throw new WharfError('USER_NOT_FOUND', `no user "${name}"`);
    const next = change(kv.value);
    const r = await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'put', key: kv.key, value: next }]);
    if (r.succeeded) return next;
  }
  throw new WharfError('CONFLICT', `user "${name}" kept changing; try again`);
}

/** Deletes the user, every token made for it and its SSH keys. */
export async function deleteUser(store: Store, name: string): Promise<void> {
  const kv = await getUser(store, name);
  if (!kv) throw new WharfError('USER_NOT_FOUND', `no user "${name}"`);
  const tokens = (await listTokenRecords(store)).filter((t) => t.record.user === name);
  const r = await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }, ...tokens.map((t) => ({ type: 'delete' as const, key: t.key })), ...(await sshKeyDeletes(store, name))]);
  if (!r.succeeded) throw new WharfError('CONFLICT', `user "${name}" changed meanwhile (a role or SSH key); try again`);
}

export function tokenInfo(hash: string, r: TokenRecord): TokenInfo {
  return {
    id: tokenId(hash),
    name: r.name,
    user: r.user ?? `(${r.role})`,
    ...(r.tenant ? { tenant: r.tenant } : {}),
    ...(r.tenantRole ? { role: r.tenantRole } : {}),
    createdAt: r.createdAt,
    ...(r.expiresAt ? { expiresAt: r.expiresAt } : {}),
    session: r.session === true,
  };
}

export async function listTokenRecords(store: Store): Promise<{ key: string; hash: string; record: TokenRecord }[]> {
  const { items } = await store.list<TokenRecord>(Keys.tokensPrefix);
  return items.map((kv) => ({ key: kv.key, hash: nameOf(kv.key, Keys.tokensPrefix), record: kv.value }));
}

export interface NewUserToken {
  user: string;
  name: string;
  tenant?: string;
  role?: TenantRole;
  ttlSeconds?: number;
  session: boolean;
}

/** Makes a token for a user; the plaintext is returned once, only its hash is kept. */
export async function createUserToken(store: Store, t: NewUserToken, now = new Date()): Promise<{ token: string; info: TokenInfo }> {
  const token = newToken(t.session ? 'ses' : 'usr');
  const hash = hashToken(token);
  const record: TokenRecord = {
    role: 'user',
    name: t.name,
    user: t.user,
    createdAt: now.toISOString(),
    ...(t.tenant ? { tenant: t.tenant } : {}),
    ...(t.role ? { tenantRole: t.role } : {}),
    ...(t.ttlSeconds !== undefined ? { expiresAt: new Date(now.getTime() + t.ttlSeconds * 1000).toISOString() } : {}),
    ...(t.session ? { session: true } : {}),
  };
  await store.put(Keys.token(hash), record);
  return { token, info: tokenInfo(hash, record) };
}

/** Expired tokens are dropped as they are found. */
export async function listUserTokens(store: Store, user: string | undefined, now = Date.now()): Promise<TokenInfo[]> {
  const out: TokenInfo[] = [];
  for (const t of await listTokenRecords(store)) {
    if (t.record.expiresAt !== undefined && Date.parse(t.record.expiresAt) <= now) {
      await store.delete(t.key);
      continue;
    }
    if (t.record.role === 'user' && (user === undefined || t.record.user === user)) out.push(tokenInfo(t.hash, t.record));
  }
  return out;
}

/** Revokes a user token by its ID; `user` limits it to that user's own tokens. */
export async function revokeToken(store: Store, id: string, user: string | undefined): Promise<TokenInfo> {
  const t = (await listTokenRecords(store)).find((x) => x.record.role === 'user' && tokenId(x.hash) === id && (user === undefined || x.record.user === user));
  if (!t) throw new WharfError('TOKEN_NOT_FOUND', `no token with ID ${id}${user ? ` of user "${user}"` : ''}`);
  await store.delete(t.key);
  return tokenInfo(t.hash, t.record);
}
