/**
 * A stand-in for a wharf-agent's volume API, for server tests: a node:http server
 * holding volumes (their content as bytes), a recycle bin and snapshots in memory,
 * answering the routes the server calls with the agent's error shape.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfError, type TrashEntry, type VolumeChecksum, type VolumeSnapshot, type VolumeUsage } from '@wharf/types';

export interface FakeVolume {
  quota: number;
  content: Buffer;
  snapshots: (VolumeSnapshot & { content: Buffer })[];
}

export interface FakeAgent {
  url: string;
  name: string;
  /** By `tenant/appkey/id`. */
  volumes: Map<string, FakeVolume>;
  trash: (TrashEntry & { content: Buffer })[];
  /** Sets whose containers run (`tenant/appkey/id`): restores are refused for them. */
  running: Set<string>;
  /** `METHOD path?query` of every request. */
  requests: string[];
  /** When set, the checksum of every volume is off (a bad copy). */
  corruptChecksums: boolean;
  usage(key: string): VolumeUsage;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeAgent(name: string, token: string): Promise<FakeAgent> {
  const volumes = new Map<string, FakeVolume>();
  const agent: FakeAgent = {
    url: '',
    name,
    volumes,
    trash: [],
    running: new Set(),
    requests: [],
    corruptChecksums: false,
    usage(key) {
      const v = volumes.get(key);
      if (!v) throw new WharfError('VOLUME_NOT_FOUND', `no volume ${key} on host ${name}`);
      const [tenant = '', appkey = '', id = ''] = key.split('/');
      return { tenant, appkey, id, driver: 'btrfs', used: v.content.length, quota: v.quota, path: `/var/lib/wharf/volumes/${key}` };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const method = req.method ?? 'GET';
    agent.requests.push(`${method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Bearer ${token}`) throw new WharfError('UNAUTHORIZED', 'a valid bearer token (the join token) is required');
    const raw = await readBody(req);
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const p = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (p[0] !== 'v1') throw new WharfError('NOT_FOUND', `no route ${method} ${url.pathname}`);
    if (p[1] === 'trash') {
      const [, , trashId, action] = p;
      if (!trashId && method === 'GET') return send(res, 200, agent.trash.map(({ content: _c, ...e }) => e));
      if (!trashId && method === 'DELETE') {
        const bytes = agent.trash.reduce((n, e) => n + e.used, 0);
        const purged = agent.trash.length;
        agent.trash = [];
        return send(res, 200, { purged, bytes });
      }
      const entry = agent.trash.find((e) => e.trashId === trashId);
      if (!entry) throw new WharfError('TRASH_NOT_FOUND', `no volume ${trashId} in the recycle bin`);
      if (method === 'DELETE' && !action) {
        agent.trash = agent.trash.filter((e) => e !== entry);
        return send(res, 204);
      }
      if (method === 'POST' && action === 'restore') {
        const key = `${String(body.tenant)}/${String(body.appkey)}/${String(body.id)}`;
        if (agent.running.has(key)) throw new WharfError('VOLUME_IN_USE', `set ${String(body.appkey)}/${String(body.id)} has running containers; stop it first`);
        volumes.set(key, { quota: volumes.get(key)?.quota ?? entry.quota, content: entry.content, snapshots: [] });
        agent.trash = agent.trash.filter((e) => e !== entry);
        return send(res, 200, agent.usage(key));
      }
    }
    if (p[1] === 'volumes') {
      if (p.length === 2 && method === 'GET') return send(res, 200, [...volumes.keys()].map((k) => agent.usage(k)));
      const key = p.slice(2, 5).join('/');
      const [sub, snap, snapAction] = p.slice(5);
      if (sub === 'import' && method === 'POST') {
        const from = String(body.from);
        const r = await fetch(`${from}/v1/volumes/${p.slice(2, 5).map(encodeURIComponent).join('/')}/export`, { headers: { authorization: `Bearer ${token}` } }).catch((err: unknown) => {
          throw new WharfError('HOST_UNREACHABLE', `the source agent at ${from} did not answer: ${String(err)}`);
        });
        if (!r.ok) throw new WharfError('HOST_UNREACHABLE', `the source agent at ${from} answered ${r.status}`);
        volumes.set(key, { quota: Number(body.quota), content: Buffer.from(await r.arrayBuffer()), snapshots: [] });
        return send(res, 200, agent.usage(key));
      }
      const v = volumes.get(key);
      if (!v) throw new WharfError('VOLUME_NOT_FOUND', `no volume ${key} on host ${name}`);
      if (!sub && method === 'GET') return send(res, 200, agent.usage(key));
      if (sub === 'resize' && method === 'POST') {
        const bytes = Number(body.bytes);
        if (bytes < v.content.length) throw new WharfError('VOLUME_TOO_SMALL', `volume ${key} holds ${v.content.length} bytes; it cannot shrink to ${bytes}`);
        v.quota = bytes;
        return send(res, 200, agent.usage(key));
      }
      if (sub === 'export' && method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-wharf-volume-format': 'tar', 'x-wharf-volume-used': String(v.content.length) });
        res.end(v.content);
        return;
      }
      if (sub === 'checksum' && method === 'GET') {
        const sum: VolumeChecksum = { sha256: createHash('sha256').update(v.content).update(agent.corruptChecksums ? 'x' : '').digest('hex'), files: 1, bytes: v.content.length };
        return send(res, 200, sum);
      }
      if (sub === 'snapshots') {
        const strip = (s: FakeVolume['snapshots'][number]): VolumeSnapshot => ({ name: s.name, createdAt: s.createdAt, used: s.used });
        if (!snap && method === 'GET') return send(res, 200, v.snapshots.map(strip));
        if (!snap && method === 'POST') {
          const s = { name: typeof body.name === 'string' ? body.name : `auto-${v.snapshots.length + 1}`, createdAt: new Date().toISOString(), used: v.content.length, content: v.content };
          v.snapshots.push(s);
          return send(res, 201, strip(s));
        }
        const s = v.snapshots.find((x) => x.name === snap);
        if (!s) throw new WharfError('SNAPSHOT_NOT_FOUND', `no snapshot ${snap ?? ''} of volume ${key}`);
        if (method === 'POST' && snapAction === 'restore') {
          if (agent.running.has(key)) throw new WharfError('VOLUME_IN_USE', `set ${key} has running containers; stop it first`);
          v.content = s.content;
          return send(res, 200, agent.usage(key));
        }
        if (method === 'DELETE' && !snapAction) {
          v.snapshots = v.snapshots.filter((x) => x !== s);
          return send(res, 204);
        }
      }
    }
    throw new WharfError('NOT_FOUND', `no route ${method} ${url.pathname}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof WharfError ? err : new WharfError('INTERNAL', String(err));
      if (res.headersSent) return res.destroy();
      send(res, e.status, e.toBody());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agent.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return agent;
}
