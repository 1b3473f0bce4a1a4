/**
 * The image catalog: the registry's own view (repositories, tags, manifests, blob
 * sizes, all through its API v2), joined with Wharf's (which sets use each image,
 * who pushed each tag when, visibility), and the catalog's writes: remove a tag or a
 * repository (refused while sets use it), point a tag at another image.
 *
 * Manifests are immutable, so what is read of one (its blobs, its config's platform)
 * is kept by digest; tags are read afresh on every request.
 */
import type { Store } from '@wharf/store';
import {
  INDEX_MEDIA_TYPES, WharfError, parseImageReference, repositoryTenant,
  type ImageBlob, type ImageDeleted, type ImageDetail, type ImageManifest, type ImageRepository, type ImageTag, type ImageUse, type SetObject,
} from '@wharf/types';
import { Keys } from '../state/keys.js';
import { catalogVisible, mayWrite, type RegistryPrincipal } from './access.js';
import { untag } from './catalog-storage.js';
import { imageUses, useName, usesOf } from './catalog-usage.js';
import { forgetPushes, pushRecords, tenantPushRecords, type PushRecord } from './notifications.js';
import { getVisibility } from './repositories.js';
import type { RegistryV2Client } from './v2-client.js';

export interface CatalogOptions {
  store: Store;
  client: RegistryV2Client;
  /** The registry address in image references. */
  address: string;
  storageRoot: string;
}

/** A manifest as the catalog keeps it. */
interface ManifestFacts {
  detail: ImageManifest;
  /** Config and layers (of every platform of an index), each once. */
  blobs: ImageBlob[];
  platforms?: string[];
}

const MAX_KEPT_MANIFESTS = 10_000;
const PARALLEL = 8;

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const sum = (blobs: readonly ImageBlob[]) => blobs.reduce((n, b) => n + b.size, 0);

function uniqueBlobs(blobs: Iterable<ImageBlob>): ImageBlob[] {
  const seen = new Map<string, ImageBlob>();
  for (const b of blobs) if (!seen.has(b.digest)) seen.set(b.digest, b);
  return [...seen.values()];
}

function blobOf(d: unknown): ImageBlob {
  const x = (d ?? {}) as { digest?: unknown; size?: unknown; mediaType?: unknown };
  return { digest: String(x.digest), size: Number(x.size) || 0, mediaType: String(x.mediaType ?? '') };
}

export function inUse(what: string, uses: ImageUse[]): WharfError {
  const names = uses.map(useName);
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  return new WharfError('IMAGE_IN_USE', `${what} is used by ${uses.length} set${uses.length === 1 ? '' : 's'} (${shown}); change or delete them first`, { sets: uses });
}

export class ImageCatalog {
  private readonly manifests = new Map<string, ManifestFacts>();

  constructor(private readonly o: CatalogOptions) {}

  /** The repositories of `tenant` that `who` may see and that have a tag, by name. */
  async list(tenant: string, who: RegistryPrincipal): Promise<ImageRepository[]> {
    const repositories = (await this.o.client.catalog()).filter((r) => repositoryTenant(r)?.tenant === tenant);
    const [uses, pushes, visibility] = await Promise.all([this.uses(), tenantPushRecords(this.o.store, tenant), this.visibility(tenant)]);
    const visible = repositories.filter((r) => catalogVisible(who, r, { public: visibility.get(r) ?? false }));
    const views = await mapLimit(visible, PARALLEL, async (r) => (await this.view(r, uses.get(r) ?? [], pushes.filter((p) => p.repository === r), visibility.get(r) ?? false)).repo);
    return views.filter((v) => v.tags.length > 0).sort((a, b) => a.repository.localeCompare(b.repository));
  }

  /** One repository with the manifest of every tag; 404 when it has no tag, or `who` may not see it. */
  async inspect(repository: string, who: RegistryPrincipal): Promise<ImageDetail> {
    const isPublic = (await getVisibility(this.o.store, repository)).public;
    if (!catalogVisible(who, repository, { public: isPublic })) throw notFound(repository);
    const uses = (await this.uses()).get(repository) ?? [];
    const { repo, manifests } = await this.view(repository, uses, await pushRecords(this.o.store, repository), isPublic);
    if (repo.tags.length === 0) throw notFound(repository);
    return { ...repo, manifests: Object.fromEntries([...manifests].map(([d, f]) => [d, f.detail])) };
  }

