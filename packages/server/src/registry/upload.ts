/**
 * `POST /v1/images/upload`: a `docker save` archive streamed in, pushed to the
 * registry as `<tenant>/<name>:<tag>` without a registry client.
 *
 *   request body ─► tar entries (upload-stream.ts, tarEntries)
 *     small files (≤ 1 MiB: metadata, configs) ─► memory
 *     a layer, once the metadata is known ─► HEAD in the registry: there → skipped;
 *                                            else streamed into a monolithic upload
 *     a large file before the metadata (plain `docker save` puts manifest.json last)
 *                                         ─► a spool file, pushed at the end
 *   end ─► layers not in the archive must be in the repository, or in another of the
 *          tenant's (mounted) · config blob · Docker schema 2 manifest under the tag
 *
 * `wharf image push` sends the metadata first and leaves out the layers the registry
 * has (asked with `layerPresence` first), so nothing is spooled and skipped layers
 * are never sent. Layers are pushed as they are in the archive: `docker save` layers
 * are uncompressed tars (`…rootfs.diff.tar`, which Distribution stores and Docker
 * pulls), so their digests are the config's diff IDs, known before any byte is read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ArchiveError, IMAGE_TAG_PATTERN, MediaTypes, WharfError, archiveImage, archiveName, repositoryTenant, resolveLink, tarEntries,
  type ArchiveImage, type ImageUploadResult, type TarEntry, type UploadedLayer,
} from '@wharf/types';
import type { RegistryPrincipal } from './access.js';
import { requireWrite, subjectOf } from './catalog.js';
import { StreamTarSource } from './upload-stream.js';
import { RegistryError, type RegistryV2Client } from './v2-client.js';

/** Files up to this size are kept in memory (metadata, configs, tiny layers)… */
const SMALL_FILE = 1024 * 1024;
/** …as long as they add up to no more than this. */
const MEMORY_CAP = 32 * 1024 * 1024;
/** Other repositories of the tenant asked for a missing layer before it counts as missing. */
const MOUNT_CANDIDATES = 50;

export interface UploadOptions {
  client: RegistryV2Client;
  /** The registry address, for the image reference answered. */
  address: string;
  tenant: string;
  /** The repository within the tenant and the tag; default: the name the archive gives its image. */
  name?: string;
  tag?: string;
  who: RegistryPrincipal;
  /** Where large files that come before the metadata wait. */
  spoolDir: string;
  /** Every repository of the registry (mount candidates are the tenant's). */
  catalog: () => Promise<string[]>;
}

/** Where each layer is: the repository has it (size), or another of the tenant's does. */
export type LayerPresence = Map<string, { size: number; from?: string }>;

/** Which of `digests` the repository has, or another repository of its tenant (`from`), with their sizes. */
export async function layerPresence(client: RegistryV2Client, repository: string, digests: readonly string[], catalog: () => Promise<string[]>): Promise<LayerPresence> {
  const out: LayerPresence = new Map();
  const unique = [...new Set(digests)];
  for (const d of unique) {
    const size = await client.blobSize(repository, d);
    if (size !== undefined) out.set(d, { size });
  }
  let missing = unique.filter((d) => !out.has(d));
  if (missing.length === 0) return out;
  const tenant = repositoryTenant(repository)?.tenant;
  const candidates = (await catalog()).filter((r) => r !== repository && repositoryTenant(r)?.tenant === tenant).slice(0, MOUNT_CANDIDATES);
  for (const from of candidates) {
    for (const d of missing) {
      const size = await client.blobSize(from, d);
      if (size !== undefined) out.set(d, { size, from });
    }
    missing = missing.filter((d) => !out.has(d));
    if (missing.length === 0) break;
  }
  return out;
}

