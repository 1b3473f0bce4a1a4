/**
 * The image catalog of the platform registry (registry/catalog.ts), uploads of
 * `docker save` archives (registry/upload.ts), the registry's notifications
 * (registry/notifications.ts) and garbage collection (registry/gc.ts).
 *
 * Who sees and changes what is access.ts's: the catalog lists a tenant's repositories
 * to the admin token and public ones to anyone (no token needed); writes need a token
 * that may push (upload, tag) or delete (rm) in the repository.
 */
import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ArchiveError, IMAGE_TAG_PATTERN, ImageDeleted, ImageDetail, ImageRepository, ImageTag, ImageTagRequest, ImageUploadPlan, ImageUploadPlanRequest,
  ImageUploadResult, RegistryGcRun, RegistryGcStatus, WharfError,
} from '@wharf/types';
import { ImageCatalog, requireWrite } from '../registry/catalog.js';
import { EVENTS_MEDIA_TYPE, EVENTS_PATH, envelopeEvents, notifierAuthorized, recordEvents } from '../registry/notifications.js';
import { registryPrincipal } from '../registry/principal.js';
import { layerPresence, uploadArchive, uploadTarget } from '../registry/upload.js';
import { RegistryDownError, RegistryError } from '../registry/v2-client.js';
import type { App, ApiContext, RegistrySource } from './context.js';
import { ImageParams, registryOff, repositoryOf } from './registry.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

const TagParams = Type.Composite([ImageParams, Type.Object({ tag: Type.String({ pattern: IMAGE_TAG_PATTERN, description: 'The tag' }) })]);

const UploadQuery = Type.Composite([TenantQuery, Type.Object({
  name: Type.Optional(Type.String({ description: 'The repository within the tenant (default: the name the archive gives its image)' })),
  tag: Type.Optional(Type.String({ description: 'Default: the archive\'s tag, else latest' })),
})]);

const TAR_TYPES = ['application/x-tar', 'application/octet-stream'];

/** The registry's own failures as catalog errors: down or read-only → 503, a bad archive → 400. */
function registryFailure(err: unknown): unknown {
  if (err instanceof ArchiveError) return new WharfError('BAD_REQUEST', err.message);
  if (err instanceof RegistryDownError) return new WharfError('REGISTRY_UNAVAILABLE', `${err.message} (it restarts for garbage collection, or after a failure); try again shortly`);
  if (err instanceof RegistryError && (err.status === 405 || err.status === 503)) return new WharfError('REGISTRY_UNAVAILABLE', `the platform registry refuses writes now (read-only for garbage collection): ${err.message}`);
  return err;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw registryFailure(err);
  }
}

