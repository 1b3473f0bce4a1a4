/**
 * The volume routes of the agent API (see the README's "Volumes"): usage, resize, the
 * recycle bin, snapshots, export/import and checksums. Auth is done by http.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseBytes, WharfError } from '@wharf/types';
import { volumePath, type SetIdentity } from '../containers.js';
import type { StreamFormat } from './driver.js';
import { EXPORT_HEADERS, type VolumeManager } from './manager.js';

const MAX_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function noContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new WharfError('PAYLOAD_TOO_LARGE', `the body must be at most ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WharfError('BAD_REQUEST', 'the body must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new WharfError('BAD_REQUEST', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function identity(tenant: string, appkey: string, id: string): SetIdentity {
  const set = { tenant, appkey, id };
  try {
    volumePath('/', set);
  } catch (err) {
    throw new WharfError('BAD_REQUEST', (err as Error).message);
  }
  return set;
}

/** A byte count given as a number or a quantity ("20Gi"). */
function bytesField(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  const n = typeof v === 'number' || typeof v === 'string' ? parseBytes(v) : undefined;
  if (n === undefined || n <= 0) throw new WharfError('BAD_REQUEST', `${field} must be a positive number of bytes (or a size like "20Gi"), not ${JSON.stringify(v)}`);
  return n;
}

function stringField(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new WharfError('BAD_REQUEST', `${field} must be a non-empty string`);
  return v;
}

const VOLUME = /^\/v1\/volumes\/([^/]+)\/([^/]+)\/([^/]+)(?:\/([a-z]+)(?:\/([^/]+)(?:\/(restore))?)?)?$/;
const TRASH = /^\/v1\/trash(?:\/([^/]+)(?:\/(restore))?)?$/;

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new WharfError('BAD_REQUEST', `"${segment}" is not a valid path segment`);
  }
}

/** Serves a volume route; resolves false when the path is not one. */
export async function serveVolumes(volumes: VolumeManager, log: Logger, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const method = req.method ?? 'GET';
  const path = url.pathname;

  if (path === '/v1/volumes') {
    if (method !== 'GET') return false;
    json(res, 200, await volumes.list());
    return true;
  }

  const t = TRASH.exec(path);
  if (t) {
    const trashId = t[1] === undefined ? undefined : decode(t[1]);
    if (trashId === undefined && method === 'GET') json(res, 200, await volumes.trash());
    else if (trashId === undefined && method === 'DELETE') json(res, 200, await volumes.purgeAll());
    else if (trashId !== undefined && t[2] === 'restore' && method === 'POST') {
      const body = await readJson(req);
      const set = identity(stringField(body, 'tenant'), stringField(body, 'appkey'), stringField(body, 'id'));
      json(res, 200, await volumes.restoreTrash(trashId, set));
    } else if (trashId !== undefined && t[2] === undefined && method === 'DELETE') {
      await volumes.purge(trashId);
      noContent(res);
    } else return false;
    return true;
  }

  const m = VOLUME.exec(path);
  if (!m) return false;
  const set = identity(decode(m[1]), decode(m[2]), decode(m[3]));
  const action = m[4];
  const name = m[5] === undefined ? undefined : decode(m[5]);
  const restore = m[6] === 'restore';

  if (action === undefined && method === 'GET') json(res, 200, await volumes.get(set));
  else if (action === 'resize' && name === undefined && method === 'POST') json(res, 200, await volumes.resize(set, bytesField(await readJson(req), 'bytes')));
  else if (action === 'snapshots' && name === undefined && method === 'GET') json(res, 200, await volumes.snapshots(set));
  else if (action === 'snapshots' && name === undefined && method === 'POST') {
    const body = await readJson(req);
    if (body.name !== undefined && typeof body.name !== 'string') throw new WharfError('BAD_REQUEST', 'name must be a string');
    json(res, 201, await volumes.createSnapshot(set, body.name === '' ? undefined : body.name));
  } else if (action === 'snapshots' && name !== undefined && restore && method === 'POST') json(res, 200, await volumes.restoreSnapshot(set, name));
  else if (action === 'snapshots' && name !== undefined && !restore && method === 'DELETE') {
    await volumes.deleteSnapshot(set, name);
    noContent(res);
  } else if (action === 'export' && name === undefined && method === 'GET') await serveExport(volumes, log, set, url, res);
  else if (action === 'import' && name === undefined && method === 'POST') {
    const body = await readJson(req);
    json(res, 200, await volumes.importVolume(set, stringField(body, 'from'), bytesField(body, 'quota')));
  } else if (action === 'checksum' && name === undefined && method === 'GET') json(res, 200, await volumes.checksum(set));
  else return false;
  return true;
}

/**
 * The volume as application/octet-stream, in the first format of `?formats=` (comma
 * separated: btrfs, tar) this host can make. A stream that fails half-way is cut
 * off (no clean end), so the importer sees the failure.
 */
async function serveExport(volumes: VolumeManager, log: Logger, set: SetIdentity, url: URL, res: ServerResponse): Promise<void> {
  const asked = (url.searchParams.get('formats') ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of asked) if (f !== 'btrfs' && f !== 'tar') throw new WharfError('BAD_REQUEST', `formats must list btrfs and/or tar, not "${f}"`);
  const ex = await volumes.exportVolume(set, asked.length ? (asked as StreamFormat[]) : undefined);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', [EXPORT_HEADERS.format]: ex.format, [EXPORT_HEADERS.used]: String(ex.used) });
  res.flushHeaders();
  let finished = false;
  const gone = (): void => {
    if (!finished) ex.abort();
  };
  res.once('close', gone);
  // The producer may have exited with its output still buffered: end after both.
  const drained = new Promise<void>((resolve, reject) => {
    ex.stream.once('end', resolve);
    ex.stream.once('error', reject);
  });
  ex.stream.pipe(res, { end: false });
  Promise.all([drained, ex.done]).then(
    () => {
      finished = true;
      res.end();
    },
    (err: unknown) => {
      finished = true;
      log.warn({ set: `${set.tenant}/${set.appkey}/${set.id}`, err: err instanceof Error ? err.message : String(err) }, 'volume export failed');
      res.destroy();
    },
  );
}
