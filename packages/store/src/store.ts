/**
 * The Store: a key-value space with a global revision counter, compare-and-swap
 * transactions and watches that resume from a revision. It is shaped after etcd's
 * v3 API so that SQLite (embedded default) and etcd (HA) back the same interface
 * and pass the same contract tests (see contract.ts).
 */

/** One stored key. Values are JSON-serialisable objects. */
export interface KeyValue<T = unknown> {
  key: string;
  value: T;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last change to the key. */
  modRevision: number;
  /** Number of changes since creation, starting at 1. */
  version: number;
}

/** A condition of a transaction; all must hold for the writes to apply. */
export type Compare =
  /** The key's modRevision equals `modRevision` (0 means: the key does not exist). */
  | { key: string; modRevision: number }
  /** The key does not exist. */
  | { key: string; absent: true };

export type Op =
  | { type: 'put'; key: string; value: unknown }
  | { type: 'delete'; key: string };

export interface TxnResult {
  /** True when every compare held and the ops were applied. */
  succeeded: boolean;
  /** The store's revision after the txn (unchanged when it failed). */
  revision: number;
}

export interface ListResult<T = unknown> {
  items: KeyValue<T>[];
  /** The store revision the listing reflects; watch from revision + 1 to continue. */
  revision: number;
}

export interface WatchEvent<T = unknown> {
  type: 'put' | 'delete';
  /** For delete: the key with the value it had before deletion, modRevision = the delete's revision. */
  kv: KeyValue<T>;
  revision: number;
}

export interface WatchOptions {
  /** Deliver every event with revision >= fromRevision (history first, then live). Default: live only. */
  fromRevision?: number;
  /**
   * Called at most once if the watch ends by itself, which only a networked
   * backend does: after a disconnect, the revision to resume from had been
   * compacted (a CompactedError). Events may have been missed; list again and
   * watch from the listed revision + 1. Default: the store logs it.
   */
  onError?: (err: Error) => void;
}

export interface Watcher {
  cancel(): void;
}

/** Thrown by watch() when fromRevision is older than the history the store keeps. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compactRevision: number,
  ) {
    super(`revision ${requested} has been compacted; oldest available is ${compactRevision}`);
    this.name = 'CompactedError';
  }
}

/**
 * Thrown by a call that could not be served because the store cannot be reached
 * or does not answer in time (etcd: no member answered, or the cluster had no
 * quorum, for the whole request timeout). Nothing is wrong with the request: try
 * again later. A write that failed so may still have been applied.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Thrown by a write through a campaign's fenced store (Campaign.fenced) once that
 * campaign no longer leads: its lease ran out or was revoked, and another candidate
 * may lead already. The write was not applied.
 */
export class LeadershipLostError extends Error {
  constructor(readonly leadership: string) {
    super(`no longer the leader of '${leadership}': the write was not applied`);
    this.name = 'LeadershipLostError';
  }
}

/**
 * One candidate's campaign for a named leadership (see Store.campaign). At most one
 * candidate of a name leads at a time, on every process sharing the store.
 */
export interface Campaign {
  /** Resolves once this candidate leads (never, while another one does). */
  readonly elected: Promise<void>;
  /** Called at most once, when leadership won is lost (the lease expired, the store was unreachable too long). */
  onLost(listener: (err: Error) => void): void;
  /** Gives the leadership up, or stops waiting for it. */
  resign(): Promise<void>;
  /**
   * The store as this leader writes it (only once `elected` has resolved). Every write
   * (txn, put, delete) applies only if this campaign still leads, checked by the store in
   * the same transaction: a leader whose lease ran out before it noticed (a long pause, a
   * partition) cannot act beside its successor. Such a write rejects with
   * LeadershipLostError and onLost is called. Reads and watches are the store's own.
   */
  fenced(): Store;
}

export interface Store {
  get<T = unknown>(key: string): Promise<KeyValue<T> | undefined>;
  /** Every key that starts with `prefix`, sorted by key. */
  list<T = unknown>(prefix: string): Promise<ListResult<T>>;
  /** Atomically: if every compare holds, apply every op in order, all at one new revision. */
  txn(compares: Compare[], ops: Op[]): Promise<TxnResult>;
  /** Unconditional put; returns the new revision. */
  put(key: string, value: unknown): Promise<number>;
  /** Unconditional delete; returns the new revision (unchanged if the key did not exist). */
  delete(key: string): Promise<number>;
  /** Current revision of the whole store. */
  revision(): Promise<number>;
  /**
   * Calls `onEvent` for every change under `prefix`, in revision order, each exactly once.
   * Throws CompactedError synchronously-or-rejected when fromRevision is no longer kept.
   */
  watch<T = unknown>(
    prefix: string,
    onEvent: (ev: WatchEvent<T>) => void,
    opts?: WatchOptions,
  ): Promise<Watcher>;
  /**
   * Campaigns for the leadership `name` as `candidate` (a name saying who it is). On
   * etcd it is held through a lease of `ttlSeconds`: a leader that dies without
   * resigning is replaced once its lease runs out. SQLite has one process: it leads
   * at once.
   */
  campaign(name: string, candidate: string, ttlSeconds: number): Campaign;
  /** The current leader's candidate name of `name`, if any. */
  leader(name: string): Promise<string | undefined>;
  close(): Promise<void>;
}
