/**
 * The platform registry: CNCF Distribution run by wharf-server, with the server as
 * its token issuer. Images live at `<address>/<tenant>/<name>:<tag>`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TENANT_PATTERN } from './patterns.js';

/** What agents (and people) need to use the registry: `GET /v1/registry`. */
export const RegistryInfo = Type.Object({
  enabled: Type.Boolean({ description: 'false when the server runs with --registry off' }),
  address: Type.Optional(Type.String({ description: 'HOST:PORT, the registry part of image names: <address>/<tenant>/<name>:<tag>' })),
  realm: Type.Optional(Type.String({ description: 'The token service URL the registry sends clients to' })),
  service: Type.Optional(Type.String({ description: 'The service name tokens are issued for' })),
  running: Type.Optional(Type.Boolean({ description: 'The registry process answers' })),
  ca: Type.Optional(Type.String({ description: "PEM of the CA that signed the registry's TLS certificate (also GET /v1/registry/ca.crt)" })),
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