export function imageRoutes(app: App, { store, registry }: ApiContext): void {
  const catalog = registry ? new ImageCatalog({ store, client: registry.client, address: registry.address, storageRoot: registry.storageRoot }) : undefined;
  const need = (): { registry: RegistrySource; catalog: ImageCatalog } => {
    if (!registry || !catalog) throw registryOff();
    return { registry, catalog };
  };
  const who = (req: { headers: { authorization?: string | undefined } }) => registryPrincipal(store, req.headers.authorization);

  app.get('/v1/images', {
    config: { access: 'public' },
    schema: {
      tags: ['images'],
      summary: "The tenant's repositories: tags, digests, sizes, who pushed when, which sets use them",
      description: 'The admin token sees every repository of the tenant; without a token (or with the join token) only public ones. Repositories without a tag are left out.',
      querystring: TenantQuery,
      response: { 200: Type.Array(ImageRepository), ...errors(400, 401, 404, 503) },
    },
  }, async (req) => {
    const { catalog } = need();
    return guarded(async () => catalog.list(tenantOf(req.query), await who(req)));
  });

  app.get('/v1/images/:tenant/:name', {
    config: { access: 'public' },
    schema: {
      tags: ['images'],
      summary: 'A repository with the manifest of every tag: layers, config, platform',
      params: ImageParams,
      response: { 200: ImageDetail, ...errors(400, 401, 404, 503) },
    },
  }, async (req) => {
    const { catalog } = need();
    return guarded(async () => catalog.inspect(repositoryOf(req.params), await who(req)));
  });

  /** rm of a tag, or (without one) of every tag of the repository. */
  const remove = async (req: { params: { tenant: string; name: string; tag?: string }; headers: { authorization?: string | undefined }; log: { info(o: object, msg: string): void } }) => {
    const { registry, catalog } = need();
    const repository = repositoryOf(req.params);
    const caller = await who(req);
    const r = await registry.gate.run(() => guarded(() => catalog.remove(repository, req.params.tag, caller)));
    req.log.info({ repository, tags: r.tags }, req.params.tag !== undefined ? 'tag removed' : 'repository removed');
    return r;
  };

  app.delete('/v1/images/:tenant/:name', {
    config: { access: 'user' },
    schema: {
      tags: ['images'],
      summary: 'Remove every tag of a repository',
      description: '409 IMAGE_IN_USE with `details.sets` while sets use any of its images. Manifests and blobs go at the next garbage collection.',
      params: ImageParams,
      response: { 200: ImageDeleted, ...errors(400, 401, 403, 404, 409, 503) },
    },
  }, remove);

  app.delete('/v1/images/:tenant/:name/tags/:tag', {
    config: { access: 'user' },
    schema: {
      tags: ['images'],
      summary: 'Remove a tag',
      description: '409 IMAGE_IN_USE with `details.sets` while sets name the tag or its digest. Other tags of the same digest stay.',
      params: TagParams,
      response: { 200: ImageDeleted, ...errors(400, 401, 403, 404, 409, 503) },
    },
  }, remove);

  app.put('/v1/images/:tenant/:name/tags/:tag', {
    config: { access: 'user' },
    schema: {
      tags: ['images'],
      summary: 'Point a tag at the image another tag or digest of the tenant names',
      description: 'Blobs of another repository of the tenant are mounted, not copied.',
      params: TagParams,
      body: ImageTagRequest,
      response: { 200: ImageTag, ...errors(400, 401, 403, 404, 503) },
    },
  }, async (req) => {
    const { registry, catalog } = need();
    const repository = repositoryOf(req.params);
    const caller = await who(req);
    return registry.gate.run(() => guarded(() => catalog.tag(repository, req.params.tag, req.body.source, caller)));
  });

  app.post('/v1/images/upload/plan', {
    config: { access: 'user' },
    schema: {
      tags: ['images'],
      summary: 'Which layers of an archive the registry lacks (wharf image push sends only those)',
      querystring: TenantQuery,
      body: ImageUploadPlanRequest,
      response: { 200: ImageUploadPlan, ...errors(400, 401, 403, 404, 503) },
    },
  }, async (req) => {
    const { registry } = need();
    const { repository } = uploadTarget(tenantOf(req.query), req.body.name, 'latest');
    requireWrite(await who(req), repository, 'push');
    const presence = await guarded(() => layerPresence(registry.client, repository, req.body.layers, () => registry.client.catalog()));
    return { present: req.body.layers.filter((d) => presence.has(d)), missing: req.body.layers.filter((d) => !presence.has(d)) };
  });

  // The archive is read as it arrives: no body parser, no body limit for these types.
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(TAR_TYPES, (_req, payload, done) => done(null, payload));
    scope.post('/v1/images/upload', {
      config: { access: 'user' },
      schema: {
        tags: ['images'],
        summary: 'Push a docker save archive (body: application/x-tar) as <tenant>/<name>:<tag>',
        description: 'Docker\'s layout (manifest.json) and OCI layout (index.json). Layers the repository has, or another repository of the tenant has (mounted), are not uploaded, and may be left out of the archive. 400 names what is wrong with an archive.',
        querystring: UploadQuery,
        response: { 200: ImageUploadResult, ...errors(400, 401, 403, 404, 415, 503) },
      },
    }, async (req) => {
      const { registry } = need();
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!TAR_TYPES.includes(type)) throw new WharfError('UNSUPPORTED_MEDIA_TYPE', `the body must be a tar archive (content-type: application/x-tar), not ${type || 'nothing'}`);
      const tenant = tenantOf(req.query);
      const caller = await who(req);
      // With a name, a caller who may not push learns it before sending the archive.
      if (req.query.name !== undefined) {
        requireWrite(caller, uploadTarget(tenant, req.query.name, req.query.tag ?? 'latest').repository, 'push');
      }
      const body = req.body as Readable;
      try {
        const r = await registry.gate.run(() => guarded(() => uploadArchive(body, {
          client: registry.client, address: registry.address, tenant, who: caller, spoolDir: registry.spoolDir,
          catalog: () => registry.client.catalog(),
          ...(req.query.name !== undefined ? { name: req.query.name } : {}),
          ...(req.query.tag !== undefined ? { tag: req.query.tag } : {}),
        })));
        req.log.info({ image: r.image, digest: r.digest, received: r.received, uploaded: r.uploaded }, 'image uploaded');
        return r;
      } finally {
        // What the upload did not read (after a failure) is discarded, so the client gets the answer.
        body.resume();
      }
    });

    scope.addContentTypeParser(EVENTS_MEDIA_TYPE, { parseAs: 'string' }, (_req, text, done) => {
      try {
        done(null, JSON.parse(text as string));
      } catch {
        done(new WharfError('BAD_REQUEST', 'the notification is not valid JSON'), undefined);
      }
    });
    scope.post(EVENTS_PATH, {
      config: { access: 'public' },
      schema: {
        tags: ['registry'],
        summary: "The registry's notifications (push and delete events); only the registry has their secret",
        response: { 200: Type.Object({ recorded: Type.Integer() }), ...errors(400, 401, 404) },
      },
    }, async (req) => {
      const { registry } = need();
      if (!notifierAuthorized(req.headers.authorization, registry.notificationSecret)) throw new WharfError('UNAUTHORIZED', 'not the platform registry\'s notification secret');
      return { recorded: await recordEvents(store, envelopeEvents(req.body)) };
    });
  });

  app.get('/v1/registry/gc', {
    config: { access: 'admin' },
    schema: { tags: ['registry'], summary: 'Garbage collection: schedule, next run, last run', response: { 200: RegistryGcStatus, ...errors(401, 403, 404) } },
  }, async () => need().registry.gc.status());

  app.post('/v1/registry/gc', {
    config: { access: 'admin' },
    schema: {
      tags: ['registry'],
      summary: 'Collect garbage now (joins a run under way); answers when it is done',
      description: 'Writes through Wharf wait or get 503 meanwhile, and the registry is read-only for a few seconds (pulls go on).',
      response: { 200: RegistryGcRun, ...errors(401, 403, 404) },
    },
  }, async (req) => {
    const run = await need().registry.gc.runNow();
    req.log.info(run, 'registry garbage collection asked for');
    return run;
  });
}
