/** Users' SSH public keys for the SSH gateway: the wire shapes of /v1/me/ssh-keys. */
import { Type, type Static } from '@sinclair/typebox';
import { NAME_PATTERN } from './patterns.js';

/** Longest OpenSSH public key line taken (an RSA 16384-bit key with a long comment fits). */
export const SSH_PUBLIC_KEY_MAX = 8192;

export const SshKeyCreate = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN, description: 'A name to tell the key apart, e.g. laptop' }),
  publicKey: Type.String({ minLength: 1, maxLength: SSH_PUBLIC_KEY_MAX, description: 'One line in OpenSSH format, as in ~/.ssh/id_ed25519.pub: TYPE BASE64 [COMMENT]' }),
}, { additionalProperties: false });
export type SshKeyCreate = Static<typeof SshKeyCreate>;

export const SshKey = Type.Object({
  name: Type.String(),
  /** The key's algorithm, e.g. ssh-ed25519. */
  type: Type.String(),
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: Type.String(),
  comment: Type.Optional(Type.String()),
  /** Whose key it is. */
  user: Type.String(),
  addedAt: Type.String(),
});
export type SshKey = Static<typeof SshKey>;

/** The port wharf-server's SSH gateway listens on unless told otherwise. */
export const DEFAULT_SSH_PORT = 2222;
