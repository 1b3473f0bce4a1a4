/**
 * A set's volume is a plain directory for now (quotas come later). Deleting a set
 * moves it to the recycle bin instead of removing it.
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { volumePath, type SetIdentity } from './containers.js';

export async function ensureVolume(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

/** `<data-dir>/recycle/<timestamp>_<tenant>_<appkey>_<id>`; undefined when there was nothing to move. */
export async function recycleVolume(dataDir: string, set: SetIdentity, now = new Date()): Promise<string | undefined> {
  const from = volumePath(dataDir, set);
  try {
    await stat(from);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const stamp = now.toISOString().replace(/[-:]/g, '');
  const bin = join(dataDir, 'recycle');
  await mkdir(bin, { recursive: true });
  const to = join(bin, `${stamp}_${set.tenant}_${set.appkey}_${set.id}`);
  await rename(from, to);
  return to;
}
