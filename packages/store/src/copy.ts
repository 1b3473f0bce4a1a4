/**
 * Copies every key of one store into another (`wharf admin migrate`): one
 * listing of the source (a consistent snapshot), then transactions of at most
 * BATCH_OPS ops and about BATCH_BYTES of values, which fit etcd's default
 * limits (128 ops, 1.5 MiB per request). Values are copied as they are;
 * revisions are the target's own.
 */
import { encodeValue } from './json.js';
import type { Op, Store } from './store.js';

const BATCH_OPS = 100;
const BATCH_BYTES = 1024 * 1024;

export interface CopyOptions {
  /** Copy even when the target holds keys; those the source lacks are deleted, so the target ends up equal. */
  force?: boolean;
  /** After each batch: keys written so far (deletes included) and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface CopyResult {
  /** Keys copied. */
  copied: number;
  /** Keys of the target the source does not have, deleted (only with force). */
  deleted: number;
  /** The source's revision the copy reflects. */
  sourceRevision: number;
  /** The target's revision after the copy. */
  targetRevision: number;
}

/** Thrown by copyStore when the target holds keys and force is not set. */
export class TargetNotEmptyError extends Error {
  constructor(readonly keys: number) {
    super(`the target already holds ${keys} key${keys === 1 ? '' : 's'}`);
    this.name = 'TargetNotEmptyError';
  }
}

export async function copyStore(from: Store, to: Store, opts: CopyOptions = {}): Promise<CopyResult> {
  const source = await from.list('');
  const existing = await to.list('');
  if (existing.items.length > 0 && !opts.force) throw new TargetNotEmptyError(existing.items.length);
  const copied = new Set(source.items.map((kv) => kv.key));
  const ops: Op[] = [
    ...existing.items.filter((kv) => !copied.has(kv.key)).map((kv): Op => ({ type: 'delete', key: kv.key })),
    ...source.items.map((kv): Op => ({ type: 'put', key: kv.key, value: kv.value })),
  ];
  let done = 0;
  let targetRevision = existing.revision;
  let batch: Op[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    targetRevision = (await to.txn([], batch)).revision;
    done += batch.length;
    batch = [];
    bytes = 0;
    opts.onProgress?.(done, ops.length);
  };
  for (const op of ops) {
    const size = op.key.length + (op.type === 'put' ? encodeValue(op.value).length : 0);
    if (batch.length >= BATCH_OPS || (batch.length > 0 && bytes + size > BATCH_BYTES)) await flush();
    batch.push(op);
    bytes += size;
  }
  await flush();
  return { copied: source.items.length, deleted: ops.length - source.items.length, sourceRevision: source.revision, targetRevision };
}
