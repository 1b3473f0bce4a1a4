/**
 * A volume's file-tree digest, to tell that a migrated or restored volume holds the
 * same data: sha256 over every entry sorted by relative path (bytewise), each as
 *
 *   d <mode> <path>\n                      directory
 *   f <mode> <size> <path>\n<contents>     regular file
 *   l <mode> <path>\n<target>\n            symbolic link (not followed)
 *   p|c|b <mode> <path>\n                  FIFO, character or block device (no contents)
 *
 * with <mode> the permission bits in octal. Sockets are skipped; owners and times are
 * not part of it. Contents are streamed, so a large volume needs little memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeChecksum } from '@wharf/types';

interface Entry {
  rel: Buffer;
  type: 'd' | 'f' | 'l' | 'p' | 'c' | 'b';
  mode: number;
  size: number;
}

async function walk(root: string, rel: string, out: Entry[]): Promise<void> {
  const names = await readdir(rel ? join(root, rel) : root);
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const s = await lstat(join(root, r));
    const type = s.isDirectory() ? 'd' : s.isFile() ? 'f' : s.isSymbolicLink() ? 'l' : s.isFIFO() ? 'p' : s.isCharacterDevice() ? 'c' : s.isBlockDevice() ? 'b' : undefined;
    if (!type) continue; // a socket
    out.push({ rel: Buffer.from(r), type, mode: s.mode & 0o7777, size: s.size });
    if (type === 'd') await walk(root, r, out);
  }
}

async function hashFile(hash: Hash, path: string): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

export async function treeChecksum(root: string): Promise<VolumeChecksum> {
  const entries: Entry[] = [];
  await walk(root, '', entries);
  entries.sort((a, b) => Buffer.compare(a.rel, b.rel));
  const hash = createHash('sha256');
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    const mode = e.mode.toString(8);
    const path = e.rel.toString();
    if (e.type === 'f') {
      hash.update(`f ${mode} ${e.size} ${path}\n`);
      bytes += await hashFile(hash, join(root, path));
      files++;
    } else if (e.type === 'l') {
      hash.update(`l ${mode} ${path}\n${await readlink(join(root, path))}\n`);
    } else {
      hash.update(`${e.type} ${mode} ${path}\n`);
    }
  }
  return { sha256: hash.digest('hex'), files, bytes };
}
