/**
 * The platform registry: CNCF Distribution run by wharf-server, with the server as
 * its token issuer. Images live at `<address>/<tenant>/<name>:<tag>`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TENANT_PATTERN } from './patterns.js';

/**
 * A pull-through mirror of an upstream registry, run by wharf-server beside the
 * platform registry (same CA, same token service). Hosts pull an image named on the
 * upstream (`<upstream>/<path>:<tag>`) from `<address>/<path>:<tag>` instead.
 */
export const RegistryMirror = Type.Object({
  upstream: Type.String({ description: 'The upstream registry as image names spell it: HOST[:PORT]' }),
  address: Type.String({ description: 'HOST:PORT of the mirror' }),
  running: Type.Optional(Type.Boolean({ description: 'The mirror process answers' })),
});
export type RegistryMirror = Static<typeof RegistryMirror>;

/** What agents (and people) need to use the registry: `GET /v1/registry`. */
export const RegistryInfo = Type.Object({
  enabled: Type.Boolean({ description: 'false when the server runs with --registry off' }),
  address: Type.Optional(Type.String({ description: 'HOST:PORT, the registry part of image names: <address>/<tenant>/<name>:<tag>' })),
  realm: Type.Optional(Type.String({ description: 'The token service URL the registry sends clients to' })),
  service: Type.Optional(Type.String({ description: 'The service name tokens are issued for' })),
  running: Type.Optional(Type.Boolean({ description: 'The registry process answers' })),
  ca: Type.Optional(Type.String({ description: "PEM of the CA that signed the registry's TLS certificate (also GET /v1/registry/ca.crt)" })),
  mirrors: Type.Optional(Type.Array(RegistryMirror, { description: 'Pull-through mirrors of upstream registries (wharf-server --mirror); their certificates are signed by the same CA' })),
});
export type RegistryInfo = Static<typeof RegistryInfo>;

/** The token service's answer (Docker's registry token specification). */
export const RegistryToken = Type.Object({
  token: Type.String(),
  access_token: Type.String({ description: 'The same token, for OAuth 2 clients' }),
  expires_in: Type.Integer({ description: 'Seconds the token is valid' }),
  issued_at: Type.String(),
});
export type RegistryToken = Static<typeof RegistryToken>;

/** A repository's visibility: public ones can be pulled without credentials. */
export const ImageVisibility = Type.Object({
  repository: Type.String({ description: '<tenant>/<name>' }),
  public: Type.Boolean(),
  updatedAt: Type.Optional(Type.String()),
});
export type ImageVisibility = Static<typeof ImageVisibility>;

export const ImageVisibilityRequest = Type.Object({ public: Type.Boolean() }, { additionalProperties: false });
export type ImageVisibilityRequest = Static<typeof ImageVisibilityRequest>;

/** One path component of a repository name, as Distribution accepts it. */
export const REPOSITORY_COMPONENT_PATTERN = '^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$';
const COMPONENT = new RegExp(REPOSITORY_COMPONENT_PATTERN);
const TENANT = new RegExp(TENANT_PATTERN);

/** Distribution's limit on a repository name. */
export const REPOSITORY_MAX_LENGTH = 255;

/**
 * Splits a repository name into its tenant (the first component) and the name within
 * the tenant. Undefined when the name is not a valid repository name, or has no tenant
 * namespace (a single component, or a first component that is not a tenant name).
 */
export function repositoryTenant(repository: string): { tenant: string; name: string } | undefined {
  if (repository.length > REPOSITORY_MAX_LENGTH) return undefined;
  const parts = repository.split('/');
  if (parts.length < 2 || !parts.every((p) => COMPONENT.test(p))) return undefined;
  const [tenant, ...rest] = parts as [string, ...string[]];
  return TENANT.test(tenant) ? { tenant, name: rest.join('/') } : undefined;
}

/**
 * The registry part of an image reference (`HOST[:PORT]`), by Docker's rule: the first
 * component is a registry when it holds a '.' or a ':' or is `localhost`. Undefined
 * for images of the default registry (`busybox`, `team/app:1`).
 */
