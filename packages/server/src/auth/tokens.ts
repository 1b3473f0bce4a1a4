/**
 * Bearer tokens. Only their SHA-256 is stored; the plaintext of the bootstrap
 * tokens is written once to files in the data directory (mode 0600) so that the
 * local CLI and agent can read them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '@wharf/store';
import type { TenantRole } from '@wharf/types';
import { Keys } from '../state/keys.js';

/** admin: the platform's bootstrap admin token; agent: the hosts' join token; user: a user's login session or API token. */
export type Role = 'admin' | 'agent' | 'user';

export interface TokenRecord {
  role: Role;
  name: string;
  createdAt: string;
  /** The user a `user` token acts for. */
  user?: string;
  /** Scope: only this tenant, with at most `tenantRole` there. */
  tenant?: string;
  tenantRole?: TenantRole;
  expiresAt?: string;
  /** Made by a login (ends with it) rather than `wharf token create`. */
  session?: boolean;
}

/** The public handle of a token: the start of its hash (the hash itself is the store key). */
export function tokenId(hash: string): string {
  return hash.slice(0, 16);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(kind: 'adm' | 'join' | 'usr' | 'ses'): string {
  return `wharf_${kind}_${randomBytes(24).toString('base64url')}`;
}

export async function lookupToken(store: Store, token: string): Promise<TokenRecord | undefined> {
  return lookupTokenHash(store, hashToken(token));
}

/** The record of the token with this SHA-256, unless unknown or expired. */
export async function lookupTokenHash(store: Store, hash: string): Promise<TokenRecord | undefined> {
  const kv = await store.get<TokenRecord>(Keys.token(hash));
  // The key is the hash, so a hit is already an exact match; compare anyway in constant time.
  if (!kv || !timingSafeEqual(Buffer.from(hash), Buffer.from(kv.key.slice(Keys.token('').length)))) return undefined;
  if (kv.value.expiresAt !== undefined && Date.parse(kv.value.expiresAt) <= Date.now()) return undefined;
  return kv.value;
}

async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure the admin and join tokens exist: reuses the files in `dataDir` when
 * the store knows them, otherwise creates new ones. Running it twice is a no-op.
 */
export async function bootstrapTokens(store: Store, dataDir: string): Promise<{ admin: string; join: string }> {
  const ensure = async (file: string, kind: 'adm' | 'join', role: Role): Promise<string> => {
    const path = join(dataDir, file);
    const existing = await readTokenFile(path);
    if (existing && (await lookupToken(store, existing))?.role === role) return existing;
    const token = existing ?? newToken(kind);
    await store.put(Keys.token(hashToken(token)), { role, name: `bootstrap-${role}`, createdAt: new Date().toISOString() } satisfies TokenRecord);
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    return token;
  };
  return { admin: await ensure('admin.token', 'adm', 'admin'), join: await ensure('join.token', 'join', 'agent') };
}
