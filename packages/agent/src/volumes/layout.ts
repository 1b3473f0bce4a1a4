/**
 * Where volumes live. Every driver keeps its things in `<data-dir>/pool`:
 *
 *   <data-dir>/pool.img                      btrfs pool on a sparse loop file (default)
 *   <data-dir>/pool/                         btrfs: the pool's mount point; xfs: a directory
 *     volumes/<tenant>/<appkey>/<id>         btrfs subvolume / xfs mount point (the set's volume)
 *     images/<tenant>/<appkey>/<id>.img      xfs: the volume's filesystem image
 *     snapshots/<tenant>/<appkey>/<id>/<name> btrfs: read-only snapshots
 *     trash/<trashId>                        recycle bin: subvolume / xfs image
 *     trash/<trashId>.json                   its metadata (trash.ts)
 *     trash/<trashId>.snapshots/<name>       the snapshots that went with it
 *     incoming/                              staged restores and imports, export snapshots
 *   <data-dir>/volumes -> pool/volumes       so volume paths stay <data-dir>/volumes/<t>/<a>/<id>
 *   <data-dir>/recycle -> pool/trash
 */
import { lstat, mkdir, readdir, rename, rmdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { volumePath, type SetIdentity } from '../containers.js';

export const POOL_DIR = 'pool';
export const POOL_IMAGE = 'pool.img';
export const LEGACY_VOLUMES = 'volumes.legacy';

/** Snapshot names and trash IDs: one safe path segment. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isSafeName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.endsWith('.json') && !name.endsWith('.snapshots') && !name.endsWith('.img');
}

export function poolDir(dataDir: string): string {
  return join(dataDir, POOL_DIR);
}

/** `volumes/<tenant>/<appkey>/<id>` inside the pool; throws on a segment that could escape it. */
export function volumeRel(set: SetIdentity): string {
  volumePath('/', set);
  return join('volumes', set.tenant, set.appkey, set.id);
}

export function snapshotsRel(set: SetIdentity): string {
  volumePath('/', set);
  return join('snapshots', set.tenant, set.appkey, set.id);
}

/** `tenant/appkey/id` → identity; undefined when it is not one. */
export function parseRef(ref: string): SetIdentity | undefined {
  const [tenant, appkey, id, ...rest] = ref.split('/');
  if (!tenant || !appkey || !id || rest.length) return undefined;
  const set = { tenant, appkey, id };
  try {
    volumePath('/', set);
  } catch {
    return undefined;
  }
  return set;
}

/** A UTC timestamp usable as a name: 20250102T030405Z. */
export function stamp(d: Date, ms = false): string {
  const iso = d.toISOString().replace(/[-:]/g, '');
  return ms ? iso : iso.replace(/\.\d{3}Z$/, 'Z');
}

async function kind(path: string): Promise<'missing' | 'link' | 'dir' | 'other'> {
  try {
    const s = await lstat(path);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/**
 * `<data-dir>/volumes` and `<data-dir>/recycle` become links into the pool. A
 * `volumes` directory of an earlier agent (plain directories, no quota) is kept as
 * `volumes.legacy`: each set's data is copied into its new volume when it is
 * created (manager.ts). Resolves with what it did.
 */
export async function linkDataDir(dataDir: string): Promise<string[]> {
  const notes: string[] = [];
  for (const [name, target] of [['volumes', `${POOL_DIR}/volumes`], ['recycle', `${POOL_DIR}/trash`]] as const) {
    const path = join(dataDir, name);
    let k = await kind(path);
    if (k === 'dir') {
      if ((await readdir(path)).length === 0) {
        await rmdir(path);
        k = 'missing';
      } else if (name === 'volumes') {
        await rename(path, join(dataDir, LEGACY_VOLUMES));
        notes.push(`moved the plain volume directories of an earlier agent to ${join(dataDir, LEGACY_VOLUMES)}; each is copied into its set's new volume`);
        k = 'missing';
      } else {
        notes.push(`${path} is a directory of an earlier agent: left as it is (the recycle bin is now ${join(dataDir, target)})`);
      }
    }
    if (k === 'missing') await symlink(target, path);
    else if (k === 'other') throw new Error(`${path} is in the way: remove it (the agent links it to ${target})`);
  }
  return notes;
}

/** mkdir -p for each of `dirs` inside `base`. */
export async function ensureDirs(base: string, dirs: string[]): Promise<void> {
  for (const d of dirs) await mkdir(join(base, d), { recursive: true });
}
