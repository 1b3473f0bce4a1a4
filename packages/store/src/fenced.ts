/**
 * A leader's view of a store (Campaign.fenced): reads and watches are the store's own,
 * and every write goes through `write`, which the backend makes conditional on the
 * leadership still being held.
 */
import { TxnWrites } from './single-op.js';
import type { Campaign, Compare, KeyValue, ListResult, Op, Store, TxnResult, WatchEvent, WatchOptions, Watcher } from './store.js';

export class FencedStore extends TxnWrites implements Store {
  constructor(
    private readonly store: Store,
    private readonly write: (compares: Compare[], ops: Op[]) => Promise<TxnResult>,
  ) {
    super();
  }

  get<T = unknown>(key: string): Promise<KeyValue<T> | undefined> {
    return this.store.get<T>(key);
  }

  list<T = unknown>(prefix: string): Promise<ListResult<T>> {
    return this.store.list<T>(prefix);
  }

  txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    return this.write(compares, ops);
  }

  revision(): Promise<number> {
    return this.store.revision();
  }

  watch<T = unknown>(prefix: string, onEvent: (ev: WatchEvent<T>) => void, opts?: WatchOptions): Promise<Watcher> {
    return this.store.watch<T>(prefix, onEvent, opts);
  }

  campaign(name: string, candidate: string, ttlSeconds: number): Campaign {
    return this.store.campaign(name, candidate, ttlSeconds);
  }

  leader(name: string): Promise<string | undefined> {
    return this.store.leader(name);
  }

  /** Closes nothing: the store belongs to whoever opened it. */
  async close(): Promise<void> {}
}
