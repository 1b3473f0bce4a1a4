/**
 * wharf-server as a client of its own registry (Distribution's HTTP API v2): TLS with
 * Wharf's CA, to the address the registry listens on, with tokens the server issues
 * to itself in the name of the caller it acts for (so the registry's notifications
 * name who pushed). Used by the catalog, uploads and garbage collection.
 */
import { Agent, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaTypes } from '@wharf/types';
import type { RegistryTokenService } from './token-service.js';
import { parseScopes } from './scope.js';

/** What the registry answered, when it is an error: its status and its first error code. */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The registry could not be reached (stopped, restarting for maintenance). */
export class RegistryDownError extends Error {
  constructor(cause: Error) {
    super(`the platform registry does not answer: ${cause.message}`);
    this.name = 'RegistryDownError';
  }
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Every manifest kind the catalog understands, as the Accept header of manifest requests. */
export const MANIFEST_ACCEPT = [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex].join(', ');

/** Largest response body read into memory (manifests, configs, listings). */
const MAX_BODY = 16 * 1024 * 1024;
/** Who the server's own reads are issued to. */
export const SERVER_SUBJECT = 'wharf-server';

interface RequestOptions {
  /** The token scope, e.g. `repository:default/web:pull`. */
  scope: string;
  /** The token's subject: the Wharf token name of the caller. */
  subject?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | Readable;
}

export class RegistryV2Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly opts: { host: string; port: number; ca: string; tokens: RegistryTokenService },
  ) {}

  /** A token for `scope`, kept until a minute before it expires. */
  private async token(subject: string, scope: string): Promise<string> {
    const key = `${subject}\n${scope}`;
    const cached = this.tokens.get(key);
    if (cached && cached.until > Date.now()) return cached.token;
    const t = await this.opts.tokens.issue({ kind: 'admin', subject }, parseScopes(scope), async () => ({ public: false }));
    this.tokens.set(key, { token: t.token, until: Date.now() + (t.expires_in - 60) * 1000 });
    return t.token;
  }

  /** One request; the answer's body is read into memory (up to 16 MiB). */
  async send(method: string, path: string, o: RequestOptions): Promise<RegistryResponse> {
    const token = await this.token(o.subject ?? SERVER_SUBJECT, o.scope);
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, ...o.headers };
    if (Buffer.isBuffer(o.body)) headers['content-length'] = o.body.length;
    return new Promise((resolve, reject) => {
      const req = request({ host: this.opts.host, port: this.opts.port, path, method, ca: this.opts.ca, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) res.destroy(new Error(`the registry's answer to ${method} ${path} is over ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.once('error', (err: NodeJS.ErrnoException) => reject(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(err.code ?? '') ? new RegistryDownError(err) : err));
      if (o.body instanceof Readable) pipeline(o.body, req).catch((err: Error) => req.destroy(err));
      else req.end(o.body);
    });
  }

  /** `send`, and a RegistryError unless the status is one of `ok`. */
  private async expect(method: string, path: string, o: RequestOptions, ok: number[]): Promise<RegistryResponse> {
    const res = await this.send(method, path, o);
    if (!ok.includes(res.status)) throw registryError(method, path, res);
    return res;
  }

  /** Every repository (`/v2/_catalog`, page by page). */
  async catalog(): Promise<string[]> {
    const all: string[] = [];
    let path: string | undefined = '/v2/_catalog?n=1000';
    while (path) {
      const res = await this.expect('GET', path, { scope: 'registry:catalog:*' }, [200]);
      all.push(...((JSON.parse(res.body.toString()) as { repositories?: string[] }).repositories ?? []));
      // Link: </v2/_catalog?last=x&n=1000>; rel="next"
      path = /^<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
    }
    return all;
  }

  /** The repository's tags; empty when it has none (or does not exist). */
  async tags(repository: string): Promise<string[]> {
    const res = await this.send('GET', `/v2/${repository}/tags/list`, { scope: pull(repository) });
    if (res.status === 404) return [];
    if (res.status !== 200) throw registryError('GET', 'tags/list', res);
    return (JSON.parse(res.body.toString()) as { tags?: string[] | null }).tags ?? [];
  }

  /** The digest a tag (or digest) points to, without the manifest; undefined when unknown. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const res = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, { scope: pull(repository), headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registryError('HEAD', `manifest ${repository}:${reference}`, res);
    return String(res.headers['docker-content-digest']);
  }

  /** A manifest as stored (its exact bytes and media type); undefined when unknown. */
  async manifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; body: Buffer } | undefined> {
    const res = await this.send('GET', `/v2/${repository}/manifests/${reference}`, { scope: pull(repository), headers: { accept: MANIFEST_ACCEPT } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registryError('GET', `manifest ${repository}:${reference}`, res);
    return { digest: String(res.headers['docker-content-digest']), mediaType: String(res.headers['content-type']).split(';')[0]!.trim(), body: res.body };
  }

  /** Stores a manifest under a tag or its digest; returns its digest. */
  async putManifest(repository: string, reference: string, mediaType: string, body: Buffer, subject?: string): Promise<string> {
    const res = await this.expect('PUT', `/v2/${repository}/manifests/${reference}`, { scope: push(repository), ...(subject ? { subject } : {}), headers: { 'content-type': mediaType }, body }, [201]);
    return String(res.headers['docker-content-digest']);
  }

  /** Deletes a manifest by digest, and with it every tag pointing to it. False when it was not there. */
  async deleteManifest(repository: string, digest: string, subject?: string): Promise<boolean> {
    const res = await this.expect('DELETE', `/v2/${repository}/manifests/${digest}`, { scope: `repository:${repository}:delete`, ...(subject ? { subject } : {}) }, [202, 404]);
    return res.status === 202;
  }

  /** A blob's size when the repository has it. */
  async blobSize(repository: string, digest: string): Promise<number | undefined> {
    const res = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, { scope: pull(repository) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registryError('HEAD', `blob ${digest}`, res);
    return Number(res.headers['content-length']);
  }

  /** A small blob (an image config). */
  async blob(repository: string, digest: string): Promise<Buffer | undefined> {
    const res = await this.send('GET', `/v2/${repository}/blobs/${digest}`, { scope: pull(repository) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registryError('GET', `blob ${digest}`, res);
    return res.body;
  }

  /** Links a blob of `from` into `repository` without sending it; false when `from` lacks it. */
  async mount(repository: string, digest: string, from: string, subject?: string): Promise<boolean> {
    const res = await this.expect('POST', `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      { scope: `${push(repository)} ${pull(from)}`, ...(subject ? { subject } : {}), headers: { 'content-length': 0 } }, [201, 202]);
    if (res.status === 201) return true;
    // 202: the registry opened an ordinary upload instead; cancel it.
    await this.send('DELETE', uploadPath(res), { scope: push(repository) }).catch(() => undefined);
    return false;
  }

  /** Uploads a blob of `size` bytes in one request (monolithic upload); the registry checks the digest. */
  async upload(repository: string, digest: string, size: number, body: Buffer | Readable, subject?: string): Promise<void> {
    const scope = push(repository);
    const opened = await this.expect('POST', `/v2/${repository}/blobs/uploads/`, { scope, ...(subject ? { subject } : {}), headers: { 'content-length': 0 } }, [202]);
    const location = uploadPath(opened);
    const sep = location.includes('?') ? '&' : '?';
    await this.expect('PUT', `${location}${sep}digest=${encodeURIComponent(digest)}`,
      { scope, ...(subject ? { subject } : {}), headers: { 'content-type': 'application/octet-stream', 'content-length': size }, body }, [201]);
  }
}

const pull = (repository: string) => `repository:${repository}:pull`;
const push = (repository: string) => `repository:${repository}:pull,push`;

/** The path of an upload's Location (absolute or relative). */
function uploadPath(res: RegistryResponse): string {
  const url = new URL(String(res.headers.location ?? ''), 'https://registry');
  return url.pathname + url.search;
}

function registryError(method: string, what: string, res: RegistryResponse): RegistryError {
  let code: string | undefined;
  let message = res.body.toString().trim().slice(0, 300);
  try {
    const first = (JSON.parse(res.body.toString()) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    code = first?.code;
    message = first?.message ?? message;
  } catch {
    /* not JSON */
  }
  return new RegistryError(res.status, code, `the registry answered ${res.status}${code ? ` ${code}` : ''} to ${method} ${what}: ${message}`);
}
