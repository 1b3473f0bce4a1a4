/**
 * `docker save` archives, read the same way by the CLI (from a file, seeking) and by
 * the server (from the request body, in order): a tar reader over any byte source,
 * and what the metadata says — which file is the image config and which files are
 * its layers, with their digests.
 *
 * Two layouts: Docker's (`manifest.json` → `Config`, `Layers`, `RepoTags`; layer
 * digests are the config's `rootfs.diff_ids`, layers are uncompressed tars) and OCI
 * (`index.json` → manifest blob → config and layers under `blobs/sha256/`). When
 * both are there (Docker 25 and later write both), the OCI one is used.
 */
import { INDEX_MEDIA_TYPES, MediaTypes, parseImageReference } from './registry.js';

/** What a tar is read from: the next bytes in order. */
export interface TarSource {
  /** Bytes consumed so far. */
  readonly position: number;
  /** Exactly `n` bytes, or fewer at the end of the input. */
  read(n: number): Promise<Uint8Array>;
  skip(n: number): Promise<void>;
}

export interface TarEntry {
  /** The path, without a leading "./". */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** A link's target, as written. */
  linkname: string;
  /** Where the entry's first header block starts (pax and GNU long-name records included). */
  start: number;
  /** Where its data starts; it takes `size` bytes, padded to 512. */
  dataOffset: number;
}

/** The archive is not what it should be; the message says what, for the person who sent it. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export const TAR_BLOCK = 512;
/** Pax and long-name records larger than this are refused (they hold a path or two). */
const MAX_RECORD = 1024 * 1024;

export const padded = (size: number) => Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;

const decoder = new TextDecoder();

function text(block: Uint8Array, from: number, length: number): string {
  const field = block.subarray(from, from + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul >= 0 ? field.subarray(0, nul) : field);
}

/** An octal number field, or base-256 when its first byte has the high bit (GNU, for sizes ≥ 8 GiB). */
function number(block: Uint8Array, from: number, length: number): number {
  if ((block[from] ?? 0) & 0x80) {
    let v = (block[from] ?? 0) & 0x7f;
    for (let i = from + 1; i < from + length; i++) v = v * 256 + (block[i] ?? 0);
    return v;
  }
  const s = text(block, from, length).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === number(block, 148, 8);
}

/** `LEN key=value\n` records of a pax header. */
function paxRecords(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = Number(decoder.decode(data.subarray(i, space)));
    if (space < 0 || !(len > 0) || i + len > data.length) throw new ArchiveError('not a valid tar archive: a pax header record is malformed');
    const record = decoder.decode(data.subarray(space + 1, i + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

const TYPES: Record<string, TarEntry['type']> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'directory' };

/**
 * The entries of a tar (ustar, pax and GNU long names), in order. The caller may
 * read an entry's data from the source before asking for the next entry; whatever it
 * leaves is skipped. Ends at the end-of-archive blocks or the end of the input.
 */
export async function* tarEntries(src: TarSource): AsyncGenerator<TarEntry> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let start: number | undefined;
  for (;;) {
    const at = src.position;
    const block = await src.read(TAR_BLOCK);
    if (block.length === 0) return;
    if (block.length < TAR_BLOCK) throw new ArchiveError(`the archive ends in the middle of a header (at byte ${at}): it is truncated`);
    if (block.every((b) => b === 0)) return;
    if (!checksumOk(block)) throw new ArchiveError(`not a tar archive: the header at byte ${at} has a wrong checksum`);
    start ??= at;
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = number(block, 124, 12);
    if (['x', 'g', 'L', 'K'].includes(flag)) {
      if (size > MAX_RECORD) throw new ArchiveError(`not a valid tar archive: a header record at byte ${at} is ${size} bytes`);
      const data = await src.read(size);
      if (data.length < size) throw new ArchiveError('the archive is truncated');
      await src.skip(padded(size) - size);
      if (flag === 'x') pax = { ...pax, ...paxRecords(data) };
      else if (flag === 'L') longName = text(data, 0, data.length);
      else if (flag === 'K') longLink = text(data, 0, data.length);
      continue;
    }
    const prefix = text(block, 257, 5) === 'ustar' ? text(block, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
    const entry: TarEntry = {
      name: normalize(name),
      type: TYPES[flag] ?? 'other',
      size: pax.size !== undefined ? Number(pax.size) : size,
      linkname: pax.linkpath ?? longLink ?? text(block, 157, 100),
      start,
      dataOffset: src.position,
    };
    if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new ArchiveError(`not a valid tar archive: "${entry.name}" has an invalid size`);
    pax = {};
    longName = longLink = start = undefined;
    // Links and directories have no data whatever their size field says.
    const dataSize = entry.type === 'file' || entry.type === 'other' ? entry.size : 0;
    yield entry;
    const end = entry.dataOffset + padded(dataSize);
    if (src.position > end) throw new Error(`tar reader: read past the end of ${entry.name}`);
    await src.skip(end - src.position);
  }
}

/** `./a/b` → `a/b`; `a//b/` → `a/b`. */
export function normalize(path: string): string {
  return path.split('/').filter((p) => p !== '' && p !== '.').join('/');
}

/** Follows symbolic and hard links among the entries to a regular file (Docker's save links a layer shared by two images). */
export function resolveLink(entries: ReadonlyMap<string, TarEntry>, path: string): string {
  let current = normalize(path);
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(current);
    if (!e || (e.type !== 'symlink' && e.type !== 'hardlink')) return current;
    if (e.type === 'hardlink' || e.linkname.startsWith('/')) current = normalize(e.linkname);
    else current = resolveRelative(current, e.linkname);
  }
  throw new ArchiveError(`"${path}" is a loop of links`);
}

function resolveRelative(from: string, link: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const p of link.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '.' && p !== '') parts.push(p);
  }
  return parts.join('/');
}

