/**
 * Hosts joining with one-use tokens: the wire shapes of /v1/join-tokens and of the
 * answer to POST /v1/join, the token's form, and the subject organisations the
 * cluster CA gives (which server and agent both check).
 */
import { Type, type Static } from '@sinclair/typebox';

/** The subject organisation of host certificates: the server takes a host's identity only from these. */
export const HOST_ORG = 'wharf-hosts';
/** The subject organisation of servers' certificates: agents take calls only from these. */
export const SERVER_ORG = 'wharf-servers';
export const JOIN_TOKEN_PREFIX = 'wharf_hjt_';

/** `wharf_hjt_<secret>.<CA SHA-256 hex>` → the pinned CA fingerprint; undefined for any other token (the shared join token). */
export function pinnedCa(token: string): string | undefined {
  if (!token.startsWith(JOIN_TOKEN_PREFIX)) return undefined;
  return /\.([0-9a-f]{64})$/.exec(token)?.[1];
}

/** A join token as listed: never the token itself, which only the create answer holds. */
export const JoinToken = Type.Object({
  id: Type.String({ description: 'The public handle (start of the hash), for revoke' }),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  createdBy: Type.String(),
  usedAt: Type.Optional(Type.String()),
  usedBy: Type.Optional(Type.String({ description: 'The host that joined with it' })),
});
export type JoinToken = Static<typeof JoinToken>;

export const JoinTokenCreated = Type.Intersect([JoinToken, Type.Object({
  token: Type.String({ description: 'The token, shown only here: wharf-agent --join-token TOKEN' }),
  caFingerprint: Type.String({ description: 'SHA-256 of the cluster CA (also the end of the token)' }),
})]);
export type JoinTokenCreated = Static<typeof JoinTokenCreated>;

export const JoinAnswer = Type.Object({
  certificate: Type.String({ description: 'The host\'s certificate (PEM), for client and server use' }),
  ca: Type.String({ description: 'The cluster CA (PEM)' }),
  expiresAt: Type.String(),
  registrySecret: Type.String({
    description: 'The host\'s credential for pulls from the platform registry (user name: the host name), shown only here; a re-join replaces it',
  }),
});
export type JoinAnswer = Static<typeof JoinAnswer>;

export const RevokedCertificate = Type.Object({
  host: Type.String(),
  fingerprint: Type.String({ description: 'SHA-256 of the certificate (lowercase hex)' }),
  expiresAt: Type.String({ description: 'Until then agents refuse it; after, it is dropped from the list' }),
  revokedAt: Type.String(),
  why: Type.Union([Type.Literal('removed'), Type.Literal('revoked'), Type.Literal('replaced')], {
    description: 'removed: the host was; revoked: by an admin; replaced: by a re-join or a renewal',
  }),
});
export type RevokedCertificate = Static<typeof RevokedCertificate>;

export const HostRemoved = Type.Object({
  name: Type.String(),
  revokedCertificate: Type.Optional(RevokedCertificate),
});
export type HostRemoved = Static<typeof HostRemoved>;

/** A joined host's new certificate, for the key it sent to `POST /v1/join/renew`; its registry secret stays. */
export const RenewAnswer = Type.Object({
  certificate: Type.String({ description: 'The host\'s new certificate (PEM): same name and addresses' }),
  ca: Type.String({ description: 'The cluster CA (PEM)' }),
  expiresAt: Type.String(),
});
export type RenewAnswer = Static<typeof RenewAnswer>;
