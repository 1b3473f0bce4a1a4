/**
 * The agent's HTTP API, reached by wharf-server (logs, volumes; exec later), by
 * other agents (volume exports) and by Prometheus (GET /metrics). Bearer auth with
 * the join token (/metrics without it when the agent runs with --metrics-public).
 * Only containers labelled wharf.managed=true are served.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { WHARF_VERSION, WharfError } from '@wharf/types';
import type { Engine } from './docker/engine.js';
import type { VolumeManager } from './volumes/manager.js';
import { serveVolumes } from './volumes/routes.js';

export interface HttpOptions {
  engine: Engine;
  /** Without a token every request is accepted (development only). */
  token?: string;
  log: Logger;
  /** Serves /v1/volumes and /v1/trash (see volumes/routes.ts). */
  volumes?: VolumeManager;
  /** Serves GET /metrics in the Prometheus text format; `public`: without the token. */
  metrics?: { render(): Promise<string>; contentType: string; public: boolean };
}

async function serveMetrics(metrics: NonNullable<HttpOptions['metrics']>, res: ServerResponse): Promise<void> {
  const body = await metrics.render();
  res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendError(res: ServerResponse, err: WharfError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(err.toBody()));
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1]?.trim() ?? ''), digest(token)) && m !== null;
}

function parseBool(v: string | null, fallback: boolean): boolean | undefined {
  if (v === null || v === '') return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

async function serveLogs(engine: Engine, id: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const follow = parseBool(url.searchParams.get('follow'), false);
  const timestamps = parseBool(url.searchParams.get('timestamps'), false);
  const tailText = url.searchParams.get('tail');
  const tail = tailText === null || tailText === '' || tailText === 'all' ? undefined : /^\d+$/.test(tailText) ? Number(tailText) : NaN;
  if (follow === undefined || timestamps === undefined) throw new WharfError('BAD_REQUEST', 'follow and timestamps must be true or false');
  if (Number.isNaN(tail)) throw new WharfError('BAD_REQUEST', `tail must be a number of lines, not "${tailText}"`);

  const stream = await engine.logs(id, { follow, timestamps, ...(tail !== undefined ? { tail } : {}) });
  if (!stream) throw new WharfError('CONTAINER_NOT_FOUND', `no container ${id} managed by Wharf on this host`);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.flushHeaders();
  const done = (): void => {
    stream.destroy();
  };
  req.once('close', done);
  res.once('close', done);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

export function createHttpServer(opts: HttpOptions): Server {
  const { engine, token, log, volumes, metrics } = opts;
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const handle = async (): Promise<void> => {
      if (req.method === 'GET' && url.pathname === '/v1/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', version: WHARF_VERSION }));
        return;
      }
      const metricsRequest = metrics !== undefined && req.method === 'GET' && url.pathname === '/metrics';
      if (metricsRequest && metrics.public) return serveMetrics(metrics, res);
      if (token !== undefined && !tokenMatches(req.headers.authorization, token)) {
        throw new WharfError('UNAUTHORIZED', 'a valid bearer token (the join token) is required');
      }
      if (metricsRequest) return serveMetrics(metrics, res);
      const logs = /^\/v1\/containers\/([^/]+)\/logs$/.exec(url.pathname);
      if (logs?.[1] && req.method === 'GET') {
        await serveLogs(engine, decodeURIComponent(logs[1]), url, req, res);
        return;
      }
      if (volumes && (await serveVolumes(volumes, log, req, res, url))) return;
      throw new WharfError('NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
    };
    handle().catch((err: unknown) => {
      if (err instanceof WharfError) return sendError(res, err);
      log.warn({ err: err instanceof Error ? err.message : String(err), path: url.pathname }, 'agent API request failed');
      sendError(res, new WharfError('INTERNAL', err instanceof Error ? err.message : 'internal error'));
    });
  });
}
