/**
 * The watch side of EtcdStore: one etcd watch stream per store over the whole
 * key prefix, fanned out in process by a WatcherHub, with a cache of the
 * events received lately.
 *
 *   etcd Watch(prefix, start_revision = lastSeen, prev_kv)
 *     └─ events → ChangeRecords (prefix stripped; a delete carries prev_kv's value)
 *          ├─ cache: every event with cacheFloor < revision <= lastSeen (bounded)
 *          └─ hub.publish → each subscription (skips revisions it was offered before)
 *
 * - `lastSeen`: every event with revision <= lastSeen has been received. It
 *   rises with each event and each progress notification (etcd sends those only
 *   to watchers that are caught up), never with a response header's revision:
 *   a created response, or a batch of replayed history, carries the store's
 *   current revision, not how far this watch has got.
 * - After a disconnect the stream is opened again from lastSeen (on any member),
 *   so nothing is missed; what comes twice is dropped here and by the hub.
 * - The stream always starts one revision early and drops that revision: etcd
 *   compacted at C may have lost deletes at C itself, so C + 1 is the oldest
 *   revision this store promises, and starting at C makes etcd report exactly
 *   the starts it can no longer serve in full.
 * - A subscription from a revision the cache still covers (or a later one) is
 *   added at once with its backlog from the cache. An older one reopens the
 *   stream from there; the other subscriptions skip what they had.
 * - If etcd answers that the revision to resume from is compacted, every
 *   subscription ends with a CompactedError (WatchOptions.onError).
 */
import { GRPCOutOfRangeError, type IDuplexStream, type IEvent, type IWatchRequest, type IWatchResponse } from 'etcd3';
import { CompactedError, type WatchEvent, type Watcher } from './store.js';
import type { ChangeRecord, WatchEndHandler, WatcherHub } from './watchers.js';

/** What the feed needs from its store. */
export interface FeedIo {
  /** Opens a Watch RPC stream on some member. */
  openStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>>;
  /** The store's current revision (a linearizable read). */
  revision(): Promise<number>;
  /** Resolves if revision `rev` can still be read, rejects with GRPCOutOfRangeError if it is compacted. */
  readAt(rev: number): Promise<void>;
  /** The whole prefix, as a watch range. */
  range: { key: Buffer; range_end: Buffer };
  /** The store key of an etcd key. */
  keyOf(etcdKey: Buffer): string;
  log(message: string): void;
}

/** How many events the cache keeps at most (whole revisions are dropped from the oldest). */
const CACHE_EVENTS = 10_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;
/** How long to wait for etcd to say how far it has compacted (it answers within ~100 ms). */
const COMPACT_PROBE_MS = 10_000;

type Stream = IDuplexStream<IWatchRequest, IWatchResponse>;

export class EtcdFeed {
  private state: 'idle' | 'active' | 'closed' = 'idle';
  /** Bumped whenever the stream is dropped: responses and timers of older streams are ignored. */
  private generation = 0;
  private stream: Stream | undefined;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The current stream was created: losing it is worth a log line (failed retries are not). */
  private connected = false;
  /** The subscribe() waiting for the stream it opened to be created, and its watcher. */
  private starting: { watcher: Watcher; resolve: () => void; reject: (err: Error) => void } | undefined;
  private lastSeen = 0;
  private cacheFloor = 0;
  private cache: ChangeRecord[] = [];
  /** subscribe() calls run one at a time: each decides between cache and restart. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly io: FeedIo,
    private readonly hub: WatcherHub,
  ) {}

  /** Adds a watch of `prefix` from `from` (undefined: from the current revision + 1). */
  subscribe(prefix: string, from: number | undefined, onEvent: (ev: WatchEvent) => void, onEnd: WatchEndHandler): Promise<Watcher> {
    const run = this.queue.then(() => this.add(prefix, from, onEvent, onEnd));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.state = 'closed';
    this.drop(new Error('store is closed'));
    this.hub.cancelAll();
  }

  private async add(prefix: string, from: number | undefined, onEvent: (ev: WatchEvent) => void, onEnd: WatchEndHandler): Promise<Watcher> {
    const first = from ?? (await this.io.revision()) + 1;
    this.assertOpen();
    if (this.state === 'active' && first > this.cacheFloor) {
      const backlog = this.cache.filter((rec) => rec.revision >= first && rec.key.startsWith(prefix));
      return this.hub.add(prefix, first, onEvent, backlog, onEnd);
    }
    if (from !== undefined) await this.assertKept(from);
    this.assertOpen();
    // Reopen from `first - 1`: the new watch hears everything from `first`, the others skip what they had.
    this.drop(new Error('watch restarted'));
    this.lastSeen = first - 1;
    this.cacheFloor = first - 1;
    this.cache = [];
    this.state = 'active';
    const watcher = this.hub.add(prefix, first, onEvent, [], onEnd);
    await new Promise<void>((resolve, reject) => {
      this.starting = { watcher, resolve, reject };
      void this.open();
    });
    return watcher;
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new Error('store is closed');
  }

