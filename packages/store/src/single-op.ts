/** put() and delete() as one-op transactions, for backends whose txn() does all the writing. */
import type { Compare, Op, TxnResult } from './store.js';

export abstract class TxnWrites {
  abstract txn(compares: Compare[], ops: Op[]): Promise<TxnResult>;

  /** Unconditional put; returns the new revision. */
  async put(key: string, value: unknown): Promise<number> {
    return (await this.txn([], [{ type: 'put', key, value }])).revision;
  }

  /** Unconditional delete; returns the new revision (unchanged if the key did not exist). */
  async delete(key: string): Promise<number> {
    return (await this.txn([], [{ type: 'delete', key }])).revision;
  }
}
