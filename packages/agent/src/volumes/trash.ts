/**
 * The recycle bin's bookkeeping: next to each entry `<pool>/trash/<trashId>` (whose
 * data the driver keeps) a small JSON file says whose volume it was. The file is
 * written before the data moves, so an entry never lacks it; a file whose data is
 * gone is skipped (and removed at the next purge).
 */
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeDriverName } from '@wharf/types';
import type { SetIdentity } from '../containers.js';
import { stamp } from './layout.js';

export interface TrashMeta extends SetIdentity {
  trashId: string;
  driver: VolumeDriverName;
  /** The limit when it was deleted. */
  quota: number;
  /** Bytes it held when it was deleted. */
  used: number;
  deletedAt: string;
  /** Why it went: the set was deleted, its volume replaced by a restore, … */
  reason: string;
}

/** Trash IDs: one path segment, room left for the `.snapshots` suffix. */
export const TRASH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

export function isTrashId(id: string): boolean {
  return TRASH_ID_PATTERN.test(id) && !/\.(json|snapshots|tmp)$/.test(id);
}

/** `<UTC timestamp with ms>_<tenant>_<appkey>_<id>`, e.g. 20250102T030405.123Z_default_web_1. */
export function newTrashId(set: SetIdentity, now: Date): string {
  return `${stamp(now, true)}_${set.tenant}_${set.appkey}_${set.id}`.slice(0, 190);
}

const metaFile = (trashDir: string, trashId: string): string => join(trashDir, `${trashId}.json`);

export async function writeMeta(trashDir: string, meta: TrashMeta): Promise<void> {
  const file = metaFile(trashDir, meta.trashId);
  await writeFile(`${file}.tmp`, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

export async function readMeta(trashDir: string, trashId: string): Promise<TrashMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(metaFile(trashDir, trashId), 'utf8')) as Partial<TrashMeta>;
    if (typeof m.tenant !== 'string' || typeof m.appkey !== 'string' || typeof m.id !== 'string' || typeof m.deletedAt !== 'string') return undefined;
    return {
      trashId,
      tenant: m.tenant,
      appkey: m.appkey,
      id: m.id,
      driver: m.driver === 'xfs' ? 'xfs' : 'btrfs',
      quota: Number(m.quota) || 0,
      used: Number(m.used) || 0,
      deletedAt: m.deletedAt,
      reason: typeof m.reason === 'string' ? m.reason : 'deleted',
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The IDs of every metadata file in the bin. */
export async function listMetaIds(trashDir: string): Promise<string[]> {
  const names = await readdir(trashDir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).filter(isTrashId).sort();
}

export async function removeMeta(trashDir: string, trashId: string): Promise<void> {
  await unlink(metaFile(trashDir, trashId)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
