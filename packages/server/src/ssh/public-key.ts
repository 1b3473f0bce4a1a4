/**
 * Users' SSH public keys: one OpenSSH line (`TYPE BASE64 [COMMENT]`) parsed and checked
 * with ssh2's key parser, and the fingerprint OpenSSH prints (`ssh-keygen -l`).
 */
import { createHash, createPublicKey } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { WharfError } from '@wharf/types';

const { utils } = ssh2;

/** What a user may register: the algorithms OpenSSH makes keys with (DSA is gone from it). */
const ACCEPTED_TYPES = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);
const MIN_RSA_BITS = 2048;
const EXAMPLE = 'one line like "ssh-ed25519 AAAA… you@laptop", as in ~/.ssh/id_ed25519.pub';

export interface PublicKey {
  type: string;
  /** The key's wire blob (what a client presents when it authenticates). */
  blob: Buffer;
  /** `TYPE BASE64`, without the comment. */
  line: string;
  comment?: string;
  fingerprint: string;
  /** SHA-256 of the blob in hex: the key's ID in the store. */
  id: string;
}

/** `SHA256:<base64 without padding>` of a key blob, like `ssh-keygen -l`. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function keyIdOf(blob: Buffer): string {
  return createHash('sha256').update(blob).digest('hex');
}

const invalid = (message: string) => WharfError.validation([{ path: 'publicKey', message }]);

/** Throws VALIDATION_FAILED (path `publicKey`) for private keys, garbage, several keys, certificates and weak types. */
export function parsePublicKey(text: string): PublicKey {
  // The message never quotes the input: it may be a private key pasted by mistake.
  if (/PRIVATE KEY/.test(text)) throw invalid('is a private key; send the public one (the .pub file, e.g. ~/.ssh/id_ed25519.pub), and keep the private key to yourself');
  const line = text.trim();
  if (line.includes('\n')) throw invalid(`must be one key: ${EXAMPLE}`);
  const first = line.split(/\s+/)[0] ?? '';
  if (first.includes('-cert-')) throw invalid('is a certificate; Wharf takes plain public keys (the .pub file without -cert)');
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error || Array.isArray(parsed)) throw invalid(`is not an OpenSSH public key: expected ${EXAMPLE}`);
  if (parsed.isPrivateKey()) throw invalid('is a private key; send the public one (the .pub file)');
  if (!ACCEPTED_TYPES.has(parsed.type)) throw invalid(`is a ${parsed.type} key; use ed25519 (ssh-keygen -t ed25519), ECDSA or RSA of at least ${MIN_RSA_BITS} bits`);
  if (parsed.type === 'ssh-rsa') {
    const bits = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw invalid(`is a ${bits}-bit RSA key; RSA keys need at least ${MIN_RSA_BITS} bits (or use ssh-keygen -t ed25519)`);
  }
  const blob = parsed.getPublicSSH();
  return {
    type: parsed.type,
    blob,
    line: `${parsed.type} ${blob.toString('base64')}`,
    ...(parsed.comment ? { comment: parsed.comment } : {}),
    fingerprint: fingerprintOf(blob),
    id: keyIdOf(blob),
  };
}

/** The stored line parsed back, for verifying signatures. */
export function loadPublicKey(line: string): ParsedKey {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error(`a stored SSH key does not parse: ${parsed instanceof Error ? parsed.message : 'several keys'}`);
  return parsed;
}