/** The repository `<tenant>/<name>` and tag, checked; 400 naming what is wrong. */
export function uploadTarget(tenant: string, name: string, tag: string): { repository: string; tag: string } {
  const repository = `${tenant}/${name}`;
  if (!repositoryTenant(repository)) {
    throw WharfError.validation([{ path: 'name', message: `"${name}" is not an image name (lowercase letters and digits, with ".", "_", "-" or "/" between them)` }]);
  }
  if (!new RegExp(IMAGE_TAG_PATTERN).test(tag)) throw WharfError.validation([{ path: 'tag', message: `"${tag}" is not a tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")` }]);
  return { repository, tag };
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function uploadArchive(body: AsyncIterable<Uint8Array>, o: UploadOptions): Promise<ImageUploadResult> {
  const src = new StreamTarSource(body);
  const dir = join(o.spoolDir, `upload-${randomBytes(8).toString('hex')}`);
  const entries = new Map<string, TarEntry>();
  const memory = new Map<string, Buffer>();
  const spooled = new Map<string, string>();
  let memoryBytes = 0;
  const subject = subjectOf(o.who);

  /** The image and where it goes, once the metadata is complete. */
  let plan: { image: ArchiveImage; repository: string; tag: string; presence: LayerPresence } | undefined;
  const done = new Map<string, UploadedLayer['action']>();
  let uploaded = 0;

  const bytesOf = async (path: string): Promise<Buffer | undefined> => {
    const file = spooled.get(path);
    return memory.get(path) ?? (file ? readFile(file) : undefined);
  };
  const json = async (path: string): Promise<unknown> => {
    const b = await bytesOf(path);
    if (!b) return undefined;
    try {
      return JSON.parse(b.toString('utf8'));
    } catch {
      throw new ArchiveError(`${path} in the archive is not valid JSON`);
    }
  };
  const resolvePlan = async () => {
    if (plan) return plan;
    const image = await archiveImage(json, (p) => entries.has(p));
    if ('missing' in image) return undefined;
    const named = image.repoTags[0] ? archiveName(image.repoTags[0]) : undefined;
    const name = o.name ?? named?.name;
    if (!name) throw new ArchiveError('the archive does not name its image (docker save IMAGE:TAG names it); give a name');
    const target = uploadTarget(o.tenant, name, o.tag ?? (o.name === undefined ? named?.tag : undefined) ?? 'latest');
    requireWrite(o.who, target.repository, 'push');
    const presence = await layerPresence(o.client, target.repository, image.layers.map((l) => l.digest), o.catalog);
    plan = { image, ...target, presence };
    return plan;
  };
  /** Links a layer the repository lacks from the tenant's repository that has it. */
  const mountOrPresent = async (digest: string): Promise<UploadedLayer['action'] | undefined> => {
    const p = plan!.presence.get(digest);
    if (!p) return undefined;
    if (p.from && !(await o.client.mount(plan!.repository, digest, p.from, subject))) return undefined;
    return p.from ? 'mounted' : 'present';
  };
  const push = async (digest: string, size: number, content: Buffer | Readable, what: string) => {
    try {
      await o.client.upload(plan!.repository, digest, size, content, subject);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'DIGEST_INVALID') throw new ArchiveError(`${what} does not match its digest ${digest}: the archive is damaged`);
      throw err;
    }
    uploaded += size;
  };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    for await (const e of tarEntries(src)) {
      entries.set(e.name, e);
      if (e.type !== 'file') continue;
      if (e.size <= SMALL_FILE && memoryBytes + e.size <= MEMORY_CAP) {
        const data = await src.read(e.size);
        if (data.length < e.size) throw new ArchiveError(`the archive ends inside ${e.name}: it is truncated`);
        memory.set(e.name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        memoryBytes += e.size;
        continue;
      }
      const p = await resolvePlan();
      const layer = p?.image.layers.find((l) => resolveLink(entries, l.path) === e.name);
      if (p && layer) {
        if (done.has(layer.digest)) continue;
        const action = await mountOrPresent(layer.digest);
        if (action) {
          done.set(layer.digest, action);
          continue;
        }
        await push(layer.digest, e.size, Readable.from(src.chunks(e.size)), `layer ${layer.path}`);
        done.set(layer.digest, 'uploaded');
        continue;
      }
      const file = join(dir, String(spooled.size));
      await pipeline(Readable.from(src.chunks(e.size)), createWriteStream(file));
      spooled.set(e.name, file);
    }
    await src.drain();
    const p = await resolvePlan();
    if (!p) {
      throw new ArchiveError(entries.has('manifest.json') || entries.has('index.json')
        ? 'the archive lacks a file its metadata names (the image config or a manifest); was it cut short?'
        : 'not a docker save archive: it has neither manifest.json nor index.json');
    }
    const layers: UploadedLayer[] = [];
    for (const l of p.image.layers) {
      const path = resolveLink(entries, l.path);
      const entry = entries.get(path);
      if (!done.has(l.digest)) {
        const action = await mountOrPresent(l.digest);
        if (action) done.set(l.digest, action);
        else if (memory.has(path)) await push(l.digest, memory.get(path)!.length, memory.get(path)!, `layer ${l.path}`);
        else if (spooled.has(path)) await push(l.digest, entry!.size, createReadStream(spooled.get(path)!), `layer ${l.path}`);
        else throw new ArchiveError(`layer ${l.path} (${l.digest}) is neither in the archive nor in the registry`);
        done.set(l.digest, done.get(l.digest) ?? 'uploaded');
      }
      const size = entry?.type === 'file' ? entry.size : (l.size ?? p.presence.get(l.digest)?.size ?? 0);
      layers.push({ digest: l.digest, size, mediaType: l.mediaType, action: done.get(l.digest)! });
    }
    const config = await bytesOf(p.image.configPath);
    if (!config) throw new ArchiveError(`the image config ${p.image.configPath} is not in the archive`);
    const configDigest = sha256(config);
    if ((await o.client.blobSize(p.repository, configDigest)) === undefined) await push(configDigest, config.length, config, `the image config ${p.image.configPath}`);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: { mediaType: MediaTypes.dockerConfig, size: config.length, digest: configDigest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
    }));
    const digest = await o.client.putManifest(p.repository, p.tag, MediaTypes.dockerManifest, manifest, subject);
    const layerBytes = [...new Map(layers.map((l) => [l.digest, l.size])).values()].reduce((n, s) => n + s, 0);
    return {
      image: `${o.address}/${p.repository}:${p.tag}`, repository: p.repository, tag: p.tag, digest,
      size: config.length + layerBytes, layers, received: src.received, uploaded,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
