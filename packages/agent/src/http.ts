/**
 * The agent's HTTP API, reached by wharf-server (logs, exec, volumes), by other
 * agents (volume exports) and by Prometheus (GET /metrics). Bearer auth with the
 * join token (/metrics without it when the agent runs with --metrics-public); or,
 * for an agent that joined with a one-use token, HTTPS with its host certificate,
 * callers known by theirs (see tls/authorize.ts), and no token.
 * Only containers labelled wharf.managed=true are served. Exec sessions are
 * WebSockets (the server's 'upgrade' event, see exec.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { WHARF_VERSION, WharfError } from '@wharf/types';
import type { Engine } from './docker/engine.js';
import { serveExec } from './exec.js';
import { parseBool } from './query.js';
import type { VolumeManager } from './volumes/manager.js';
import { serveVolumes } from './volumes/routes.js';
import { authorizeCaller } from './tls/authorize.js';
import type { HostIdentity } from './tls/identity.js';

export interface HttpOptions {
  engine: Engine;
  /** Without a token (or tls) every request is accepted (development only). */
  token?: string;
  /** Serve HTTPS with the host's certificate; callers need a certificate of the cluster CA (the token is not used). */
  tls?: HostIdentity;
  /** With `tls`: SHA-256 (hex) of host certificates the server revoked, refused as callers. */
  revokedCertificates?: ReadonlySet<string>;
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

/** An error answered on a socket whose upgrade is refused (no ServerResponse there). */
function refuseUpgrade(socket: Duplex, err: WharfError): void {
  const body = JSON.stringify(err.toBody());
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return timingSafeEqual(digest(m?.[1]?.trim() ?? ''), digest(token)) && m !== null;
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

function internal(err: unknown, log: Logger, path: string): WharfError {
  if (err instanceof WharfError) return err;
  log.warn({ err: err instanceof Error ? err.message : String(err), path }, 'agent API request failed');
  return new WharfError('INTERNAL', err instanceof Error ? err.message : 'internal error');
}

const EXEC_PATH = /^\/v1\/containers\/([^/]+)\/exec$/;

export function createHttpServer(opts: HttpOptions): Server {
  const { engine, token, tls, log, volumes, metrics } = opts;
  const authorize = (req: IncomingMessage, path: string): void => {
    if (tls) return authorizeCaller(req, path, opts.revokedCertificates);
    if (token !== undefined && !tokenMatches(req.headers.authorization, token)) {
      throw new WharfError('UNAUTHORIZED', 'a valid bearer token (the join token) is required');
    }
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const handle = async (): Promise<void> => {
      if (req.method === 'GET' && url.pathname === '/v1/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', version: WHARF_VERSION }));
        return;
      }
      const metricsRequest = metrics !== undefined && req.method === 'GET' && url.pathname === '/metrics';
      if (metricsRequest && metrics.public) return serveMetrics(metrics, res);
      authorize(req, url.pathname);
      if (metricsRequest) return serveMetrics(metrics, res);
      const logs = /^\/v1\/containers\/([^/]+)\/logs$/.exec(url.pathname);
      if (logs?.[1] && req.method === 'GET') {
        await serveLogs(engine, decodeURIComponent(logs[1]), url, req, res);
        return;
      }
      if (volumes && (await serveVolumes(volumes, log, req, res, url))) return;
      throw new WharfError('NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
    };
    handle().catch((err: unknown) => sendError(res, internal(err, log, url.pathname)));
  };
  // Certificates are asked for, not required: /v1/health (and public metrics) need none, the rest is checked per request.
  const server = tls ? createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, handler) : createServer(handler);

  const execSessions = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://agent');
    const handle = async (): Promise<void> => {
      authorize(req, url.pathname);
      const exec = EXEC_PATH.exec(url.pathname);
      if (!exec?.[1] || req.method !== 'GET') throw new WharfError('NOT_FOUND', `no WebSocket route ${req.method ?? ''} ${url.pathname}`);
      await serveExec(engine, execSessions, log, decodeURIComponent(exec[1]), url, req, socket, head);
    };
    handle().catch((err: unknown) => refuseUpgrade(socket, internal(err, log, url.pathname)));
  });
  // Upgraded sockets are no longer the HTTP server's connections: end the sessions with them.
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    for (const ws of execSessions.clients) ws.terminate();
    closeAllConnections();
  };
  return server;
}
