/**
 * One-use join tokens: a platform admin makes one per host to join; the host's agent
 * spends it at `POST /v1/join` for a certificate. Only the token's SHA-256 is stored
 * (`/auth/join-tokens/<sha256>`); spending it is one compare-and-swap on that record,
 * so of two joins with the same token exactly one wins.
 *
 * The token ends with `.<SHA-256 of the cluster CA>`: the agent checks the server it
 * joins presents that CA before it sends the token.
 */
import { randomBytes } from 'node:crypto';
import type { Compare, Op, Store } from '@wharf/store';
import { JOIN_TOKEN_PREFIX, WharfError, type JoinToken, type RevokedCertificate } from '@wharf/types';
import { hashToken, tokenId } from '../auth/tokens.js';
import { Keys } from '../state/keys.js';

const PREFIX = '/auth/join-tokens/';
export const DEFAULT_JOIN_TTL_SECONDS = 3600;
export const MAX_JOIN_TTL_SECONDS = 7 * 86_400;
/** Used and expired tokens stay listed this long, then are dropped. */
const KEEP_SPENT_MS = 86_400_000;

/** As stored and as listed: `usedAt`/`usedBy` are set when a host joined with it. */
export type JoinTokenRecord = JoinToken;

/** The certificate a joined host holds now; a certificate that is not this one is refused. */
export interface HostCertRecord {
  fingerprint: string;
  issuedAt: string;
  expiresAt: string;
  /** The join token it was issued for. */
  joinToken: string;
  /** SHA-256 of the host's registry secret (registry-secret.ts), made with the certificate. */
  registrySecret?: string;
}

export async function createJoinToken(store: Store, opts: { caFingerprint: string; ttlSeconds: number; createdBy: string; now?: number }): Promise<{ token: string; record: JoinTokenRecord }> {
  const now = opts.now ?? Date.now();
  const token = `${JOIN_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}.${opts.caFingerprint}`;
  const hash = hashToken(token);
  const record: JoinTokenRecord = { id: tokenId(hash), createdAt: new Date(now).toISOString(), expiresAt: new Date(now + opts.ttlSeconds * 1000).toISOString(), createdBy: opts.createdBy };
  await store.put(PREFIX + hash, record);
  return { token, record };
}

/** Every join token, newest first; those used or expired for more than a day are dropped on the way. */
export async function listJoinTokens(store: Store, now = Date.now()): Promise<JoinTokenRecord[]> {
  const { items } = await store.list<JoinTokenRecord>(PREFIX);
  const kept: JoinTokenRecord[] = [];
  for (const kv of items) {
    const spent = Math.min(Date.parse(kv.value.expiresAt), kv.value.usedAt ? Date.parse(kv.value.usedAt) : Infinity);
    if (now - spent > KEEP_SPENT_MS) await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }]);
    else kept.push(kv.value);
  }
  return kept.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Deletes the token with this ID; false when there is none. */
export async function revokeJoinToken(store: Store, id: string): Promise<boolean> {
  if (!/^[0-9a-f]{16}$/.test(id)) return false;
  const { items } = await store.list<JoinTokenRecord>(PREFIX + id);
  for (const kv of items) await store.delete(kv.key);
  return items.length > 0;
}

/**
 * Spends `token` for host `host`: 401 when it is unknown (mistyped, revoked) or expired,
 * 409 when it was used already, including by a join that won the race for it.
 */
export async function consumeJoinToken(store: Store, token: string, host: string, now = Date.now()): Promise<JoinTokenRecord> {
  const key = PREFIX + hashToken(token);
  const kv = await store.get<JoinTokenRecord>(key);
  if (!kv) throw new WharfError('UNAUTHORIZED', 'the join token is not known (mistyped, revoked, or long expired); make one with "wharf host join-token create"');
  const used = (r: JoinTokenRecord) => new WharfError('CONFLICT', `the join token ${r.id} was used already, by host ${r.usedBy ?? '?'} at ${r.usedAt ?? '?'}; a join token works once: make a new one with "wharf host join-token create"`);
  if (kv.value.usedAt) throw used(kv.value);
  if (Date.parse(kv.value.expiresAt) <= now) throw new WharfError('UNAUTHORIZED', `the join token ${kv.value.id} expired at ${kv.value.expiresAt}; make a new one with "wharf host join-token create"`);
  const spent: JoinTokenRecord = { ...kv.value, usedAt: new Date(now).toISOString(), usedBy: host };
  if ((await store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'put', key, value: spent }])).succeeded) return spent;
  const after = await store.get<JoinTokenRecord>(key);
  if (!after) throw new WharfError('UNAUTHORIZED', `the join token ${kv.value.id} was revoked`);
  throw used(after.value);
}