export function imageRegistry(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** An image reference split as Docker reads it: `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`. */
export interface ImageReference {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference; the tag is what follows the last ':' after the last '/'. */
export function parseImageReference(image: string): ImageReference {
  const registry = imageRegistry(image);
  let rest = registry ? image.slice(registry.length + 1) : image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : undefined;
  const repository = tag !== undefined ? rest.slice(0, colon) : rest;
  return { ...(registry ? { registry } : {}), repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A tag as Distribution accepts it. */
export const IMAGE_TAG_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';

/** Media types of the manifests the catalog reads and the uploads write. */
export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  /** A `docker save` layer: an uncompressed tar, pushed as it is. */
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Manifests that list other manifests (one per platform). */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];

/** A set whose container runs an image of the platform registry. */
export const ImageUse = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  container: Type.String({ description: "The container's name in the set spec" }),
  image: Type.String({ description: 'The image reference as the spec writes it' }),
});
export type ImageUse = Static<typeof ImageUse>;

export const ImageBlob = Type.Object({
  digest: Type.String(),
  size: Type.Integer({ description: 'Bytes as stored in the registry' }),
  mediaType: Type.String(),
});
export type ImageBlob = Static<typeof ImageBlob>;

/** One tag of a repository: the manifest it points to, its size, who pushed it when and which sets use it. */
export const ImageTag = Type.Object({
  tag: Type.String(),
  digest: Type.String({ description: 'The manifest digest' }),
  mediaType: Type.String({ description: 'The manifest media type (Docker schema 2, OCI, or an index of several platforms)' }),
  size: Type.Integer({ description: 'Config and layers, from the manifest (an index: every platform it lists, each blob once)' }),
  platforms: Type.Optional(Type.Array(Type.String(), { description: 'os/architecture of each manifest of an index' })),
  pushedAt: Type.Optional(Type.String({ description: "When this digest was pushed to this tag (the registry's notification)" })),
  pushedBy: Type.Optional(Type.String({ description: 'The token that pushed it (its name)' })),
  usedBy: Type.Array(ImageUse, { description: 'Sets whose containers name this tag, or its digest' }),
});
export type ImageTag = Static<typeof ImageTag>;

/** A repository of the platform registry: `GET /v1/images` lists them per tenant. */
export const ImageRepository = Type.Object({
  repository: Type.String({ description: '<tenant>/<name>' }),
  tenant: Type.String(),
  name: Type.String(),
  /** `<address>/<tenant>/<name>`: what image references start with. */
  image: Type.String(),
  public: Type.Boolean(),
  tags: Type.Array(ImageTag),
  size: Type.Integer({ description: 'Every blob of every tag, each once' }),
  usedBy: Type.Array(ImageUse, { description: 'Sets using any tag or digest of the repository' }),
});
export type ImageRepository = Static<typeof ImageRepository>;

/** One manifest as inspect shows it: its blobs and the platform from its config. */
export const ImageManifest = Type.Object({
  digest: Type.String(),
  mediaType: Type.String(),
  config: Type.Optional(ImageBlob),
  layers: Type.Array(ImageBlob),
  os: Type.Optional(Type.String()),
  architecture: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  /** An index: the manifests it lists, inspected the same way. */
  manifests: Type.Optional(Type.Array(Type.Object({ digest: Type.String(), platform: Type.String() }))),
});
export type ImageManifest = Static<typeof ImageManifest>;

/** `GET /v1/images/{tenant}/{name}`: the repository with each tag's manifest. */
export const ImageDetail = Type.Composite([
  ImageRepository,
  Type.Object({ manifests: Type.Record(Type.String(), ImageManifest, { description: 'By manifest digest, for every tag' }) }),
]);
export type ImageDetail = Static<typeof ImageDetail>;

/** What a `DELETE` removed. */
export const ImageDeleted = Type.Object({
  repository: Type.String(),
  tags: Type.Array(Type.String(), { description: 'The tags removed' }),
  digests: Type.Array(Type.String(), { description: 'The manifests they pointed to: they and their blobs go at the next garbage collection unless another tag or a set names them' }),
});
export type ImageDeleted = Static<typeof ImageDeleted>;

/** `PUT /v1/images/{tenant}/{name}/tags/{tag}`: point the tag at what `source` names, in the same tenant. */
export const ImageTagRequest = Type.Object({
  source: Type.String({ description: 'NAME:TAG or NAME@DIGEST within the tenant (e.g. web:1)', minLength: 1 }),
}, { additionalProperties: false });
export type ImageTagRequest = Static<typeof ImageTagRequest>;

/** `POST /v1/images/upload/plan`: which layers of an archive the registry lacks for the repository. */
export const ImageUploadPlanRequest = Type.Object({
  name: Type.String({ description: 'The repository within the tenant' }),
  layers: Type.Array(Type.String({ description: 'sha256:…' }), { maxItems: 1000 }),
}, { additionalProperties: false });
export type ImageUploadPlanRequest = Static<typeof ImageUploadPlanRequest>;

export const ImageUploadPlan = Type.Object({
  present: Type.Array(Type.String(), { description: 'Already in the repository, or in another repository of the tenant (mounted at upload)' }),
  missing: Type.Array(Type.String(), { description: 'To be sent in the archive' }),
});
export type ImageUploadPlan = Static<typeof ImageUploadPlan>;

/** One layer of an upload: sent to the registry, or already there. */
export const UploadedLayer = Type.Object({
  digest: Type.String(),
  size: Type.Integer(),
  mediaType: Type.String(),
  /** uploaded: sent to the registry; present: the repository had it; mounted: linked from another repository of the tenant. */
  action: Type.Union([Type.Literal('uploaded'), Type.Literal('present'), Type.Literal('mounted')]),
});
export type UploadedLayer = Static<typeof UploadedLayer>;

/** `POST /v1/images/upload`: what the server pushed. */
export const ImageUploadResult = Type.Object({
  image: Type.String({ description: '<address>/<tenant>/<name>:<tag>, ready for a set spec' }),
  repository: Type.String(),
  tag: Type.String(),
  digest: Type.String({ description: 'The manifest digest' }),
  size: Type.Integer(),
  layers: Type.Array(UploadedLayer),
  /** Bytes of the request body (the archive as sent). */
  received: Type.Integer(),
  /** Bytes sent to the registry (layers and config). */
  uploaded: Type.Integer(),
});
export type ImageUploadResult = Static<typeof ImageUploadResult>;

/** One run of registry garbage collection. */
export const RegistryGcRun = Type.Object({
  startedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  /** Untagged manifests deleted first (not in an index, not named by a set). */
  manifestsDeleted: Type.Integer(),
  blobsDeleted: Type.Integer(),
  bytesFreed: Type.Integer(),
  error: Type.Optional(Type.String()),
});
export type RegistryGcRun = Static<typeof RegistryGcRun>;

export const RegistryGcStatus = Type.Object({
  schedule: Type.String({ description: '"off", "daily at HH:MM" or "every DURATION"' }),
  running: Type.Boolean(),
  nextRunAt: Type.Optional(Type.String()),
  lastRun: Type.Optional(RegistryGcRun),
});
export type RegistryGcStatus = Static<typeof RegistryGcStatus>;
