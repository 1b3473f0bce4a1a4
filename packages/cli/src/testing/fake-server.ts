/**
 * A tiny stand-in for wharf-server, for the CLI's end-to-end tests: just the
 * routes the CLI uses, with a pretend agent that moves a set one step towards
 * running (or towards gone) on every GET of it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SetSpec, SetView } from '@wharf/types';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

export interface FakeServer {
  url: string;
  sets: Map<string, SetView>;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string, details?: unknown): void {
  send(res, status, { error: { code, message, ...(details ? { details } : {}) } });
}

function viewOf(spec: SetSpec, now: string): SetView {
  return {
    tenant: 'default',
    appkey: spec.appkey,
    id: String(spec.id),
    generation: 1,
    observedGeneration: 0,
    desired: 'running',
    status: 'pending',
    resources: { cpu: spec.resources?.cpu ?? 1, memory: 1024 ** 3, disk: 1024 ** 3 },
    containers: [],
    spec,
    createdAt: now,
    updatedAt: now,
  };
}

/** The pretend agent: one step per GET. */
function step(v: SetView): void {
  if (v.status === 'deleting') {
    v.containers = [];
    return;
  }
  const containers = [...v.spec.containers].sort((a, b) => a.index - b.index);
  if (v.observedGeneration < v.generation) {
    v.observedGeneration = v.generation;
    v.status = 'starting';
    v.host = 'h1';
    v.containers = [
      { name: 'infra', role: 'infra', index: 0, image: 'wharf/busybox:latest', state: 'running', restartCount: 0, containerId: 'f'.repeat(64), startedAt: new Date().toISOString() },
      ...containers.map((c, i) => ({
        name: c.options.name,
        role: 'business' as const,
        index: c.index,
        image: c.image,
        state: i === 0 ? ('running' as const) : ('created' as const),
        restartCount: 0,
        containerId: String(i + 1).repeat(64),
      })),
    ];
  } else if (v.status === 'starting') {
    v.status = 'running';
    for (const c of v.containers) c.state = 'running';
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeServer(): Promise<FakeServer> {
  const sets = new Map<string, SetView>();
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const [v1, resource, appkey, id, sub] = parts;
      if (v1 !== 'v1') return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
      if (resource === 'version') return send(res, 200, { version: '0.1.0-fake', revision: 7 });
      if (resource !== 'sets') return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
      if (appkey === undefined) {
        const want = url.searchParams.get('appkey');
        return send(res, 200, [...sets.values()].filter((s) => !want || s.appkey === want));
      }
      const key = `${appkey}/${id}`;
      const existing = sets.get(key);
      if (req.method === 'PUT' && !sub) {
        const spec = JSON.parse(body) as SetSpec;
        const errors = spec.containers.flatMap((c, i) =>
          c.options.cpu !== undefined && (c.options.cpu < 1 || c.options.cpu > 100) ? [{ path: `containers[${i}].options.cpu`, message: 'must be 1..100' }] : [],
        );
        if (!spec.containers.some((c) => c.image)) errors.push({ path: 'containers[0].image', message: 'must not be empty' });
        if (errors.length > 0) {
          return error(res, 400, 'VALIDATION_FAILED', `${errors[0]?.path}: ${errors[0]?.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
        }
        if (existing) {
          existing.spec = spec;
          existing.generation++;
          return send(res, 200, existing);
        }
        const view = viewOf(spec, new Date().toISOString());
        sets.set(key, view);
        return send(res, 201, view);
      }
      if (!existing) return error(res, 404, 'SET_NOT_FOUND', `set ${key} not found`);
      if (req.method === 'GET' && !sub) {
        if (existing.status === 'deleting' && existing.containers.length === 0) {
          sets.delete(key);
          return error(res, 404, 'SET_NOT_FOUND', `set ${key} not found`);
        }
        const answer = structuredClone(existing);
        step(existing);
        return send(res, 200, answer);
      }
      if (req.method === 'DELETE' && !sub) {
        existing.status = 'deleting';
        return send(res, 202, existing);
      }
      if (req.method === 'GET' && sub === 'events') return send(res, 200, []);
      if (req.method === 'GET' && sub === 'logs') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`log of ${url.searchParams.get('container')}\nline 2\n`);
        return;
      }
      return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
    })().catch((err: unknown) => error(res, 500, 'INTERNAL', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sets,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