  /**
   * Removes a tag, or every tag of the repository; the manifests and blobs left without
   * a tag go at the next garbage collection. 409 IMAGE_IN_USE while sets name the tag
   * (or its digest), or for a repository any of its images.
   */
  async remove(repository: string, tag: string | undefined, who: RegistryPrincipal): Promise<ImageDeleted> {
    requireWrite(who, repository, 'delete');
    const tags = await this.o.client.tags(repository);
    if (tags.length === 0) throw notFound(repository);
    if (tag !== undefined && !tags.includes(tag)) throw new WharfError('IMAGE_NOT_FOUND', `${repository} has no tag "${tag}"`, { repository, tag });
    const targets = tag !== undefined ? [tag] : tags;
    const digests = new Map<string, string>();
    for (const t of targets) {
      const d = await this.o.client.manifestDigest(repository, t);
      if (d) digests.set(t, d);
    }
    const all = (await this.uses()).get(repository) ?? [];
    const blocking = tag !== undefined ? usesOf(all, tag, digests.get(tag)) : all;
    if (blocking.length > 0) throw inUse(tag !== undefined ? `${repository}:${tag}` : repository, blocking);
    for (const t of targets) await untag(this.o.storageRoot, repository, t);
    await forgetPushes(this.o.store, repository, tag);
    return { repository, tags: targets, digests: [...new Set(digests.values())] };
  }

