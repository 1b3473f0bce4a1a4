/**
 * The distributed Store backend: etcd v3 (3.4 or later) through the etcd3 client.
 *
 * - Keys live under a prefix (default `/wharf/`), so several platforms can
 *   share one etcd; values are their JSON text.
 * - Wharf's revision is etcd's store revision. It is etcd-wide: writes of
 *   other prefixes raise it too, so on a shared etcd it grows by one or more
 *   per write. A fresh etcd is at revision 1.
 * - txn → one etcd Txn: `modRevision` compares the key's mod_revision (0 for a
 *   missing key), `absent` its version; ops become puts and single-key deletes.
 * - list → Range over the prefix, paged, every page at the first page's revision.
 * - watch → etcd-feed.ts: one watch stream per store, resumed after disconnects.
 * - History: after the writes of this store, etcd is compacted every
 *   historyLimit/10 revisions, so that the newest `historyLimit` revisions (and
 *   up to 20 % more) stay watchable. Compaction is etcd-wide.
 * - A call that a member cannot serve (down, hung, no leader) is tried again on the
 *   others for up to `requestTimeoutMs` (etcd-client.ts); what still fails then
 *   rejects with StoreUnavailableError.
 */
import { CompareResult, CompareTarget, GRPCOutOfRangeError, type ICompare, type IKeyValue, type IRangeRequest, type IRequestOp, type KVClient, type Namespace, type Campaign as EtcdCampaign } from 'etcd3';
import { LeaderWatchingEtcd3, reasonOf, toEtcd3Options, unavailableOr, type EtcdAccess } from './etcd-client.js';
import { EtcdFeed } from './etcd-feed.js';
import { FencedStore } from './fenced.js';
import { encodeValue } from './json.js';
import { TxnWrites } from './single-op.js';
import { assertKey } from './keys.js';
import { LeadershipLostError, StoreUnavailableError, type Campaign, type Compare, type KeyValue, type ListResult, type Op, type Store, type TxnResult, type WatchEvent, type WatchOptions, type Watcher } from './store.js';
import { WatcherHub, type WatchErrorHandler } from './watchers.js';

export type { EtcdAccess };

export interface EtcdStoreOptions extends EtcdAccess {
  /** Client endpoints as HOST:PORT. */
  hosts: string[];
  /** Every key is stored under it. Must end with '/'. Default '/wharf/'. */
  prefix?: string;
  /** How many of the newest revisions stay watchable. Default 10000. */
  historyLimit?: number;
  /**
   * How long a call keeps trying (on other members, with back-off) before it rejects with
   * StoreUnavailableError; the last attempt may end up to 6 s later (1 s of back-off, then at
   * most 5 s). Default 10 s.
   */
  requestTimeoutMs?: number;
  /** Called when a watch callback throws. Default: console.error. */
  onWatchError?: WatchErrorHandler;
  /** Where problems outside any call's result go (a lost watch stream, a failed compaction). Default: console.error. */
  log?: (message: string) => void;
}

export const DEFAULT_ETCD_PREFIX = '/wharf/';
const DEFAULT_HISTORY_LIMIT = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Keys per Range page of list(): a page stays far below gRPC's 4 MiB message limit for set-sized values. */
const LIST_PAGE = 500;

/** The smallest key above every key that starts with `prefix`, byte-wise (etcd's prefix range end). */
export function bytePrefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0xff;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]); // every key from `prefix` on
}

/** etcd refuses a txn that touches a key twice: keep each key's last op, in the order of those last ops. */
function lastOpPerKey(ops: Op[]): Op[] {
  const last = new Map<string, number>();
  ops.forEach((op, i) => last.set(op.key, i));
  return ops.filter((op, i) => last.get(op.key) === i);
}

/** What a leader's writes are conditional on (Campaign.fenced): its campaign key, as created. */
interface Fence {
  key: Buffer;
  createRevision: string;
  /** Reports the leadership lost and returns the error to throw. */
  broken(): Error;
}

function assertRevision(rev: unknown): void {
  if (!Number.isSafeInteger(rev) || (rev as number) < 0) {
    throw new RangeError(`compare modRevision must be an integer >= 0, got ${String(rev)}`);
  }
}

export class EtcdStore extends TxnWrites implements Store {
  private closed = false;
  private readonly kv: KVClient;
  private readonly hub: WatcherHub;
  private readonly feed: EtcdFeed;
  private readonly root: Buffer;
  private readonly compactEvery: number;
  private compactedTo = 0;
  private readonly campaigns = new Set<EtcdCampaign>();

