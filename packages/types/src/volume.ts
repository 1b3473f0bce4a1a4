/**
 * Volumes: every set has one data volume on its host's pool (a btrfs subvolume with
 * a qgroup hard limit, or a loop-file XFS image), shared by its containers. Agents
 * report usage with heartbeats; volume operations (resize, recycle bin, snapshots,
 * export, migration) go from the server to the agent of the volume's host.
 */
import { Type, type Static } from '@sinclair/typebox';

export const VolumeDriverName = Type.Union([Type.Literal('btrfs'), Type.Literal('xfs')]);
export type VolumeDriverName = Static<typeof VolumeDriverName>;

/** One set's volume on a host. */
export const VolumeUsage = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  driver: VolumeDriverName,
  /** Bytes written (btrfs: the qgroup's referenced bytes; xfs: the filesystem's used bytes). */
  used: Type.Integer(),
  /** The hard limit in bytes. */
  quota: Type.Integer(),
  /** Host path bind-mounted into the set's containers. */
  path: Type.String(),
});
export type VolumeUsage = Static<typeof VolumeUsage>;

/** The volume pool of a host, as its agent reports it. */
export const VolumePool = Type.Object({
  driver: VolumeDriverName,
  /** Bytes of the pool. */
  size: Type.Integer(),
  used: Type.Integer(),
  free: Type.Integer(),
  /** Bytes held by volumes in the recycle bin (they count until purged). */
  trash: Type.Integer(),
  trashCount: Type.Integer(),
});
export type VolumePool = Static<typeof VolumePool>;

/** A deleted set's volume, kept in the host's recycle bin until purged. */
export const TrashEntry = Type.Object({
  /** Unique on its host. */
  trashId: Type.String(),
  host: Type.String(),
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  driver: VolumeDriverName,
  used: Type.Integer(),
  quota: Type.Integer(),
  deletedAt: Type.String(),
  /** When the agent purges it on its own (retention). */
  purgeAt: Type.String(),
});
export type TrashEntry = Static<typeof TrashEntry>;

export const VolumeSnapshot = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  /** Bytes the snapshot references. */
  used: Type.Integer(),
});
export type VolumeSnapshot = Static<typeof VolumeSnapshot>;

/** What the API serves for a volume: the set's volume with its host and usage. */
export const VolumeView = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  host: Type.Optional(Type.String()),
  driver: Type.Optional(VolumeDriverName),
  /** From the host's last heartbeat; absent while unknown. */
  used: Type.Optional(Type.Integer()),
  /** Desired size (the set's disk) and, when reported, the limit in force. */
  size: Type.Integer(),
  quota: Type.Optional(Type.Integer()),
  path: Type.Optional(Type.String()),
  reportedAt: Type.Optional(Type.String()),
  snapshots: Type.Optional(Type.Array(VolumeSnapshot)),
});
export type VolumeView = Static<typeof VolumeView>;

export const ResizeVolumeRequest = Type.Object(
  { size: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })], { description: 'New size, e.g. "20Gi" (bytes when a number)' }) },
  { additionalProperties: false },
);
export type ResizeVolumeRequest = Static<typeof ResizeVolumeRequest>;

/** A file-tree digest of a volume: sha256 over sorted relative paths, modes and contents. */
export const VolumeChecksum = Type.Object({ sha256: Type.String(), files: Type.Integer(), bytes: Type.Integer() });
export type VolumeChecksum = Static<typeof VolumeChecksum>;
