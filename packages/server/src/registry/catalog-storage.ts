/**
 * The two things done in the registry's storage (the filesystem driver under
 * `<dir>/data`) rather than through its API, because Distribution 2.8's API cannot:
 *
 * - **untag**: its API deletes a manifest by digest only, and with it every tag of that
 *   digest. Removing `_manifests/tags/<tag>` is exactly its own untag (tags are read
 *   from storage on every request; nothing caches them); the manifest left untagged
 *   goes at the next garbage collection unless a set names its digest.
 * - **list a repository's manifests** (tagged or not), for garbage collection.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

function repositoryDir(storageRoot: string, repository: string): string {
  return join(storageRoot, 'docker/registry/v2/repositories', ...repository.split('/'));
}

/** Removes a tag; false when the repository has no such tag. */
export async function untag(storageRoot: string, repository: string, tag: string): Promise<boolean> {
  const tags = join(repositoryDir(storageRoot, repository), '_manifests/tags');
  const aside = join(tags, `.deleted-${randomBytes(6).toString('hex')}`);
  try {
    // One rename takes the tag away at once; the files go after.
    await rename(join(tags, tag), aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
  return true;
}

/** Every manifest digest stored in the repository (its revisions). */
export async function manifestRevisions(storageRoot: string, repository: string): Promise<string[]> {
  const dir = join(repositoryDir(storageRoot, repository), '_manifests/revisions/sha256');
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
}

/** Bytes of every blob in the storage. */
export async function blobBytes(storageRoot: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += (await stat(p)).size;
    }
  };
  await walk(join(storageRoot, 'docker/registry/v2/blobs'));
  return total;
}
