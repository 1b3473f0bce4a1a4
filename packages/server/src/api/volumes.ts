/**
 * Volumes, the recycle bin and snapshots. The server keeps no volume state of its
 * own: sizes are the sets' `resources.disk`, usage comes with the hosts' heartbeats,
 * and every operation is done by the agent of the volume's host.
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import {
  ResizeVolumeRequest,
  TrashEntry,
  VolumeSnapshot,
  VolumeView,
  WharfError,
  formatBytes,
  parseBytes,
  type SetObject,
  type VolumeUsage,
} from '@wharf/types';
import type { Store } from '@wharf/store';
import { agentPath, type Agents } from '../agents.js';
import { Keys } from '../state/keys.js';
import { isReady, listHostRecords, setReservation, type EffectiveHost, type HostRecord } from '../state/hosts.js';
import { hostFit, updateReserving } from '../state/reservations.js';
import { appendEvents, event, getSet, type SetRef } from '../state/sets.js';
import {
  hostRecord,
  placedSet,
  reportedUsage,
  resizeVolumeThenRecord,
  setName,
  sizeQuantity,
  volumePath,
  volumeSize,
  volumeView,
} from '../state/volumes.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';

/** Snapshot names: also a path segment on the agent. */
export const SNAPSHOT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
/** Bytes the exported volume holds (the archive is about as large), from the agent. */
export const VOLUME_USED_HEADER = 'x-wharf-volume-used';
/** Hosts whose agent did not answer `GET /v1/trash`, comma-separated. */
export const UNREACHABLE_HEADER = 'x-wharf-unreachable-hosts';
/** Listing is a fan-out to every host: a silent one must not hold up the answer. */
const TRASH_LIST_TIMEOUT_MS = 10_000;
/** Snapshots decorate `GET /v1/volumes/{appkey}/{id}`; without them it still answers. */
const SNAPSHOT_PEEK_TIMEOUT_MS = 5_000;

// Names the agent chose itself are served whatever they look like; only "/", "." and ".." are never names.
const SnapshotParams = Type.Object({ ...SetParams.properties, name: Type.String({ pattern: '^(?!\\.{1,2}$)[^/]{1,255}$' }) });
const TrashParams = Type.Object({ host: Type.String({ description: 'The host whose recycle bin holds the volume' }), trashId: Type.String() });
const HostParams = Type.Object({ host: Type.String() });
const PurgeResult = Type.Object({ purged: Type.Integer(), bytes: Type.Integer() });

function refOf(params: { appkey: string; id: string }, query: { tenant?: string }): SetRef {
  return { tenant: tenantOf(query), appkey: params.appkey, id: params.id };
}

function sizeOf(size: string | number): number {
  const bytes = parseBytes(size);
  if (bytes === undefined || bytes < 1) {
    throw WharfError.validation([{ path: 'size', message: `"${size}" is not a size (use e.g. 20Gi, 500Mi, or a number of bytes)` }]);
  }
  return bytes;
}

/** Growing a volume needs the growth unreserved on its host (capacity.disk less what every set there reserves). */
async function checkGrowth(store: Store, set: SetObject, host: EffectiveHost, bytes: number): Promise<void> {
  const fit = await hostFit(store, set, host, { ...setReservation(set), disk: bytes });
  if (fit.fits) return;
  const current = volumeSize(set);
  const unreserved = Math.max(0, fit.unreserved.disk - current);
  const growth = bytes - current;
  throw new WharfError('INSUFFICIENT_DISK', `host ${host.name} has ${formatBytes(unreserved)} of disk unreserved; growing by ${formatBytes(growth)} needs more`, {
    host: host.name,
    unreserved,
    growth,
  });
}

/**
 * Records `bytes` as the set's desired volume size (`resources.disk`, with a new
 * generation), reserving on its host like a placement (see updateReserving).
 */
