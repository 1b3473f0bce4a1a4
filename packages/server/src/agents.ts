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
import { text } from 'node:stream/consumers';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { HOST_ORG, WharfError, isErrorCode, type ErrorCode } from '@wharf/types';
import type { TlsIdentity } from './tls/cluster-pki.js';

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

  /** Sends a JSON request to the agent of `host` and answers its JSON body (undefined for 204). */
  async call<T>(host: AgentHost, method: string, path: string, body?: unknown, opts: AgentCallOptions = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const limit = deadline(ms, opts.signal);
    let res: { status: number; text: string };
    try {
      const answer = await this.open(host, method, path, body, limit.signal);
      res = { status: answer.statusCode ?? 0, text: await text(answer) };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw unreachable(host, err, limit.expired() ? ms : undefined);
    } finally {
      limit.clear();
    }
    if (res.status >= 400) throw agentError(host, method, path, res.status, res.text);
    if (res.status === 204 || res.text === '') return undefined as T;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} answered ${method} ${path} with something that is not JSON: ${res.text.slice(0, 200)}`, { host: host.name });
    }
  }

  /**
   * A streaming GET: the agent's response, whose body the caller reads (or cancels).
   * The timeout covers the wait for the headers only; `signal` ends the stream.
   */
  async stream(host: AgentHost, path: string, opts: AgentCallOptions = {}): Promise<Response & { body: ReadableStream<Uint8Array> }> {
    const ms = opts.timeoutMs ?? this.timeoutMs;
    const limit = deadline(ms, opts.signal);
    let res: IncomingMessage;
    try {
      res = await this.open(host, 'GET', path, undefined, limit.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw unreachable(host, err, limit.expired() ? ms : undefined);
    } finally {
      // Once the headers are in, only `opts.signal` ends the stream.
      limit.clear();
    }
    const status = res.statusCode ?? 0;
    if (status >= 400) throw agentError(host, 'GET', path, status, await text(res).catch(() => ''));
    if ([204, 205, 304].includes(status)) {
      res.resume();
      throw new WharfError('HOST_UNREACHABLE', `agent of host ${host.name} answered GET ${path} without a body`, { host: host.name });
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers }) as Response & { body: ReadableStream<Uint8Array> };
  }

  /**
   * Sends a request to the agent of `host` with the server's credentials and answers the
   * response once its headers are in; `signal` aborts it, the body's reading included.
   * node:http(s) rather than fetch: fetch cannot present a client certificate, and its
   * client gives up after 5 minutes without response headers (a volume import may take longer).
   */
  private open(host: AgentHost, method: string, path: string, body: unknown, signal: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(host.agentUrl.replace(/\/+$/, '') + path);
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    const auth = agentCredentials(host, this.token, this.tls);
    const headers: Record<string, string | number> = { ...auth.headers, accept: 'application/json' };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, signal, ...auth.tls }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** A signal that aborts after `ms` or with `outer`; `expired` tells whether the time ran out. */
function deadline(ms: number, outer: AbortSignal | undefined): { signal: AbortSignal; expired: () => boolean; clear: () => void } {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), Math.min(ms, 2 ** 31 - 1));
  return { signal: outer ? AbortSignal.any([outer, timer.signal]) : timer.signal, expired: () => timer.signal.aborted, clear: () => clearTimeout(handle) };
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