  /** Throws CompactedError when `from` is older than what etcd still holds in full. */
  private async assertKept(from: number): Promise<void> {
    const probe = Math.max(1, from - 1);
    if (probe > (await this.io.revision())) return;
    try {
      await this.io.readAt(probe);
    } catch (err) {
      if (!(err instanceof GRPCOutOfRangeError)) throw err;
      throw new CompactedError(from, (await this.compactRevision(probe)) + 1);
    }
  }

  /** etcd's compaction revision, which it tells a watch that starts before it (`probe` must be compacted). */
  private async compactRevision(probe: number): Promise<number> {
    const stream = await this.io.openStream();
    try {
      return await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('etcd did not report its compaction revision')), COMPACT_PROBE_MS);
        stream.on('data', (res) => {
          const rev = Number(res.compact_revision);
          if (res.canceled && rev > 0) {
            clearTimeout(timer);
            resolve(rev);
          }
        });
        stream.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        stream.write({ create_request: { ...this.io.range, start_revision: probe } });
      });
    } finally {
      stream.cancel();
    }
  }

  private async open(): Promise<void> {
    const gen = ++this.generation;
    let stream: Stream;
    try {
      stream = await this.io.openStream();
    } catch (err) {
      this.lost(gen, asError(err));
      return;
    }
    if (gen !== this.generation) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (res) => this.onResponse(gen, res));
    stream.on('error', (err) => this.lost(gen, err));
    stream.on('end', () => this.lost(gen, new Error('etcd ended the watch stream')));
    stream.write({
      create_request: {
        ...this.io.range,
        start_revision: Math.max(1, this.lastSeen),
        prev_kv: true,
        progress_notify: true,
      },
    });
  }

  private onResponse(gen: number, res: IWatchResponse): void {
    if (gen !== this.generation) return;
    if (res.created) {
      if (res.canceled) return this.lost(gen, new Error(`etcd refused the watch: ${res.cancel_reason || 'no reason given'}`));
      this.retryMs = RETRY_MIN_MS;
      this.connected = true;
      this.starting?.resolve();
      this.starting = undefined;
      return;
    }
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      if (compacted > 0) return this.compacted(compacted);
      return this.lost(gen, new Error(`etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
    }
    if (res.events.length === 0) {
      // A progress notification: everything up to the header's revision has been sent.
      this.lastSeen = Math.max(this.lastSeen, Number(res.header.revision));
      return;
    }
    const changes = res.events.map((ev) => this.toChange(ev)).filter((ch) => ch.revision > this.lastSeen);
    const last = changes[changes.length - 1];
    if (!last) return;
    this.lastSeen = last.revision;
    this.remember(changes);
    this.hub.publish(changes);
  }

  private toChange(ev: IEvent): ChangeRecord {
    const revision = Number(ev.kv.mod_revision);
    const key = this.io.keyOf(ev.kv.key);
    if (ev.type.toLowerCase() === 'put') {
      return { revision, type: 'put', key, value: ev.kv.value.toString('utf8'), createRevision: Number(ev.kv.create_revision), version: Number(ev.kv.version) };
    }
    // prev_kv is there unless etcd could not read it (compacted); the contract wants the last value.
    const prev = ev.prev_kv;
    return {
      revision,
      type: 'delete',
      key,
      value: prev ? prev.value.toString('utf8') : 'null',
      createRevision: prev ? Number(prev.create_revision) : 0,
      version: prev ? Number(prev.version) : 0,
    };
  }

  private remember(changes: ChangeRecord[]): void {
    this.cache.push(...changes);
    if (this.cache.length <= CACHE_EVENTS * 1.25) return;
    let cut = this.cache.length - CACHE_EVENTS;
    const floor = this.cache[cut - 1]?.revision ?? this.cacheFloor;
    while (this.cache[cut]?.revision === floor) cut++;
    this.cache = this.cache.slice(cut);
    this.cacheFloor = floor;
  }

  /** The stream broke or was refused: the waiting subscribe() fails; otherwise retry while anyone watches. */
  private lost(gen: number, err: Error): void {
    if (gen !== this.generation) return;
    const wasConnected = this.connected && this.starting === undefined;
    this.drop(err);
    if (this.state !== 'active') return;
    if (wasConnected) this.io.log(`etcd watch stream lost (${err.message}); resuming from revision ${this.lastSeen + 1}`);
    const retryGen = this.generation;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      if (retryGen !== this.generation || this.state !== 'active') return;
      if (this.hub.size === 0) {
        this.state = 'idle';
        return;
      }
      // A unary call first: it renews an expired auth token, which the stream would reuse.
      this.io.revision().then(
        () => retryGen === this.generation && void this.open(),
        (e: unknown) => this.lost(retryGen, asError(e)),
      );
    }, delay);
  }

  /** etcd can no longer replay from lastSeen: every watch ends; the next one starts afresh. */
  private compacted(compactRevision: number): void {
    const err = new CompactedError(this.lastSeen + 1, compactRevision + 1);
    this.drop(err);
    this.state = 'idle';
    this.cache = [];
    this.hub.failAll(err);
  }

  /** Forgets the current stream (and a pending retry); a waiting subscribe() fails with `err`. */
  private drop(err: Error): void {
    this.generation++;
    this.connected = false;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.stream = undefined;
    // Its watcher goes quietly: the caller hears of the failure from watch() itself.
    this.starting?.watcher.cancel();
    this.starting?.reject(err);
    this.starting = undefined;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
