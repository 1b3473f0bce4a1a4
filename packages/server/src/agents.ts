/**
 * Calls from the server to a host's agent (logs, volume operations). To an agent that
 * joined with a one-use token (an https agent URL, and the server has the cluster CA)
 * the server presents its certificate and checks the agent's: signed by the cluster CA,
 * issued to that host, for that address. To any other agent it presents the join
 * token. An agent's own WharfError is passed on with its code
 * and message (and the host added to its details), and an agent that does not
 * answer, or answers something that is not an API error, becomes 502
 * HOST_UNREACHABLE naming the host.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { Readable } from 'node:stream';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { WharfError, isErrorCode, type ErrorCode } from '@wharf/types';
import { HOST_ORG, type TlsIdentity } from './tls/cluster-pki.js';

/** What is needed to reach an agent: the host's name (for messages) and its URL. */
export interface AgentHost {
  name: string;
  agentUrl: string;
}

export interface AgentCallOptions {
  /** Default 30 s. Volume copies and checksums pass much longer ones. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const AGENT_TIMEOUT_MS = 30_000;

/** Agent codes about the server's own request to it, not about the operation: they become HOST_UNREACHABLE. */
const NOT_PASSED_ON = new Set<ErrorCode>(['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

/** The path part of an agent URL, each segment encoded: `agentPath('volumes', t, a, id)` → `/v1/volumes/t/a/id`. */
export function agentPath(...segments: string[]): string {
  return `/v1/${segments.map(encodeURIComponent).join('/')}`;
}

/** The TLS options of a call to `host` with the cluster identity: the agent's certificate must name that host. */
export function agentTlsOptions(host: AgentHost, tls: TlsIdentity): RequestOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    // A pooled connection would skip the check below (the pool does not key on it).
    agent: false,
    checkServerIdentity: (hostname: string, cert: PeerCertificate) => {
      const wrongAddress = checkServerIdentity(hostname, cert);
      if (wrongAddress) return wrongAddress;
      const { O, CN } = cert.subject as { O?: unknown; CN?: unknown };
      return O === HOST_ORG && CN === host.name ? undefined : new Error(`the agent presented the certificate of ${String(CN)}, not of host ${host.name}`);
    },
  };
}

/**
 * How a call to `host` proves it comes from the server: TLS options with the server's
 * certificate for an https agent once the server has the cluster identity, else the
 * join token as the bearer token.
 */
export function agentCredentials(host: AgentHost, token: string, tls: TlsIdentity | undefined): { headers: Record<string, string>; tls?: RequestOptions } {
  if (tls && /^https:/i.test(host.agentUrl)) return { headers: {}, tls: agentTlsOptions(host, tls) };
  return { headers: { authorization: `Bearer ${token}` } };
}

export class Agents {
  constructor(
    private readonly token: string,
    private readonly timeoutMs = AGENT_TIMEOUT_MS,
    private readonly tls?: TlsIdentity,
  ) {}

  /**
   * Sends a JSON request to the agent of `host` and answers its JSON body (undefined
   * for 204). Made with node:http rather than fetch, whose client gives up after
   * 5 minutes without response headers: a volume import may take much longer.
   */
  async call<T>(host: AgentHost, method: string, path: string, body?: unknown, opts: AgentCallOptions = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    let res: { status: number; text: string };
    try {
      res = await this.send(host, method, path, body, ms, opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw unreachable(host, err, (err as { timedOut?: boolean }).timedOut ? ms : undefined);
    }
    if (res.status >= 400) throw agentError(host, method, path, res.status, res.text);
    if (res.status === 204 || res.text === '') return undefined as T;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} answered ${method} ${path} with something that is not JSON: ${res.text.slice(0, 200)}`, { host: host.name });
    }
  }

  private send(host: AgentHost, method: string, path: string, body: unknown, ms: number, signal: AbortSignal | undefined): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(host.agentUrl.replace(/\/+$/, '') + path);
      const payload = body !== undefined ? JSON.stringify(body) : undefined;
      const auth = agentCredentials(host, this.token, this.tls);
      const headers: Record<string, string | number> = { ...auth.headers, accept: 'application/json' };
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, ...auth.tls }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => done(() => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })));
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${Math.round(ms / 1000)}s`), { timedOut: true })), Math.min(ms, 2 ** 31 - 1));
      const onAbort = (): void => void req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      function done(then: () => void): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        then();
      }
      function fail(err: Error): void {
        done(() => reject(err));
      }
      req.on('error', fail);
      req.end(payload);
    });
  }

  /**
   * A streaming GET: the agent's response, whose body the caller reads (or cancels).
   * The timeout covers the wait for the headers only; `signal` ends the stream.
   */
  async stream(host: AgentHost, path: string, opts: AgentCallOptions = {}): Promise<Response & { body: ReadableStream<Uint8Array> }> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(), Math.min(ms, 2 ** 31 - 1));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timer.signal]) : timer.signal;
    try {
      let res: Response;
      const url = host.agentUrl.replace(/\/+$/, '') + path;
      const auth = agentCredentials(host, this.token, this.tls);
      try {
        res = auth.tls ? await tlsGet(url, auth.tls, signal) : await fetch(url, { headers: auth.headers, signal });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw unreachable(host, err, timer.signal.aborted ? ms : undefined);
      }
      if (!res.ok) throw agentError(host, 'GET', path, res.status, await res.text().catch(() => ''));
      if (!res.body) throw new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} answered GET ${path} without a body`, { host: host.name });
      return res as Response & { body: ReadableStream<Uint8Array> };
    } finally {
      // Once the headers are in, only `signal` ends the stream.
      clearTimeout(handle);
    }
  }
}

/** A GET over node:https (fetch cannot present a client certificate), its answer as a fetch Response. */
function tlsGet(url: string, tls: RequestOptions, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, signal }, (res: IncomingMessage) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const status = res.statusCode ?? 502;
      const empty = [101, 204, 205, 304].includes(status);
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function unreachable(host: AgentHost, err: unknown, timedOutAfterMs: number | undefined): WharfError {
  const e = err as Error & { cause?: Error };
  const why = timedOutAfterMs !== undefined ? `no answer within ${Math.round(timedOutAfterMs / 1000)}s` : (e.cause?.message ?? e.message);
  return new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} at ${host.agentUrl} did not answer: ${why}`, { host: host.name });
}

export function agentError(host: AgentHost, method: string, path: string, status: number, text: string): WharfError {
  let parsed: { error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> } } | undefined;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  if (e && isErrorCode(e.code) && typeof e.message === 'string') {
    if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') {
      return new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} refused the server's join token (${e.message})`, { host: host.name });
    }
    if (e.code === 'NOT_FOUND') {
      return new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} does not serve ${method} ${path.split('?')[0]} (is it older than the server?)`, { host: host.name });
    }
    if (!NOT_PASSED_ON.has(e.code)) {
      const message = e.code === 'INTERNAL' ? `agent of host ${host.name}: ${e.message}` : e.message;
      return new WharfError(e.code, message, { ...e.details, host: host.name });
    }
  }
  return new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} answered ${method} ${path.split('?')[0]} with ${status}${text ? `: ${text.slice(0, 300)}` : ''}`, { host: host.name });
}