  private constructor(
    private readonly client: LeaderWatchingEtcd3,
    private readonly hosts: string[],
    prefix: string,
    private readonly historyLimit: number,
    onWatchError: WatchErrorHandler,
    private readonly log: (message: string) => void,
  ) {
    super();
    this.kv = client.kv;
    this.root = Buffer.from(prefix, 'utf8');
    this.compactEvery = Math.max(1, Math.floor(historyLimit / 10));
    this.hub = new WatcherHub(onWatchError);
    this.feed = new EtcdFeed(
      {
        openStream: () => client.leaderWatch.watch(),
        revision: () => this.revision(),
        readAt: async (rev) => void (await this.range({ key: this.root, revision: rev, count_only: true })),
        range: { key: this.root, range_end: bytePrefixEnd(this.root) },
        keyOf: (etcdKey) => etcdKey.subarray(this.root.length).toString('utf8'),
        log,
      },
      this.hub,
    );
  }

  /** Connects to etcd and checks that it answers; rejects naming the endpoints otherwise. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const prefix = opts.prefix ?? DEFAULT_ETCD_PREFIX;
    if (!prefix.endsWith('/')) throw new RangeError(`etcd key prefix must end with '/', got ${JSON.stringify(prefix)}`);
    const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 1) {
      throw new RangeError(`historyLimit must be a positive integer, got ${historyLimit}`);
    }
    if (opts.hosts.length === 0) throw new RangeError('etcd needs at least one HOST:PORT');
    const log = opts.log ?? ((message: string) => console.error(`[@wharf/store] ${message}`));
    const onWatchError =
      opts.onWatchError ??
      ((err: unknown, ev: WatchEvent) => {
        console.error(`[@wharf/store] watch callback threw on ${ev.kv.key}@${ev.revision}:`, err);
      });
    const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const client = new LeaderWatchingEtcd3(toEtcd3Options({ ...opts, requestTimeoutMs }));
    const store = new EtcdStore(client, opts.hosts, prefix, historyLimit, onWatchError, log);
    try {
      await store.revision();
    } catch (err) {
      await store.close();
      throw err instanceof StoreUnavailableError ? err : new Error(`etcd at ${opts.hosts.join(',')}: ${reasonOf(err)}`);
    }
    return store;
  }

  async get<T = unknown>(key: string): Promise<KeyValue<T> | undefined> {
    this.assertOpen();
    assertKey(key);
    const res = await this.range({ key: this.etcdKey(key) });
    const kv = res.kvs[0];
    return kv && this.toKeyValue<T>(kv);
  }

  async list<T = unknown>(prefix: string): Promise<ListResult<T>> {
    this.assertOpen();
    const start = this.etcdKey(prefix);
    const end = bytePrefixEnd(start);
    const items: KeyValue<T>[] = [];
    let revision: number | undefined;
    let from = start;
    for (;;) {
      const res = await this.range({ key: from, range_end: end, limit: LIST_PAGE, ...(revision ? { revision } : {}) });
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) items.push(this.toKeyValue<T>(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  async txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    return this.fencedTxn(undefined, compares, ops);
  }

  /**
   * txn(), and with a fence also only while the fence's key still has its create revision:
   * one more compare in the same etcd Txn. When the txn fails, its failure branch reads the
   * fence's key, so a txn refused by the fence is told from one whose own compares failed.
   */
  private async fencedTxn(fence: Fence | undefined, compares: Compare[], ops: Op[]): Promise<TxnResult> {
    this.assertOpen();
    const compare = compares.map((c): ICompare => {
      assertKey(c.key);
      if ('absent' in c) return { key: this.etcdKey(c.key), target: CompareTarget.Version, result: CompareResult.Equal, version: 0 };
      assertRevision(c.modRevision);
      return { key: this.etcdKey(c.key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: c.modRevision };
    });
    // Everything is checked and encoded before anything is sent.
    const success = lastOpPerKey(ops).map((op): IRequestOp => {
      assertKey(op.key);
      const key = this.etcdKey(op.key);
      return op.type === 'put'
        ? { request_put: { key, value: Buffer.from(encodeValue(op.value), 'utf8') } }
        : { request_delete_range: { key } };
    });
    const failure: IRequestOp[] = [];
    if (fence) {
      compare.push({ key: fence.key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: fence.createRevision });
      failure.push({ request_range: { key: fence.key } });
    }
    const res = await this.call(() => this.kv.txn({ compare, success, failure }));
    const revision = Number(res.header.revision);
    if (res.succeeded) await this.compactBehind(revision);
    else if (fence && res.responses[0]?.response_range?.kvs[0]?.create_revision !== fence.createRevision) throw fence.broken();
    return { succeeded: res.succeeded, revision };
  }

  async revision(): Promise<number> {
    this.assertOpen();
    const res = await this.range({ key: this.root, count_only: true });
    return Number(res.header.revision);
  }

  async watch<T = unknown>(prefix: string, onEvent: (ev: WatchEvent<T>) => void, opts: WatchOptions = {}): Promise<Watcher> {
    this.assertOpen();
    const from = opts.fromRevision;
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 1)) {
      throw new RangeError(`fromRevision must be a positive integer, got ${from}`);
    }
    const onEnd = opts.onError ?? ((err: Error) => this.log(`watch of '${prefix}' ended: ${err.message}`));
    // The hub is untyped; T is the caller's claim about the values, as with get<T>().
    return this.feed.subscribe(prefix, from, onEvent as (ev: WatchEvent) => void, onEnd);
  }

  /**
   * etcd's election recipe (etcd3's Election): the candidate's key under
   * `<prefix without its last />-elections/election/<name>/` (outside the store's keys,
   * so lists and copies never see it) is held by a lease of `ttlSeconds`, kept alive while the
   * process lives; the oldest key leads. A lease that cannot be kept alive (etcd out of
   * reach longer than the TTL, or revoked) ends the leadership: `onLost` is called.
   * `fenced()` adds a compare on the candidate's key (its create revision) to each write,
   * so the writes stop the moment etcd drops the key, not when this process notices.
   */
  campaign(name: string, candidate: string, ttlSeconds: number): Campaign {
    const campaign = this.elections().election(name, ttlSeconds).campaign(candidate);
    this.campaigns.add(campaign);
    let fence: Fence | undefined;
    let lost: ((err: Error) => void) | undefined;
    let lostWith: Error | undefined;
    const lose = (err: Error): void => {
      if (lostWith) return;
      lostWith = err;
      lost?.(err);
    };
    const elected = new Promise<void>((resolve, reject) => {
      campaign.on('elected', () => {
        // The fence is the candidate's key as created: a lease that runs out deletes it.
        void this.fenceOf(campaign, name, lose).then(
          (f) => {
            fence = f;
            resolve();
          },
          (err: unknown) => {
            void campaign.resign().catch(() => undefined);
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      });
      campaign.on('error', (err: Error) => (fence ? lose(err) : reject(err)));
    });
    // A campaign given up before it was won rejects `elected`; nobody need hear about it.
    elected.catch(() => undefined);
    return {
      elected,
      onLost: (listener) => {
        lost = listener;
        if (lostWith) listener(lostWith);
      },
      resign: async () => {
        this.campaigns.delete(campaign);
        await campaign.resign();
      },
      fenced: () => {
        if (!fence) throw new Error(`campaign for '${name}': fenced() before it was elected`);
        const held = fence;
        return new FencedStore(this, (compares, ops) => this.fencedTxn(held, compares, ops));
      },
    };
  }

  /** The key and create revision of an elected campaign's key; rejects with LeadershipLostError when it is gone already. */
  private async fenceOf(campaign: EtcdCampaign, name: string, lose: (err: Error) => void): Promise<Fence> {
    const key = Buffer.from(await campaign.getCampaignKey(), 'utf8');
    const kv = (await this.range({ key })).kvs[0];
    if (!kv) throw new LeadershipLostError(name);
    return {
      key,
      createRevision: kv.create_revision,
      broken: () => {
        const err = new LeadershipLostError(name);
        lose(err);
        return err;
      },
    };
  }

  leader(name: string): Promise<string | undefined> {
    return this.call(() => this.elections().election(name).leader());
  }

  private elections(): Namespace {
    return this.client.namespace(`${this.root.toString('utf8').replace(/\/$/, '')}-elections/`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A closing server hands its leaderships over at once (its lease would otherwise be kept alive).
    await Promise.all([...this.campaigns].map((c) => c.resign().catch(() => undefined)));
    this.campaigns.clear();
    this.feed.close();
    this.client.close();
  }

  /** Keeps the newest historyLimit revisions and lets etcd drop older history, in steps. */
  private async compactBehind(revision: number): Promise<void> {
    // Compacting at C may lose deletes at C itself, so C + 1 is the oldest revision kept in full;
    // a watch from there reads etcd from C (etcd-feed.ts) and needs C kept until etcd has replayed
    // it (up to 100 ms), so compaction stays one step further behind.
    const target = revision - this.historyLimit - this.compactEvery;
    if (target <= 1 || target - this.compactedTo < this.compactEvery) return;
    this.compactedTo = target;
    try {
      await this.kv.compact({ revision: target });
    } catch (err) {
      // Another store (a second server) compacted as far already: nothing to do.
      if (!(err instanceof GRPCOutOfRangeError)) this.log(`etcd compaction to ${target} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** One etcd call: what fails because etcd could not serve it rejects with StoreUnavailableError. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw unavailableOr(err, this.hosts);
    }
  }

  private range(req: IRangeRequest) {
    return this.call(() => this.kv.range(req));
  }

  private etcdKey(key: string): Buffer {
    return Buffer.concat([this.root, Buffer.from(key, 'utf8')]);
  }

  private toKeyValue<T>(kv: IKeyValue): KeyValue<T> {
    return {
      key: kv.key.subarray(this.root.length).toString('utf8'),
      value: JSON.parse(kv.value.toString('utf8')) as T,
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}
