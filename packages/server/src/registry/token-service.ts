/**
 * The registry's token issuer (Docker's registry token specification): for a caller and
 * the scopes it asks, a JWT granting the allowed part of each, signed ES256 with the
 * token key, whose libtrust ID is the header's `kid` (Distribution finds the key by it
 * in its rootcertbundle).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { RegistryToken } from '@wharf/types';
import { grantedActions, type RegistryPrincipal, type RepositoryFacts } from './access.js';
import { signJwtEs256 } from './jwt.js';
import type { ResourceScope } from './scope.js';

export interface TokenServiceOptions {
  /** The `service` the registry names in its challenge: the token's audience. */
  service: string;
  /** The token's `iss`, as the registry's auth.token.issuer. */
  issuer: string;
  key: KeyObject;
  keyId: string;
  /** Default 300. */
  ttlSeconds?: number;
  now?: () => number;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: { type: string; name: string; actions: string[] }[];
}

export class RegistryTokenService {
  constructor(private readonly opts: TokenServiceOptions) {}

  get service(): string {
    return this.opts.service;
  }

  /** `facts` tells what the registry knows of a repository (asked only for repository scopes). */
  async issue(who: RegistryPrincipal, scopes: ResourceScope[], facts: (repository: string) => Promise<RepositoryFacts>): Promise<RegistryToken> {
    const access: TokenClaims['access'] = [];
    for (const s of scopes) {
      const repo = s.type === 'repository' ? await facts(s.name) : { public: false };
      const actions = grantedActions(who, s, repo);
      if (actions.length > 0) access.push({ type: s.type, name: s.name, actions });
    }
    const now = Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
    const ttl = this.opts.ttlSeconds ?? 300;
    const claims: TokenClaims = {
      iss: this.opts.issuer,
      sub: who.kind === 'anonymous' ? '' : who.subject,
      aud: this.opts.service,
      exp: now + ttl,
      // A little before now: the registry's clock may be behind ours.
      nbf: now - 10,
      iat: now,
      jti: randomBytes(16).toString('base64url'),
      access,
    };
    const token = signJwtEs256({ typ: 'JWT', kid: this.opts.keyId }, { ...claims }, this.opts.key);
    return { token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() };
  }
}