/** A layer of the image in the archive. */
export interface ArchiveLayer {
  /** The file in the archive (before following links). */
  path: string;
  digest: string;
  mediaType: string;
  /** From an OCI manifest; for Docker's layout, the file's size. */
  size?: number;
}

/** The one image of an archive, as its metadata describes it. */
export interface ArchiveImage {
  layout: 'docker' | 'oci';
  /** The config file; its digest is the sha256 of its bytes. */
  configPath: string;
  layers: ArchiveLayer[];
  /** Names the archive gives the image (`web:1`, `10.0.0.5:5000/default/web:1`). */
  repoTags: string[];
  /** Every metadata file read (the CLI sends these first). */
  metadata: string[];
}

/** The JSON files an archive's metadata is read from: `undefined` for a file not (yet) there. */
export type ArchiveFiles = (path: string) => Promise<unknown>;

/** Not resolvable yet: this file is needed and has not been seen. */
export interface ArchiveMissing {
  missing: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function blobPath(digest: unknown, what: string): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new ArchiveError(`${what}: "${String(digest)}" is not a sha256 digest`);
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ArchiveError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** The image of a `docker save` archive, or the metadata file still missing; throws ArchiveError for what is wrong. */
export async function archiveImage(files: ArchiveFiles, has: (path: string) => boolean): Promise<ArchiveImage | ArchiveMissing> {
  if (has('index.json')) return ociImage(files);
  if (has('manifest.json')) return dockerImage(files);
  return { missing: 'manifest.json' };
}

async function dockerImage(files: ArchiveFiles): Promise<ArchiveImage | ArchiveMissing> {
  const manifest = await files('manifest.json');
  if (!Array.isArray(manifest)) throw new ArchiveError('manifest.json is not a list of images');
  if (manifest.length !== 1) {
    const names = manifest.map((m) => (record(m, 'an image of manifest.json').RepoTags as string[] | undefined)?.join(',') || '<untagged>');
    throw new ArchiveError(`the archive holds ${manifest.length} images (${names.join('; ') || 'none'}); save one image per archive`);
  }
  const image = record(manifest[0], 'the image in manifest.json');
  const configPath = image.Config;
  const layerPaths = image.Layers;
  if (typeof configPath !== 'string' || !Array.isArray(layerPaths) || !layerPaths.every((l) => typeof l === 'string')) {
    throw new ArchiveError('manifest.json: the image has no "Config" file or no "Layers" list');
  }
  const config = await files(normalize(configPath));
  if (config === undefined) return { missing: normalize(configPath) };
  const diffIds = record(record(config, `the image config ${configPath}`).rootfs, `"rootfs" of ${configPath}`).diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== layerPaths.length) {
    throw new ArchiveError(`${configPath} names ${Array.isArray(diffIds) ? diffIds.length : 'no'} layers (rootfs.diff_ids) but manifest.json lists ${layerPaths.length}`);
  }
  const layers = (layerPaths as string[]).map((path, i): ArchiveLayer => {
    const digest = diffIds[i];
    if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new ArchiveError(`${configPath}: rootfs.diff_ids[${i}] is not a sha256 digest`);
    return { path: normalize(path), digest, mediaType: MediaTypes.dockerLayer };
  });
  const repoTags = Array.isArray(image.RepoTags) ? image.RepoTags.filter((t): t is string => typeof t === 'string') : [];
  return { layout: 'docker', configPath: normalize(configPath), layers, repoTags, metadata: ['manifest.json', normalize(configPath)] };
}

