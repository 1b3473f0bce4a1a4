/**
 * A joined host's registry credential: a secret made at each join, returned in the
 * join answer only, kept hashed in the host's certificate record. The agent gives it
 * to dockerd as the password (user: the host name) for pulls from the platform
 * registry, where it counts as that host: pull only, like the shared join token. A
 * re-join replaces it with the certificate; removing the record revokes both.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '@wharf/store';
import { WharfError } from '@wharf/types';
import { hashToken } from '../auth/tokens.js';
import { hostCert } from './join-tokens.js';

export const REGISTRY_SECRET_PREFIX = 'wharf_hrs_';

/** A new secret and the hash the store keeps. */
export function newRegistrySecret(): { secret: string; hash: string } {
  const secret = `${REGISTRY_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashToken(secret) };
}

export function isRegistrySecret(secret: string): boolean {
  return secret.startsWith(REGISTRY_SECRET_PREFIX);
}

/** The host `user` names when `secret` is its current registry secret; 401 otherwise. */
export async function registrySecretHost(store: Store, user: string | undefined, secret: string): Promise<string> {
  const refused = () => new WharfError('UNAUTHORIZED', `the password is not the current registry secret of host ${user ?? '(no user name)'}: the user name must be the host's name; a re-join replaces the secret`);
  if (!user) throw refused();
  const kept = (await hostCert(store, user))?.registrySecret;
  if (!kept) throw refused();
  const a = Buffer.from(kept, 'hex');
  const b = Buffer.from(hashToken(secret), 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw refused();
  return user;
}
