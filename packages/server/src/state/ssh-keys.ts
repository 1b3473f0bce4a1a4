/**
 * Users' SSH public keys in the store. A key belongs to one user: an owner record per
 * key, written in the same transaction as the user's key record, is what the SSH
 * gateway looks a presented key up by.
 *
 *   /ssh-keys/<user>/<name>       SshKeyRecord
 *   /ssh-key-owners/<sha256 hex>  { user, name }
 */
import type { Op, Store } from '@wharf/store';
import { WharfError, type SshKey } from '@wharf/types';
import { parsePublicKey } from '../ssh/public-key.js';
import { Keys } from './keys.js';

export interface SshKeyRecord {
  /** `TYPE BASE64`. */
  publicKey: string;
  type: string;
  fingerprint: string;
  comment?: string;
  addedAt: string;
}

interface KeyOwner {
  user: string;
  name: string;
}

export function sshKeyView(user: string, name: string, r: SshKeyRecord): SshKey {
  return { name, type: r.type, fingerprint: r.fingerprint, ...(r.comment ? { comment: r.comment } : {}), user, addedAt: r.addedAt };
}

/** Registers `publicKey` as the user's key `name`; 409 SSH_KEY_EXISTS for a taken name or a key registered already (by anyone). */
export async function addSshKey(store: Store, user: string, name: string, publicKey: string, now = new Date()): Promise<SshKey> {
  const key = parsePublicKey(publicKey);
  const record: SshKeyRecord = { publicKey: key.line, type: key.type, fingerprint: key.fingerprint, ...(key.comment ? { comment: key.comment } : {}), addedAt: now.toISOString() };
  const recordKey = Keys.sshKey(user, name);
  const ownerKey = Keys.sshKeyOwner(key.id);
  for (let attempt = 0; attempt < 5; attempt++) {
    const owner = await store.get(Keys.user(user));
    if (!owner) throw new WharfError('USER_NOT_FOUND', `no user "${user}"`);
    // The user's record is compared and rewritten, so a user deleted meanwhile leaves no key behind
    // (the deletion compares the record's revision as well).
    const r = await store.txn(
      [{ key: owner.key, modRevision: owner.modRevision }, { key: recordKey, absent: true }, { key: ownerKey, absent: true }],
      [{ type: 'put', key: recordKey, value: record }, { type: 'put', key: ownerKey, value: { user, name } satisfies KeyOwner }, { type: 'put', key: owner.key, value: owner.value }],
    );
    if (r.succeeded) return sshKeyView(user, name, record);
    if (await store.get(recordKey)) throw new WharfError('SSH_KEY_EXISTS', `you have an SSH key named "${name}" already; pick another name or remove that one first`);
    const holder = (await store.get<KeyOwner>(ownerKey))?.value;
    if (holder) {
      throw new WharfError('SSH_KEY_EXISTS', holder.user === user
        ? `this key (${key.fingerprint}) is registered already, as your key "${holder.name}"`
        : `this key (${key.fingerprint}) is registered to another user; a key can belong to one user only`);
    }
  }
  throw new WharfError('CONFLICT', `user "${user}" kept changing; try again`);
}

export async function listSshKeys(store: Store, user: string): Promise<SshKey[]> {
  const prefix = Keys.userSshKeys(user);
  const { items } = await store.list<SshKeyRecord>(prefix);
  return items.map((kv) => sshKeyView(user, kv.key.slice(prefix.length), kv.value));
}

export async function deleteSshKey(store: Store, user: string, name: string): Promise<SshKey> {
  const kv = await store.get<SshKeyRecord>(Keys.sshKey(user, name));
  if (!kv) throw new WharfError('SSH_KEY_NOT_FOUND', `no SSH key "${name}" of user "${user}"`);
  const ownerKey = Keys.sshKeyOwner(parsePublicKey(kv.value.publicKey).id);
  await store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }, { type: 'delete', key: ownerKey }]);
  return sshKeyView(user, name, kv.value);
}

/** The operations that remove every key of a user (for deleting the user in one transaction). */
export async function sshKeyDeletes(store: Store, user: string): Promise<Op[]> {
  const prefix = Keys.userSshKeys(user);
  const { items } = await store.list<SshKeyRecord>(prefix);
  return items.flatMap((kv) => [
    { type: 'delete' as const, key: kv.key },
    { type: 'delete' as const, key: Keys.sshKeyOwner(parsePublicKey(kv.value.publicKey).id) },
  ]);
}

/** Whose key a presented blob is, or undefined. */
export async function findSshKey(store: Store, id: string): Promise<{ user: string; name: string; record: SshKeyRecord } | undefined> {
  const owner = (await store.get<KeyOwner>(Keys.sshKeyOwner(id)))?.value;
  if (!owner) return undefined;
  const record = (await store.get<SshKeyRecord>(Keys.sshKey(owner.user, owner.name)))?.value;
  return record ? { ...owner, record } : undefined;
}