async function recordSize(store: Store, ref: SetRef, hostName: string, bytes: number): Promise<{ before: SetObject; after: SetObject }> {
  return updateReserving(store, ref, async (set) => {
    if (set.host !== hostName || set.deleting) throw new WharfError('CONFLICT', `set ${setName(ref)} moved or is being deleted while its volume was resized; look at it and try again`);
    if (volumeSize(set) === bytes) return undefined;
    await checkGrowth(store, set, await hostRecord(store, hostName), bytes);
    return {
      ...set,
      spec: { ...set.spec, resources: { ...set.spec.resources, disk: sizeQuantity(bytes) } },
      generation: set.generation + 1,
      updatedAt: new Date().toISOString(),
    };
  });
}

/** The host's recycle bin entry `trashId`, when it belongs to `tenant`. */
async function findTrash(agents: Agents, host: EffectiveHost, trashId: string, tenant: string): Promise<TrashEntry> {
  const entries = await agents.call<TrashEntry[]>(host, 'GET', agentPath('trash'));
  const entry = entries.find((e) => e.trashId === trashId && e.tenant === tenant);
  if (!entry) throw new WharfError('TRASH_NOT_FOUND', `there is no volume ${trashId} in the recycle bin of host ${host.name}${tenant === 'default' ? '' : ` (tenant ${tenant})`}`, { host: host.name, trashId });
  return { ...entry, host: host.name };
}

