/**
 * The web console (packages/console, a single-page app) served at `/`: its built
 * files from `packages/console/dist` (or WHARF_CONSOLE_DIR). The server only serves
 * those files; it imports nothing of the console.
 *
 *   GET /assets/…        hashed names: cached for a year, immutable
 *   GET /other-file      as it is, revalidated
 *   GET /, or any page   index.html, never cached, so a new build shows at once
 *   (text/html)          (the console's router then shows the page)
 *   /v1/…, /metrics      never here: the API's own 404
 *
 * Every answer carries a Content-Security-Policy that allows only this origin.
 */
import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyRequest } from 'fastify';
import type { App } from './api/context.js';

/** Where the console's build is: WHARF_CONSOLE_DIR, else the workspace's packages/console/dist beside this package. */
export function defaultConsoleDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WHARF_CONSOLE_DIR || fileURLToPath(new URL('../../console/dist/', import.meta.url));
}

const NOT_BUILT = 'The web console is not built: run `npm run build` in the Wharf checkout (or point WHARF_CONSOLE_DIR at a built console), then reload.\nThe API is at /v1 (/v1/openapi.json).\n';
const ASSET_CACHE = { maxAge: '365d', immutable: true } as const;

/** Paths that belong to the API, never to the console. */
function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/') || path === '/metrics';
}

/** Only this origin: scripts, styles (xterm.js adds <style> elements), images, and the API with its exec WebSockets. */
export function consoleHeaders(req: FastifyRequest): Record<string, string> {
  const host = req.headers.host && /^[A-Za-z0-9.\-:[\]]+$/.test(req.headers.host) ? req.headers.host : undefined;
  const connect = host ? `'self' ws://${host} wss://${host}` : `'self'`;
  return {
    'content-security-policy': [
      "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "font-src 'self' data:",
      `connect-src ${connect}`, "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/** The file under `dir` a URL path names (relative, no dotfiles, no way out of `dir`), when it exists. */
async function builtFile(dir: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const rel = posix.normalize(decoded).replace(/^\/+/, '');
  if (rel === '' || rel.split('/').some((part) => part.startsWith('.'))) return undefined;
  const info = await stat(join(dir, rel)).catch(() => undefined);
  return info?.isFile() ? rel : undefined;
}

function acceptsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

export async function consoleRoutes(app: App, dir: string): Promise<void> {
  // Only reply.sendFile (the send library: ranges, ETag, content types); the route below decides what to send.
  await app.register(fastifyStatic, { serve: false });
  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (isApiPath(path)) return reply.callNotFound();
    const file = await builtFile(dir, path);
    if (file && file !== 'index.html') {
      void reply.headers(consoleHeaders(req));
      return reply.sendFile(file, dir, file.startsWith('assets/') ? ASSET_CACHE : { maxAge: 0 });
    }
    // Deep links are pages of the console; other things that are not there stay 404s.
    if (path !== '/' && file !== 'index.html' && !acceptsHtml(req)) return reply.callNotFound();
    void reply.headers(consoleHeaders(req));
    if (file !== 'index.html' && !(await builtFile(dir, '/index.html'))) {
      return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT);
    }
    void reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', dir, { cacheControl: false });
  });
}
