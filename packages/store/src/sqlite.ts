/**
 * The embedded Store backend: one SQLite file via better-sqlite3.
 *
 * Every txn checks its compares, applies its ops to `kv`, appends them to `events` at
 * one new revision, bumps `meta.revision` and trims old events, all or nothing. Txns
 * are committed in groups: a txn is queued, and at the next turn of the event loop
 * (setImmediate) every queued txn runs, in order, each in its own savepoint, inside
 * one IMMEDIATE transaction — one COMMIT and one fsync for the group. Only after that
 * fsync are the changes handed to in-process watchers and the promises resolved.
 *
 * Durability without blocking: better-sqlite3 runs on the event loop, and an fsync
 * on a disk shared with busy Docker engines takes 50 ms to seconds, so a file store
 * does not let SQLite sync (synchronous=OFF, no automatic checkpoints). After each
 * COMMIT the WAL file is fsynced on libuv's thread pool while the server goes on
 * serving; the next group waits for it (and gathers the txns asked for meanwhile).
 * Every few MiB of WAL, a checkpoint copies it into the database file, which is
 * fsynced the same way before any later commit may start the WAL over. Readers may
 * see a commit up to one fsync before it is acknowledged; a power loss in between
 * loses it (and nothing after it) — never an acknowledged write. close() checkpoints
 * with SQLite's own fsyncs.
 *
 * One SqliteStore instance per database file: watchers only see writes made
 * through the same instance.
 */
