/**
 * Who asks the token service: Basic credentials (`docker login`) whose password is a
 * Wharf token (any user name), a joined host's registry secret (user: the host name)
 * or the user's own password, a bearer Wharf token, or nobody.
 */
import { WharfError } from '@wharf/types';
import type { Store } from '@wharf/store';
import type { LoginLimiter } from '../auth/login-limiter.js';
import { checkPassword } from '../auth/passwords.js';
import { principalOf } from '../auth/principal.js';
import { isRegistrySecret, registrySecretHost } from '../tls/registry-secret.js';
import type { RegistryPrincipal } from './access.js';

function credentialsOf(authorization: string): { user?: string; secret: string } | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon < 0 ? undefined : { user: text.slice(0, colon), secret: text.slice(colon + 1) };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  return bearer === undefined ? undefined : { secret: bearer };
}

/** Wharf tokens all start so; anything else in a password is a user's password. */
const TOKEN_PREFIX = 'wharf_';

/** Anonymous without credentials; UNAUTHORIZED for credentials that are neither a valid token nor a user's password. */
export async function registryPrincipal(store: Store, authorization: string | undefined, passwords?: { limiter: LoginLimiter; address: string }): Promise<RegistryPrincipal> {
  if (!authorization) return { kind: 'anonymous' };
  const creds = credentialsOf(authorization);
  if (!creds) throw new WharfError('UNAUTHORIZED', 'the Authorization header is not Basic credentials (a user and its password, or any user name and a Wharf token)');
  if (!creds.secret.startsWith(TOKEN_PREFIX) && creds.user && passwords) {
    const user = await checkPassword(store, passwords.limiter, passwords.address, creds.user, creds.secret);
    return user.platformAdmin ? { kind: 'admin', subject: creds.user } : { kind: 'user', subject: creds.user, roles: user.roles };
  }
  if (isRegistrySecret(creds.secret)) return { kind: 'host', subject: await registrySecretHost(store, creds.user, creds.secret) };
  const who = await principalOf(store, creds.secret);
  if (!who) throw new WharfError('UNAUTHORIZED', 'the password is not a valid Wharf token');
  if (who.platformAdmin) return { kind: 'admin', subject: who.name };
  return who.kind === 'agent' ? { kind: 'host', subject: who.name } : { kind: 'user', subject: who.name, roles: who.roles };
}