const OCI_LAYER_TYPES: Record<string, string> = {
  'application/vnd.oci.image.layer.v1.tar': MediaTypes.dockerLayer,
  'application/vnd.oci.image.layer.v1.tar+gzip': MediaTypes.dockerLayerGzip,
  [MediaTypes.dockerLayer]: MediaTypes.dockerLayer,
  [MediaTypes.dockerLayerGzip]: MediaTypes.dockerLayerGzip,
};

/** index.json → (nested indexes) → the image manifests whose config is in the archive; exactly one. */
async function ociImage(files: ArchiveFiles): Promise<ArchiveImage | ArchiveMissing> {
  const metadata = ['index.json'];
  const found: { manifest: Record<string, unknown>; name?: string }[] = [];
  const visit = async (index: unknown, what: string, depth: number): Promise<ArchiveMissing | undefined> => {
    const list = record(index, what).manifests;
    if (!Array.isArray(list)) throw new ArchiveError(`${what} has no "manifests" list`);
    for (const d of list) {
      const desc = record(d, `an entry of ${what}`);
      const path = blobPath(desc.digest, `a manifest of ${what}`);
      const body = await files(path);
      if (body === undefined) {
        // Indexes of several platforms often hold one; the others are absent.
        if (depth > 0) continue;
        return { missing: path };
      }
      metadata.push(path);
      const annotations = (desc.annotations ?? {}) as Record<string, unknown>;
      if (INDEX_MEDIA_TYPES.includes(String(desc.mediaType)) || Array.isArray(record(body, path).manifests)) {
        if (depth > 3) throw new ArchiveError('index.json: indexes nested too deep');
        const missing = await visit(body, path, depth + 1);
        if (missing) return missing;
        continue;
      }
      const manifest = record(body, path);
      const configPath = blobPath(record(manifest.config, `"config" of ${path}`).digest, `the config of ${path}`);
      if (depth > 0 && (await files(configPath)) === undefined) continue;
      const name = annotations['io.containerd.image.name'] ?? annotations['org.opencontainers.image.ref.name'];
      found.push({ manifest, ...(typeof name === 'string' ? { name } : {}) });
    }
    return undefined;
  };
  const missing = await visit(await files('index.json'), 'index.json', 0);
  if (missing) return missing;
  if (found.length !== 1) throw new ArchiveError(`the archive holds ${found.length} images (index.json); save one image per archive`);
  const { manifest, name } = found[0]!;
  const configPath = blobPath(record(manifest.config, 'the manifest\'s config').digest, 'the manifest\'s config');
  if ((await files(configPath)) === undefined) return { missing: configPath };
  if (!Array.isArray(manifest.layers)) throw new ArchiveError('the image manifest has no "layers" list');
  const layers = manifest.layers.map((l, i): ArchiveLayer => {
    const d = record(l, `layer ${i} of the image manifest`);
    const mediaType = OCI_LAYER_TYPES[String(d.mediaType)];
    if (!mediaType) throw new ArchiveError(`layer ${i} has media type "${String(d.mediaType)}"; only tar and tar+gzip layers can be pushed`);
    const size = Number(d.size);
    return { path: blobPath(d.digest, `layer ${i}`), digest: String(d.digest), mediaType, ...(Number.isSafeInteger(size) && size >= 0 ? { size } : {}) };
  });
  return { layout: 'oci', configPath, layers, repoTags: name ? [name] : [], metadata: [...metadata, configPath] };
}

/** The repository and tag an archive names, without a registry: `10.0.0.5:5000/default/web:1` → `default/web`, `1`. */
export function archiveName(repoTag: string): { name: string; tag: string } {
  const ref = parseImageReference(repoTag);
  return { name: ref.repository, tag: ref.tag ?? 'latest' };
}