import { closeSync, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { encodeValue } from './json.js';
import { FencedStore } from './fenced.js';
import { TxnWrites } from './single-op.js';
import { assertKey, prefixEnd } from './keys.js';
import {
  CompactedError,
  StoreUnavailableError,
  type Campaign,
  type Compare,
  type KeyValue,
  type ListResult,
  type Op,
  type Store,
  type TxnResult,
  type WatchEvent,
  type WatchOptions,
  type Watcher,
} from './store.js';
import { WatcherHub, type ChangeRecord, type WatchErrorHandler } from './watchers.js';

export interface SqliteStoreOptions {
  /** How many of the newest revisions the event log keeps for watch replay. Default 10000. */
  historyLimit?: number;
  /** Called when a watch callback throws. Default: console.error. */
  onWatchError?: WatchErrorHandler;
}

const DEFAULT_HISTORY_LIMIT = 10_000;
/** WAL bytes (estimated from what the txns wrote) after which a checkpoint runs. */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** fsync(2) on libuv's thread pool: the event loop goes on meanwhile. */
const syncFile = promisify(fsync);

const SCHEMA_VERSION = 1;

/** File descriptors of the WAL and the database file, which a file store syncs itself. */
interface StoreFiles {
  wal: number;
  db: number;
}

function closeFiles(files: StoreFiles | undefined): void {
  for (const fd of files ? [files.wal, files.db] : []) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key        TEXT PRIMARY KEY NOT NULL,
  value      TEXT NOT NULL,               -- JSON
  create_rev INTEGER NOT NULL,
  mod_rev    INTEGER NOT NULL,
  version    INTEGER NOT NULL
) WITHOUT ROWID;

-- Watch history. A txn with several ops writes several rows at one rev; seq keeps their order.
CREATE TABLE IF NOT EXISTS events (
  rev        INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  key        TEXT NOT NULL,
  type       TEXT NOT NULL CHECK (type IN ('put', 'delete')),
  value      TEXT NOT NULL,               -- JSON; for a delete, the value before deletion
  create_rev INTEGER NOT NULL,
  version    INTEGER NOT NULL,
  PRIMARY KEY (rev, seq)
) WITHOUT ROWID;

-- 'revision': the store revision. 'compact_revision': newest revision whose events were dropped.
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compact_revision', 0);
`;

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
  version: number;
}

interface EventRow {
  rev: number;
  key: string;
  type: 'put' | 'delete';
  value: string;
  create_rev: number;
  version: number;
}

/** An op whose value is already serialised, so nothing can fail half-way through a txn. */
type EncodedOp = { type: 'put'; key: string; json: string } | { type: 'delete'; key: string };

interface TxnOutcome extends TxnResult {
  changes: ChangeRecord[];
}

/** A txn waiting for its group's commit. */
interface QueuedTxn {
  compares: Compare[];
  ops: EncodedOp[];
  resolve: (r: TxnResult) => void;
  reject: (err: unknown) => void;
}

type GroupOutcome = { outcome: TxnOutcome } | { error: unknown };

function toKeyValue<T>(row: KvRow): KeyValue<T> {
  return {
    key: row.key,
    value: JSON.parse(row.value) as T,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
  };
}

function prepareStatements(db: Database.Database) {
  return {
    getKv: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key = ?'),
    listFrom: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key >= ? ORDER BY key'),
    listRange: db.prepare<[string, string], KvRow>(
      'SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key',
    ),
    upsertKv: db.prepare<[string, string, number, number, number]>(
      `INSERT INTO kv (key, value, create_rev, mod_rev, version) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev,
         version = excluded.version`,
    ),
    deleteKv: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
    insertEvent: db.prepare<[number, number, string, string, string, number, number]>(
      'INSERT INTO events (rev, seq, key, type, value, create_rev, version) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    eventsFrom: db.prepare<[number], EventRow>(
      'SELECT rev, key, type, value, create_rev, version FROM events WHERE rev >= ? ORDER BY rev, seq',
    ),
    trimEvents: db.prepare<[number]>('DELETE FROM events WHERE rev <= ?'),
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
    raiseCompact: db.prepare<[number]>(
      `UPDATE meta SET value = max(value, ?) WHERE name = 'compact_revision'`,
    ),
  };
}

export class SqliteStore extends TxnWrites implements Store {
  private readonly stmts: ReturnType<typeof prepareStatements>;
  private readonly hub: WatcherHub;
  private readonly leaders = new Map<string, string>();
  private readonly runTxn: Database.Transaction<(c: Compare[], o: EncodedOp[]) => TxnOutcome>;
  private readonly runGroup: Database.Transaction<(group: QueuedTxn[]) => GroupOutcome[]>;
  private queued: QueuedTxn[] = [];
  private flushScheduled = false;
  /** The group being committed and synced; the next one starts after it. */
  private flushing: Promise<void> | undefined;
  /** Bytes written to the WAL since the last checkpoint (estimated). */
  private walBytes = 0;
  /** An fsync failed: what was committed may not be on disk; every later write fails with it. */
  private broken: StoreUnavailableError | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly historyLimit: number,
    onWatchError: WatchErrorHandler,
    /** The WAL and database files, for the fsyncs a file store makes itself; none in memory. */
    private readonly files: StoreFiles | undefined,
  ) {
    super();
    this.stmts = prepareStatements(db);
    this.hub = new WatcherHub(onWatchError);
    // Called inside runGroup's transaction, runTxn is a savepoint: a txn that throws
    // rolls back alone and the rest of its group still commits.
    this.runTxn = db.transaction((compares: Compare[], ops: EncodedOp[]) => this.applyTxn(compares, ops));
    this.runGroup = db.transaction((group: QueuedTxn[]) =>
      group.map((t): GroupOutcome => {
        try {
          return { outcome: this.runTxn(t.compares, t.ops) };
        } catch (error) {
          return { error };
        }
      }),
    );
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' gives a throwaway store. */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const historyLimit = opts.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(historyLimit) || historyLimit < 1) {
      throw new RangeError(`historyLimit must be a positive integer, got ${historyLimit}`);
    }
    const db = new Database(path);
    const inMemory = db.memory;
    let files: StoreFiles | undefined;
    try {
      db.pragma('journal_mode = WAL');
      // Whatever an earlier run left in the WAL goes into the database file, synced, first.
      db.pragma('synchronous = FULL');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true });
      if (typeof version === 'number' && version > SCHEMA_VERSION) {
        throw new Error(`store schema version ${version} is newer than this code (${SCHEMA_VERSION})`);
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      if (!inMemory) {
        // From here on the store syncs the files itself, off the event loop (see the top).
        db.pragma('wal_autocheckpoint = 0');
        db.pragma('synchronous = OFF');
        files = { wal: -1, db: -1 };
        files.wal = openSync(`${db.name}-wal`, 'r');
        files.db = openSync(db.name, 'r');
      }
    } catch (err) {
      closeFiles(files);
      db.close();
      throw err;
    }
    const onWatchError =
      opts.onWatchError ??
      ((err: unknown, ev: WatchEvent) => {
        console.error(`[@wharf/store] watch callback threw on ${ev.kv.key}@${ev.revision}:`, err);
      });
    return new SqliteStore(db, historyLimit, onWatchError, files);
  }

  async get<T = unknown>(key: string): Promise<KeyValue<T> | undefined> {
    this.assertOpen();
    const row = this.stmts.getKv.get(key);
    return row && toKeyValue<T>(row);
  }

  async list<T = unknown>(prefix: string): Promise<ListResult<T>> {
    this.assertOpen();
    const end = prefixEnd(prefix);
    // A read transaction so the rows and the revision are one snapshot.
    return this.db.transaction(() => {
      const rows = end === undefined ? this.stmts.listFrom.all(prefix) : this.stmts.listRange.all(prefix, end);
      return { items: rows.map((r) => toKeyValue<T>(r)), revision: this.meta('revision') };
    })();
  }

  async txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    this.assertOpen();
    for (const c of compares) assertKey(c.key);
    const encoded = ops.map((op): EncodedOp => {
      assertKey(op.key);
      return op.type === 'put' ? { type: 'put', key: op.key, json: encodeValue(op.value) } : op;
    });
    if (this.broken) throw this.broken;
    return new Promise<TxnResult>((resolve, reject) => {
      this.queued.push({ compares, ops: encoded, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Flushes at the next turn, unless a group is being synced: then right after it.
   * Waiting for the next turn lets requests waiting on I/O in between a caller's
   * writes, and gathers the txns of every caller in that turn into one commit.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.queued.length > 0) this.scheduleFlush();
      });
    });
  }

  /** Commits every queued txn in one transaction, syncs it, then tells watchers and callers. */
  private async flush(): Promise<void> {
    const group = this.queued;
    this.queued = [];
    if (group.length === 0) return;
    const outcomes = this.commit(group);
    if (!outcomes) return;
    try {
      if (this.files) await syncFile(this.files.wal);
    } catch (err) {
      // Committed but maybe not on disk: nobody is told it is, and nothing is written after it.
      this.broken = new StoreUnavailableError(`the store cannot sync its write-ahead log (${String(err)}); restart wharf-server`);
      for (const t of group) t.reject(this.broken);
      return;
    }
    this.settle(group, outcomes);
    if (this.files && this.walBytes >= CHECKPOINT_BYTES && this.db.open) await this.checkpoint();
  }

  /** Runs the group in one IMMEDIATE transaction; undefined (every txn rejected) when nothing was committed. */
  private commit(group: QueuedTxn[]): GroupOutcome[] | undefined {
    try {
      if (!this.db.open) throw new Error('store is closed');
      if (this.broken) throw this.broken;
      // IMMEDIATE takes the write lock up front, so compare-then-write is atomic.
      const outcomes = this.runGroup.immediate(group);
      // Each op is a row in kv and one in events, with their index entries.
      for (const t of group) for (const op of t.ops) this.walBytes += 2 * (op.key.length + (op.type === 'put' ? op.json.length : 0)) + 256;
      return outcomes;
    } catch (err) {
      // Nothing of the group was committed (a failed COMMIT rolls it all back).
      for (const t of group) t.reject(err);
      return undefined;
    }
  }

  /**
   * Copies the WAL into the database file and syncs that file before any later commit
   * may start the WAL over (which would overwrite what only the WAL held on disk).
   */
  private async checkpoint(): Promise<void> {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      if (this.files) await syncFile(this.files.db);
      this.walBytes = 0;
    } catch (err) {
      this.broken = new StoreUnavailableError(`the store cannot checkpoint its write-ahead log (${String(err)}); restart wharf-server`);
    }
  }

  /** Committed and synced: now (not before) the watchers may see it, in revision order. */
  private settle(group: QueuedTxn[], outcomes: GroupOutcome[]): void {
    group.forEach((t, i) => {
      const o = outcomes[i]!;
      if ('error' in o) {
        t.reject(o.error);
      } else {
        this.hub.publish(o.outcome.changes);
        t.resolve({ succeeded: o.outcome.succeeded, revision: o.outcome.revision });
      }
    });
  }

  async revision(): Promise<number> {
    this.assertOpen();
    return this.meta('revision');
  }

  async watch<T = unknown>(
    prefix: string,
    onEvent: (ev: WatchEvent<T>) => void,
    opts: WatchOptions = {},
  ): Promise<Watcher> {
    this.assertOpen();
    // The hub is untyped; T is the caller's claim about the values, as with get<T>().
    const handler = onEvent as (ev: WatchEvent) => void;
    const from = opts.fromRevision;
    if (from === undefined) return this.hub.add(prefix, this.meta('revision') + 1, handler);
    if (!Number.isSafeInteger(from) || from < 1) {
      throw new RangeError(`fromRevision must be a positive integer, got ${from}`);
    }
    // Reading the backlog and registering happen in one synchronous stretch, so no
    // write can land between them: replay and live events join without gap or overlap.
    const backlog = this.db.transaction(() => {
      const compacted = this.meta('compact_revision');
      if (from <= compacted) throw new CompactedError(from, compacted + 1);
      return this.stmts.eventsFrom
        .all(from)
        .filter((row) => row.key.startsWith(prefix))
        .map(
          (row): ChangeRecord => ({
            revision: row.rev,
            type: row.type,
            key: row.key,
            value: row.value,
            createRevision: row.create_rev,
            version: row.version,
          }),
        );
    })();
    return this.hub.add(prefix, from, handler, backlog);
  }

  /** A SQLite file has one server: it leads at once and never loses it, so its writes need no fence. */
  campaign(name: string, candidate: string): Campaign {
    this.leaders.set(name, candidate);
    return {
      elected: Promise.resolve(),
      onLost: () => undefined,
      fenced: () => new FencedStore(this, (compares, ops) => this.txn(compares, ops)),
      resign: async () => {
        if (this.leaders.get(name) === candidate) this.leaders.delete(name);
      },
    };
  }

  async leader(name: string): Promise<string | undefined> {
    return this.leaders.get(name);
  }

  async close(): Promise<void> {
    // Txns already asked for are committed, not dropped.
    await this.flushing;
    const group = this.queued;
    this.queued = [];
    const outcomes = group.length > 0 ? this.commit(group) : undefined;
    this.hub.cancelAll();
    if (this.db.open) {
      // Closing checkpoints the WAL into the database file: with SQLite's own fsyncs.
      if (this.files) this.db.pragma('synchronous = FULL');
      this.db.close();
    }
    closeFiles(this.files);
    if (outcomes) this.settle(group, outcomes);
  }

  /** Runs inside the IMMEDIATE transaction; throwing rolls everything back. */
  private applyTxn(compares: Compare[], ops: EncodedOp[]): TxnOutcome {
    const current = this.meta('revision');
    for (const c of compares) {
      const row = this.stmts.getKv.get(c.key);
      const holds = 'absent' in c ? row === undefined : (row?.mod_rev ?? 0) === c.modRevision;
      if (!holds) return { succeeded: false, revision: current, changes: [] };
    }

    const rev = current + 1;
    const changes: ChangeRecord[] = [];
    for (const op of ops) {
      const prev = this.stmts.getKv.get(op.key);
      if (op.type === 'put') {
        const createRevision = prev?.create_rev ?? rev;
        const version = (prev?.version ?? 0) + 1;
        this.stmts.upsertKv.run(op.key, op.json, createRevision, rev, version);
        changes.push({ revision: rev, type: 'put', key: op.key, value: op.json, createRevision, version });
      } else if (prev) {
        this.stmts.deleteKv.run(op.key);
        changes.push({
          revision: rev,
          type: 'delete',
          key: op.key,
          value: prev.value,
          createRevision: prev.create_rev,
          version: prev.version,
        });
      }
    }
    // Like etcd, a txn that changed nothing (e.g. deleting a missing key) keeps the revision.
    if (changes.length === 0) return { succeeded: true, revision: current, changes };

    changes.forEach((ch, seq) => {
      this.stmts.insertEvent.run(rev, seq, ch.key, ch.type, ch.value, ch.createRevision, ch.version);
    });
    this.stmts.setMeta.run(rev, 'revision');
    const floor = rev - this.historyLimit;
    if (floor > 0) {
      this.stmts.trimEvents.run(floor);
      this.stmts.raiseCompact.run(floor);
    }
    return { succeeded: true, revision: rev, changes };
  }

  private meta(name: 'revision' | 'compact_revision'): number {
    const row = this.stmts.getMeta.get(name);
    if (row === undefined) throw new Error(`store meta row '${name}' is missing`);
    return row.value;
  }

  private assertOpen(): void {
    if (!this.db.open) throw new Error('store is closed');
  }
}
