/**
 * What a volume driver does: the storage mechanics of one host's volume pool. The
 * manager (manager.ts) adds everything that is the same for every driver: locking,
 * size rules, the recycle bin's metadata and retention, in-use checks, events.
 *
 * A driver works on three kinds of place, all inside its pool (layout.ts):
 * - a set's volume (`volumes/<tenant>/<appkey>/<id>`, what containers bind-mount),
 * - a recycle-bin entry (`trash/<trashId>`),
 * - a staged volume (`incoming/…`): a restored snapshot or an import, complete but
 *   not yet in place; `install` moves it to a set's (free) volume place.
 *
 * What a driver cannot do (XFS: shrink, snapshots) throws WharfError
 * VOLUME_OP_UNSUPPORTED with a message that says so.
 */
import type { Readable } from 'node:stream';
import type { VolumeDriverName } from '@wharf/types';
import type { SetIdentity } from '../containers.js';

export interface VolumeStats {
  /** Bytes written (btrfs: the qgroup's referenced bytes; xfs: the filesystem's used bytes). */
  used: number;
  /** The hard limit in bytes; 0 when there is none. */
  quota: number;
}

export interface PoolStats {
  size: number;
  used: number;
  free: number;
}

/** Everything a heartbeat needs, from one cheap pass. */
export interface PoolScan {
  pool: PoolStats;
  /** By set ref (`tenant/appkey/id`). */
  volumes: Map<string, SetIdentity & VolumeStats>;
  /** By trash ID: bytes the entry holds (its volume, and its snapshots' own bytes). */
  trash: Map<string, number>;
  /** By set ref, then snapshot name: bytes the snapshot references. */
  snapshots: Map<string, Map<string, number>>;
}

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  used: number;
}

/** Formats of a volume's export stream: a btrfs send stream, or a tar archive. */
export type StreamFormat = 'btrfs' | 'tar';

export interface ExportStream {
  format: StreamFormat;
  stream: Readable;
  /** Bytes the exported volume holds (lets the importer check its quota first). */
  used: number;
  /** Resolves when the producer has exited cleanly (the stream is complete); rejects when it failed. */
  done: Promise<void>;
  /** Stops the producer (the reader went away). */
  abort(): void;
}

/** A complete volume not yet in place (see `install`). */
export interface Staged {
  /** Pool-relative place, for logs. */
  readonly place: string;
}

export interface VolumeDriver {
  readonly name: VolumeDriverName;
  /** The smallest volume it can make; smaller requests are rounded up. */
  readonly minBytes: number;
  /** Whether a limit can be lowered (btrfs) or only raised (xfs). */
  readonly canShrink: boolean;
  /** The limit the driver sets for a request of `bytes` (rounded up to what it can make). */
  quotaFor(bytes: number): number;
  /** Export/import formats, preferred first. */
  readonly formats: StreamFormat[];
  /** The pool's directory (its mount point for btrfs). */
  readonly pool: string;

  /** Makes the pool usable (format when empty, mount, quotas, directories); idempotent. Resolves with what it did. */
  setup(): Promise<string[]>;
  scan(): Promise<PoolScan>;

  exists(set: SetIdentity): Promise<boolean>;
  /** `exact`: flush first, so that `used` includes what was just written. Undefined when there is no volume. */
  stats(set: SetIdentity, exact?: boolean): Promise<VolumeStats | undefined>;
  /** Creates an empty volume with a hard limit (at least minBytes); resolves with the limit in force. */
  create(set: SetIdentity, bytes: number): Promise<number>;
  /** Changes the limit online; resolves with the limit in force. */
  setQuota(set: SetIdentity, bytes: number): Promise<number>;

  /** Moves the set's volume (and, unless told otherwise, its snapshots) into the recycle bin as `trashId`. */
  toTrash(set: SetIdentity, trashId: string, withSnapshots?: boolean): Promise<void>;
  /** Makes a recycle-bin entry the set's volume again (the set has none). */
  fromTrash(trashId: string, set: SetIdentity): Promise<void>;
  trashExists(trashId: string): Promise<boolean>;
  /** Deletes an entry for good; the space is free when it resolves. */
  purge(trashId: string): Promise<void>;

  snapshots(set: SetIdentity): Promise<SnapshotInfo[]>;
  snapshot(set: SetIdentity, name: string): Promise<void>;
  deleteSnapshot(set: SetIdentity, name: string): Promise<void>;
  /** A writable copy of a snapshot, staged. */
  stageSnapshot(set: SetIdentity, name: string): Promise<Staged>;

  /** Streams the volume's content as it is now (btrfs: from a read-only snapshot made for it). */
  exportStream(set: SetIdentity, format: StreamFormat): Promise<ExportStream>;
  /** Receives a stream into a staged volume. */
  stageImport(input: Readable, format: StreamFormat, bytes: number): Promise<Staged>;
  /** Puts a staged volume in the set's (free) place with a hard limit; resolves with the limit in force. */
  install(staged: Staged, set: SetIdentity, bytes: number): Promise<number>;
  discard(staged: Staged): Promise<void>;
}