/** The op that puts `cert` of `host` on the revoked list. */
function revokeOp(host: string, cert: HostCertRecord, why: RevokedCertificate['why'], now: number): Op & { value: RevokedCertificate } {
  const value: RevokedCertificate = { host, fingerprint: cert.fingerprint, expiresAt: cert.expiresAt, revokedAt: new Date(now).toISOString(), why };
  return { type: 'put', key: Keys.revokedCert(cert.fingerprint), value };
}

/**
 * What revoking `host`'s certificate takes, to commit alone or with other writes: a
 * compare on its record as read now, its deletion and its entry on the revoked list.
 */
export async function revocation(store: Store, host: string, why: RevokedCertificate['why'], now = Date.now()): Promise<{ revoked?: RevokedCertificate; compares: Compare[]; ops: Op[] }> {
  const key = Keys.hostCert(host);
  const kv = await store.get<HostCertRecord>(key);
  if (!kv) return { compares: [{ key, absent: true }], ops: [] };
  const put = revokeOp(host, kv.value, why, now);
  return { revoked: put.value, compares: [{ key, modRevision: kv.modRevision }], ops: [{ type: 'delete', key }, put] };
}

/**
 * Records `cert` as the one `host` holds; the certificate it held before (a re-join, a
 * renewal) goes on the revoked list in the same commit. With `replacing`, only if that
 * is still the host's certificate (false otherwise: another join or renewal won).
 */
export async function recordHostCert(store: Store, host: string, cert: HostCertRecord, opts: { replacing?: string; now?: number } = {}): Promise<boolean> {
  const key = Keys.hostCert(host);
  for (let attempt = 0; attempt < 10; attempt++) {
    const kv = await store.get<HostCertRecord>(key);
    if (opts.replacing !== undefined && kv?.value.fingerprint !== opts.replacing) return false;
    const old = kv && kv.value.fingerprint !== cert.fingerprint ? [revokeOp(host, kv.value, 'replaced', opts.now ?? Date.now())] : [];
    const cmp = kv ? { key, modRevision: kv.modRevision } : { key, absent: true as const };
    if ((await store.txn([cmp], [{ type: 'put', key, value: cert }, ...old])).succeeded) return true;
  }
  throw new WharfError('CONFLICT', `host ${host}'s certificate is changing too often; try again`);
}

export async function hostCert(store: Store, host: string): Promise<HostCertRecord | undefined> {
  return (await store.get<HostCertRecord>(Keys.hostCert(host)))?.value;
}

/**
 * Revokes the certificate `host` holds: its record goes (so the server refuses it and
 * its registry secret) and its fingerprint goes on the revoked list (so agents refuse
 * it). Undefined when the host holds none.
 */
export async function revokeHostCert(store: Store, host: string, why: RevokedCertificate['why'], now = Date.now()): Promise<RevokedCertificate | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await revocation(store, host, why, now);
    if (!r.revoked) return undefined;
    if ((await store.txn(r.compares, r.ops)).succeeded) return r.revoked;
  }
  throw new WharfError('CONFLICT', `host ${host}'s certificate is changing too often; try again`);
}

/** Fingerprints of revoked certificates that have not expired; the expired ones are dropped on the way. */
export async function revokedCertificates(store: Store, now = Date.now()): Promise<string[]> {
  const { items } = await store.list<RevokedCertificate>(Keys.revokedCertsPrefix);
  const live: string[] = [];
  for (const kv of items) {
    if (Date.parse(kv.value.expiresAt) > now) live.push(kv.value.fingerprint);
    else await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }]);
  }
  return live;
}
