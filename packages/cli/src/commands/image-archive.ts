/**
 * A `docker save` archive on disk, as `wharf image push` reads it: its entries (the
 * headers only: data is skipped by seeking), the image its metadata describes, and
 * the part of it worth sending — byte ranges of the file, metadata first, then only
 * the layers the registry lacks, closed by the two end-of-archive blocks. What is
 * sent is itself a tar archive, made of the original headers and data unchanged.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import {
  ArchiveError, TAR_BLOCK, archiveImage, padded, resolveLink, tarEntries,
  type ArchiveImage, type TarEntry, type TarSource,
} from '@wharf/types';

/** Reads at a position of the file; skipping only moves the position. */
class FileTarSource implements TarSource {
  position = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  async read(n: number): Promise<Uint8Array> {
    const buf = Buffer.alloc(Math.max(0, Math.min(n, this.size - this.position)));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.position);
    this.position += bytesRead;
    return buf.subarray(0, bytesRead);
  }

  async skip(n: number): Promise<void> {
    if (this.position + n > this.size) throw new ArchiveError(`the archive ends ${this.position + n - this.size} bytes early: it is truncated`);
    this.position += n;
  }
}

export interface LocalArchive {
  file: string;
  size: number;
  entries: Map<string, TarEntry>;
  image: ArchiveImage;
}

/** Metadata files larger than this are not believed. */
const MAX_METADATA = 16 * 1024 * 1024;

export async function readLocalArchive(file: string): Promise<LocalArchive> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const src = new FileTarSource(fh, size);
    const entries = new Map<string, TarEntry>();
    for await (const e of tarEntries(src)) entries.set(e.name, e);
    const json = async (path: string): Promise<unknown> => {
      const e = entries.get(resolveLink(entries, path));
      if (!e || e.type !== 'file') return undefined;
      if (e.size > MAX_METADATA) throw new ArchiveError(`${path} is ${e.size} bytes: too large for metadata`);
      const buf = Buffer.alloc(e.size);
      await fh.read(buf, 0, e.size, e.dataOffset);
      try {
        return JSON.parse(buf.toString('utf8'));
      } catch {
        throw new ArchiveError(`${path} is not valid JSON`);
      }
    };
    const image = await archiveImage(json, (p) => entries.has(p));
    if ('missing' in image) {
      throw new ArchiveError(image.missing === 'manifest.json' ? 'not a docker save archive: it has neither manifest.json nor index.json' : `${image.missing} is missing from the archive`);
    }
    return { file, size, entries, image };
  } finally {
    await fh.close();
  }
}

/** A layer of the archive as `image push` reports it. */
export interface LocalLayer {
  digest: string;
  size: number;
}

/** The unique layers of the image, with the size of their file in the archive. */
export function archiveLayers(a: LocalArchive): LocalLayer[] {
  const seen = new Map<string, LocalLayer>();
  for (const l of a.image.layers) {
    const e = a.entries.get(resolveLink(a.entries, l.path));
    if (!seen.has(l.digest)) seen.set(l.digest, { digest: l.digest, size: e?.type === 'file' ? e.size : (l.size ?? 0) });
  }
  return [...seen.values()];
}

export interface UploadSelection {
  /** [start, end) byte ranges of the file, in the order they are sent. */
  ranges: [number, number][];
  /** Bytes sent: the ranges and the end blocks. */
  length: number;
}

/** Metadata, the links layers are named by, then the layers not in `present`; each entry once. */
export function selectUpload(a: LocalArchive, present: ReadonlySet<string>): UploadSelection {
  const picked: TarEntry[] = [];
  const add = (path: string) => {
    const e = a.entries.get(path);
    if (e && !picked.includes(e)) picked.push(e);
  };
  for (const path of a.image.metadata) add(path);
  const missing = a.image.layers.filter((l) => !present.has(l.digest));
  for (const l of missing) if (resolveLink(a.entries, l.path) !== l.path) add(l.path);
  for (const l of missing) add(resolveLink(a.entries, l.path));
  const ranges = picked.map((e): [number, number] => [e.start, e.dataOffset + (e.type === 'file' || e.type === 'other' ? padded(e.size) : 0)]);
  return { ranges, length: ranges.reduce((n, [s, e]) => n + e - s, 0) + 2 * TAR_BLOCK };
}

/** The selected ranges of the file and the end blocks, as chunks; `sent` is told the bytes so far. */
export async function* uploadStream(file: string, sel: UploadSelection, sent: (bytes: number) => void = () => undefined): AsyncGenerator<Uint8Array> {
  let total = 0;
  for (const [start, end] of sel.ranges) {
    if (end <= start) continue;
    for await (const chunk of createReadStream(file, { start, end: end - 1, highWaterMark: 256 * 1024 })) {
      total += (chunk as Buffer).length;
      sent(total);
      yield chunk as Buffer;
    }
  }
  total += 2 * TAR_BLOCK;
  sent(total);
  yield new Uint8Array(2 * TAR_BLOCK);
}
