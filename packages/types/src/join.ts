/**
 * Hosts joining with one-use tokens: the wire shapes of /v1/join-tokens and of the
 * answer to POST /v1/join.
 */
import { Type, type Static } from '@sinclair/typebox';

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
