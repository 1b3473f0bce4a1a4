/**
 * Who asks the token service: Basic credentials whose password is a Wharf token (any
 * user name, as `docker login` sends it), a bearer Wharf token, or nobody.
 */
import { WharfError } from '@wharf/types';
import type { Store } from '@wharf/store';
import { lookupToken } from '../auth/tokens.js';
import type { RegistryPrincipal } from './access.js';

function secretOf(authorization: string): string | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon < 0 ? undefined : text.slice(colon + 1);
  }
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
}

/** Anonymous without credentials; UNAUTHORIZED for credentials that are not a valid token. */
export async function registryPrincipal(store: Store, authorization: string | undefined): Promise<RegistryPrincipal> {
  if (!authorization) return { kind: 'anonymous' };
  const secret = secretOf(authorization);
  if (!secret) throw new WharfError('UNAUTHORIZED', 'the Authorization header is not Basic credentials (any user name, a Wharf token as the password)');
  const rec = await lookupToken(store, secret);
  if (!rec) throw new WharfError('UNAUTHORIZED', 'the password is not a valid Wharf token');
  return rec.role === 'admin' ? { kind: 'admin', subject: rec.name } : { kind: 'host', subject: rec.name };
}