export function volumeRoutes(app: App, { store, agents }: RouteContext): void {

  app.get('/v1/volumes', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'List the volumes of the tenant\'s sets, with usage from the hosts\' heartbeats',
      querystring: Type.Composite([TenantQuery, Type.Object({ appkey: Type.Optional(Type.String()) })]),
      response: { 200: Type.Array(VolumeView), ...errors(401) },
    },
  }, async (req) => {
    const prefix = Keys.tenantSets(tenantOf(req.query)) + (req.query.appkey ? `${req.query.appkey}/` : '');
    const [sets, hosts] = await Promise.all([store.list<SetObject>(prefix), store.list<HostRecord>(Keys.hostsPrefix)]);
    const byName = new Map(hosts.items.map((kv) => [kv.value.name, kv.value]));
    return sets.items
      .filter((kv) => !kv.value.deleting)
      .map((kv) => {
        const s = kv.value;
        const host = s.host ? byName.get(s.host) : undefined;
        return volumeView(s, reportedUsage(host, s), host?.lastHeartbeat);
      });
  });

  app.get('/v1/volumes/:appkey/:id', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'Get a set\'s volume, with its snapshots when its host answers',
      params: SetParams,
      querystring: TenantQuery,
      response: { 200: VolumeView, ...errors(401, 404) },
    },
  }, async (req) => {
    const ref = refOf(req.params, req.query);
    const set = (await getSet(store, ref)).value;
    const host = set.host ? (await store.get<HostRecord>(Keys.host(set.host)))?.value : undefined;
    const view = volumeView(set, reportedUsage(host, ref), host?.lastHeartbeat);
    if (!host || set.deleting) return view;
    try {
      const snapshots = await agents.call<VolumeSnapshot[]>(host, 'GET', volumePath(ref, 'snapshots'), undefined, { timeoutMs: SNAPSHOT_PEEK_TIMEOUT_MS });
      return { ...view, snapshots };
    } catch (err) {
      req.log.info({ host: host.name, err: (err as Error).message }, 'snapshots not listed');
      return view;
    }
  });

  app.post('/v1/volumes/:appkey/:id/resize', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'Resize a set\'s volume (online) and record the size as the set\'s resources.disk',
      description:
        'Growing needs the growth unreserved on the host (409 INSUFFICIENT_DISK). The host\'s agent resizes the volume ' +
        '(409 VOLUME_TOO_SMALL below what it holds, VOLUME_OP_UNSUPPORTED when the driver cannot); then the new size ' +
        'becomes the set spec\'s resources.disk (a new generation), so it survives restarts and moves.',
      params: SetParams,
      querystring: TenantQuery,
      body: ResizeVolumeRequest,
      response: { 200: VolumeView, ...errors(400, 401, 404, 409, 502) },
    },
  }, async (req) => {
    const ref = refOf(req.params, req.query);
    const bytes = sizeOf(req.body.size);
    const { set, host } = await placedSet(store, ref, 'resize');
    await checkGrowth(store, set, host, bytes);
    const size = { from: volumeSize(set), to: bytes };
    const { usage, recorded } = await resizeVolumeThenRecord(agents, host, ref, size, () => recordSize(store, ref, host.name, bytes), req.log);
    const before = volumeSize(recorded.before);
    if (before !== bytes) {
      await appendEvents(store, ref, [{ ...event('Normal', 'VolumeResized', `volume resized from ${formatBytes(before)} to ${formatBytes(bytes)} (resources.disk is now ${formatBytes(bytes)})`), host: host.name }]);
    }
    return volumeView(recorded.after, usage, new Date().toISOString());
  });

  // ---- snapshots ----

  app.get('/v1/volumes/:appkey/:id/snapshots', {
    config: { access: 'tenant' },
    schema: { tags: ['volumes'], summary: 'List the snapshots of a set\'s volume', params: SetParams, querystring: TenantQuery, response: { 200: Type.Array(VolumeSnapshot), ...errors(401, 404, 409, 502) } },
  }, async (req) => {
    const ref = refOf(req.params, req.query);
    const { host } = await placedSet(store, ref, 'list snapshots of');
    return agents.call<VolumeSnapshot[]>(host, 'GET', volumePath(ref, 'snapshots'));
  });

  app.post('/v1/volumes/:appkey/:id/snapshots', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'Snapshot a set\'s volume',
      description: 'Without a name the agent names it after the time. 409 VOLUME_OP_UNSUPPORTED when the host\'s driver has no snapshots.',
      params: SetParams,
      querystring: TenantQuery,
      body: Type.Object({ name: Type.Optional(Type.String({ pattern: SNAPSHOT_NAME_PATTERN })) }, { additionalProperties: false }),
      response: { 201: VolumeSnapshot, ...errors(400, 401, 404, 409, 502) },
    },
  }, async (req, reply) => {
    const ref = refOf(req.params, req.query);
    const { host } = await placedSet(store, ref, 'snapshot');
    const snap = await agents.call<VolumeSnapshot>(host, 'POST', volumePath(ref, 'snapshots'), req.body.name !== undefined ? { name: req.body.name } : {});
    await appendEvents(store, ref, [{ ...event('Normal', 'SnapshotCreated', `snapshot ${snap.name} of the volume taken`), host: host.name }]);
    return reply.status(201).send(snap);
  });

  app.post('/v1/volumes/:appkey/:id/snapshots/:name/restore', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'Roll a set\'s volume back to a snapshot',
      description: 'The set must be stopped (409 VOLUME_IN_USE while containers run).',
      params: SnapshotParams,
      querystring: TenantQuery,
      response: { 200: VolumeView, ...errors(401, 404, 409, 502) },
    },
  }, async (req) => {
    const ref = refOf(req.params, req.query);
    const { set, host } = await placedSet(store, ref, 'restore a snapshot of');
    const usage = await agents.call<VolumeUsage>(host, 'POST', volumePath(ref, 'snapshots', req.params.name, 'restore'));
    await appendEvents(store, ref, [{ ...event('Normal', 'SnapshotRestored', `volume rolled back to snapshot ${req.params.name}`), host: host.name }]);
    return volumeView(set, usage, new Date().toISOString());
  });

  app.delete('/v1/volumes/:appkey/:id/snapshots/:name', {
    config: { access: 'tenant' },
    schema: { tags: ['volumes'], summary: 'Delete a snapshot of a set\'s volume', params: SnapshotParams, querystring: TenantQuery, response: { 204: Type.Null(), ...errors(401, 404, 409, 502) } },
  }, async (req, reply) => {
    const ref = refOf(req.params, req.query);
    const { host } = await placedSet(store, ref, 'delete a snapshot of');
    await agents.call(host, 'DELETE', volumePath(ref, 'snapshots', req.params.name));
    await appendEvents(store, ref, [{ ...event('Normal', 'SnapshotDeleted', `snapshot ${req.params.name} deleted`), host: host.name }]);
    return reply.status(204).send(null);
  });

  // ---- export ----

  app.get('/v1/volumes/:appkey/:id/export', {
    config: { access: 'tenant' },
    schema: {
      tags: ['volumes'],
      summary: 'Download a set\'s volume',
      description: `A tar archive of the volume (application/octet-stream), streamed from the host's agent; \`${VOLUME_USED_HEADER}\` gives the bytes it holds. Stop the set first for a consistent copy.`,
      params: SetParams,
      querystring: TenantQuery,
      response: { 200: Type.String({ format: 'binary' }), ...errors(401, 404, 409, 502) },
    },
  }, async (req, reply) => {
    const ref = refOf(req.params, req.query);
    const { host } = await placedSet(store, ref, 'export');
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    // A tar archive whatever the host's driver: what people can open anywhere.
    const res = await agents.stream(host, `${volumePath(ref, 'export')}?formats=tar`, { signal: abort.signal });
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-disposition', `attachment; filename="${ref.appkey}-${ref.id}.tar"`);
    const length = res.headers.get('content-length');
    if (length) reply.header('content-length', length);
    const used = res.headers.get(VOLUME_USED_HEADER);
    if (used) reply.header(VOLUME_USED_HEADER, used);
    return reply.send(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) as unknown as string);
  });

  // ---- the recycle bin ----

  app.get('/v1/trash', {
    schema: {
      tags: ['volumes'],
      summary: 'List the volumes of deleted sets in the hosts\' recycle bins',
      description: `Asks every ready host's agent (or only \`host\`). Hosts that did not answer are named in the \`${UNREACHABLE_HEADER}\` response header.`,
      querystring: Type.Composite([TenantQuery, Type.Object({ host: Type.Optional(Type.String()) })]),
      response: { 200: Type.Array(TrashEntry), ...errors(401, 404) },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req.query);
    let hosts = await listHostRecords(store);
    if (req.query.host !== undefined) {
      hosts = hosts.filter((h) => h.name === req.query.host);
      if (hosts.length === 0) throw new WharfError('HOST_NOT_FOUND', `host ${req.query.host} not found`, { host: req.query.host });
    }
    const unreachable: string[] = [];
    const now = Date.now();
    const lists = await Promise.all(hosts.map(async (h) => {
      if (!isReady(h, now)) {
        unreachable.push(h.name);
        return [];
      }
      try {
        const entries = await agents.call<TrashEntry[]>(h, 'GET', agentPath('trash'), undefined, { timeoutMs: TRASH_LIST_TIMEOUT_MS });
        return entries.filter((e) => e.tenant === tenant).map((e) => ({ ...e, host: h.name }));
      } catch (err) {
        req.log.warn({ host: h.name, err: (err as Error).message }, 'recycle bin not listed');
        unreachable.push(h.name);
        return [];
      }
    }));
    if (unreachable.length > 0) reply.header(UNREACHABLE_HEADER, unreachable.sort().join(','));
    return lists.flat().sort((a, b) => a.host.localeCompare(b.host) || b.deletedAt.localeCompare(a.deletedAt));
  });

  app.post('/v1/trash/:host/:trashId/restore', {
    schema: {
      tags: ['volumes'],
      summary: 'Restore a volume from a host\'s recycle bin into a set',
      description:
        'The set (of the tenant, `?tenant=`) must be of the same appkey as the deleted one, be placed on that host ' +
        '(409 CONFLICT otherwise) and be stopped (409 VOLUME_IN_USE); its current volume is replaced.',
      params: TrashParams,
      querystring: TenantQuery,
      body: Type.Object({ appkey: Type.String({ minLength: 1 }), id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      response: { 200: VolumeView, ...errors(400, 401, 404, 409, 502) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const ref: SetRef = { tenant, appkey: req.body.appkey, id: req.body.id };
    const host = await hostRecord(store, req.params.host);
    const entry = await findTrash(agents, host, req.params.trashId, tenant);
    if (entry.appkey !== ref.appkey) {
      throw WharfError.validation([{ path: 'appkey', message: `the volume ${host.name}/${entry.trashId} was of app ${entry.appkey} (set ${entry.appkey}/${entry.id}); it can only be restored into a set of ${entry.appkey}, not ${ref.appkey}` }]);
    }
    const set = (await getSet(store, ref)).value;
    if (set.deleting) throw new WharfError('CONFLICT', `set ${setName(ref)} is being deleted`);
    if (set.host !== host.name) {
      const where = set.host ? `is on host ${set.host}` : 'is not placed on a host yet';
      throw new WharfError('CONFLICT', `set ${setName(ref)} ${where}; the volume is in ${host.name}'s recycle bin (restore it into a set on ${host.name}, or move the set there first)`, { host: host.name, setHost: set.host });
    }
    const usage = await agents.call<VolumeUsage>(host, 'POST', agentPath('trash', entry.trashId, 'restore'), ref);
    await appendEvents(store, ref, [{ ...event('Normal', 'VolumeRestored', `volume of deleted set ${entry.appkey}/${entry.id} (deleted ${entry.deletedAt}) restored from the recycle bin`), host: host.name }]);
    return volumeView(set, usage, new Date().toISOString());
  });

  app.delete('/v1/trash/:host/:trashId', {
    schema: {
      tags: ['volumes'],
      summary: 'Purge one volume from a host\'s recycle bin',
      description: 'Answers `{purged: 1, bytes}`, `bytes` being what the volume held.',
      params: TrashParams,
      querystring: TenantQuery,
      response: { 200: PurgeResult, ...errors(401, 404, 502) },
    },
  }, async (req) => {
    const host = await hostRecord(store, req.params.host);
    const entry = await findTrash(agents, host, req.params.trashId, tenantOf(req.query));
    await agents.call(host, 'DELETE', agentPath('trash', entry.trashId));
    req.log.info({ host: host.name, trashId: entry.trashId, set: `${entry.tenant}/${entry.appkey}/${entry.id}` }, 'volume purged');
    return { purged: 1, bytes: entry.used };
  });

  app.delete('/v1/trash/:host', {
    schema: {
      tags: ['volumes'],
      summary: 'Purge every volume of the tenant from a host\'s recycle bin',
      description: '`bytes` is what the purged volumes held.',
      params: HostParams,
      querystring: TenantQuery,
      response: { 200: PurgeResult, ...errors(401, 404, 502) },
    },
  }, async (req) => {
    const tenant = tenantOf(req.query);
    const host = await hostRecord(store, req.params.host);
    const entries = (await agents.call<TrashEntry[]>(host, 'GET', agentPath('trash'))).filter((e) => e.tenant === tenant);
    let purged = 0;
    let bytes = 0;
    // One by one, so only this tenant's volumes go; one already purged (retention) is not an error.
    for (const e of entries) {
      try {
        await agents.call(host, 'DELETE', agentPath('trash', e.trashId));
      } catch (err) {
        if (err instanceof WharfError && err.code === 'TRASH_NOT_FOUND') continue;
        throw err;
      }
      purged += 1;
      bytes += e.used;
    }
    req.log.info({ host: host.name, tenant, purged, bytes }, 'recycle bin purged');
    return { purged, bytes };
  });
}