  /** Points `tag` of `repository` at the image `source` names in the same tenant (`NAME:TAG` or `NAME@DIGEST`). */
  async tag(repository: string, tag: string, source: string, who: RegistryPrincipal): Promise<ImageTag> {
    requireWrite(who, repository, 'push');
    const subject = subjectOf(who);
    const tenant = repositoryTenant(repository)!.tenant;
    const ref = parseImageReference(source);
    const from = `${tenant}/${ref.repository}`;
    const bad = (why: string) => WharfError.validation([{ path: 'source', message: `"${source}" ${why}` }]);
    if (ref.registry) throw bad(`names a registry; give NAME:TAG or NAME@DIGEST within tenant ${tenant}`);
    if (!repositoryTenant(from)) throw bad('is not an image name (lowercase letters, digits, and ".", "_", "-" between them)');
    const m = await this.o.client.manifest(from, ref.digest ?? ref.tag ?? 'latest');
    if (!m) throw new WharfError('IMAGE_NOT_FOUND', `${from}${ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`} is not in the registry`, { repository: from });
    if (from !== repository) await this.copyInto(repository, from, m, subject);
    const digest = await this.o.client.putManifest(repository, tag, m.mediaType, m.body, subject);
    const facts = await this.facts(repository, digest);
    return { tag, digest, mediaType: facts.detail.mediaType, size: sum(facts.blobs), ...(facts.platforms ? { platforms: facts.platforms } : {}), usedBy: [] };
  }

  /** Makes what a manifest of `from` references present in `repository` (blobs mounted, an index's manifests copied). */
  private async copyInto(repository: string, from: string, m: { mediaType: string; body: Buffer }, subject: string | undefined): Promise<void> {
    const doc = JSON.parse(m.body.toString()) as { config?: unknown; layers?: unknown[]; manifests?: { digest?: string }[] };
    if (INDEX_MEDIA_TYPES.includes(m.mediaType)) {
      for (const child of doc.manifests ?? []) {
        const cm = child.digest ? await this.o.client.manifest(from, child.digest) : undefined;
        if (!cm) continue;
        await this.copyInto(repository, from, cm, subject);
        await this.o.client.putManifest(repository, cm.digest, cm.mediaType, cm.body, subject);
      }
      return;
    }
    for (const b of [doc.config, ...(doc.layers ?? [])].filter(Boolean).map(blobOf)) {
      if ((await this.o.client.blobSize(repository, b.digest)) !== undefined) continue;
      if (!(await this.o.client.mount(repository, b.digest, from, subject))) throw new Error(`blob ${b.digest} of ${from} could not be mounted into ${repository}`);
    }
  }

  /** Every set's use of a platform image, by repository. */
  private async uses(): Promise<Map<string, ImageUse[]>> {
    const sets = (await this.o.store.list<SetObject>(Keys.setsPrefix)).items.map((kv) => kv.value);
    return imageUses(sets, this.o.address);
  }

  private async visibility(tenant: string): Promise<Map<string, boolean>> {
    const items = (await this.o.store.list<{ public: boolean }>(Keys.registryRepo(`${tenant}/`))).items;
    return new Map(items.map((kv) => [kv.key.slice(Keys.registryRepo('').length), kv.value.public]));
  }

  /** A repository's tags with their manifests. */
  private async view(repository: string, uses: ImageUse[], pushes: PushRecord[], isPublic: boolean): Promise<{ repo: ImageRepository; manifests: Map<string, ManifestFacts> }> {
    const { tenant, name } = repositoryTenant(repository)!;
    const manifests = new Map<string, ManifestFacts>();
    const tagNames = (await this.o.client.tags(repository)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const tags = (await mapLimit(tagNames, PARALLEL, async (tag): Promise<ImageTag | undefined> => {
      const digest = await this.o.client.manifestDigest(repository, tag);
      if (!digest) return undefined;
      const facts = await this.facts(repository, digest);
      manifests.set(digest, facts);
      const push = pushes.find((p) => p.tag === tag && p.digest === digest);
      return {
        tag, digest, mediaType: facts.detail.mediaType, size: sum(facts.blobs),
        ...(facts.platforms ? { platforms: facts.platforms } : {}),
        ...(push ? { pushedAt: push.pushedAt, ...(push.pushedBy ? { pushedBy: push.pushedBy } : {}) } : {}),
        usedBy: usesOf(uses, tag, digest),
      };
    })).filter((t): t is ImageTag => t !== undefined);
    const size = sum(uniqueBlobs([...manifests.values()].flatMap((f) => f.blobs)));
    return { repo: { repository, tenant, name, image: `${this.o.address}/${repository}`, public: isPublic, tags, size, usedBy: uses }, manifests };
  }

  /** What a manifest holds (read once per digest). */
  private async facts(repository: string, digest: string, depth = 0): Promise<ManifestFacts> {
    const kept = this.manifests.get(digest);
    if (kept) return kept;
    const m = await this.o.client.manifest(repository, digest);
    if (!m) return { detail: { digest, mediaType: 'unknown', layers: [] }, blobs: [] };
    const doc = JSON.parse(m.body.toString()) as { config?: unknown; layers?: unknown[]; manifests?: { digest?: string; platform?: { os?: string; architecture?: string; variant?: string } }[] };
    let facts: ManifestFacts;
    if (INDEX_MEDIA_TYPES.includes(m.mediaType) && depth === 0) {
      const children = (doc.manifests ?? []).filter((c) => c.digest);
      const platform = (c: (typeof children)[number]) => [c.platform?.os, c.platform?.architecture, c.platform?.variant].filter(Boolean).join('/') || 'unknown';
      const inner = await mapLimit(children, PARALLEL, (c) => this.facts(repository, c.digest!, depth + 1));
      facts = {
        detail: { digest, mediaType: m.mediaType, layers: [], manifests: children.map((c) => ({ digest: c.digest!, platform: platform(c) })) },
        blobs: uniqueBlobs(inner.flatMap((f) => f.blobs)),
        platforms: children.map(platform),
      };
    } else {
      const config = doc.config ? blobOf(doc.config) : undefined;
      const layers = (doc.layers ?? []).map(blobOf);
      const image = config ? await this.o.client.blob(repository, config.digest).catch(() => undefined) : undefined;
      let about: { os?: unknown; architecture?: unknown; created?: unknown } = {};
      try {
        about = image ? (JSON.parse(image.toString()) as typeof about) : {};
      } catch {
        /* a config that is not JSON: no platform shown */
      }
      facts = {
        detail: {
          digest, mediaType: m.mediaType, ...(config ? { config } : {}), layers,
          ...(typeof about.os === 'string' ? { os: about.os } : {}),
          ...(typeof about.architecture === 'string' ? { architecture: about.architecture } : {}),
          ...(typeof about.created === 'string' ? { created: about.created } : {}),
        },
        blobs: uniqueBlobs([...(config ? [config] : []), ...layers]),
      };
    }
    if (this.manifests.size >= MAX_KEPT_MANIFESTS) this.manifests.delete(this.manifests.keys().next().value!);
    this.manifests.set(digest, facts);
    return facts;
  }
}

/** 403 unless `who` may `action` in `repository` (access.ts decides). */
export function requireWrite(who: RegistryPrincipal, repository: string, action: 'push' | 'delete'): void {
  if (!mayWrite(who, repository, action, { public: false })) {
    throw new WharfError('FORBIDDEN', `${who.kind === 'host' ? 'the join token' : 'this caller'} may not ${action} ${repository}`);
  }
}

/** The token name a write is done in the name of (the registry's notifications name it). */
export function subjectOf(who: RegistryPrincipal): string | undefined {
  return who.kind === 'anonymous' ? undefined : who.subject;
}

export function notFound(repository: string): WharfError {
  return new WharfError('IMAGE_NOT_FOUND', `no image ${repository} in the platform registry`, { repository });
}
