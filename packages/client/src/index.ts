/**
 * Typed HTTP client for the Wharf API (/v1). Used by the CLI, the console and the
 * agent; it is the only way they talk to the control plane.
 */
import {
  WharfError,
  isErrorCode,
  type DesiredSets,
  type Host,
  type HostRegistration,
  type SetEvent,
  type SetView,
  type StatusReport,
} from '@wharf/types';

export interface ClientOptions {
  /** Base URL of wharf-server, e.g. http://127.0.0.1:7070 */
  server: string;
  token?: string;
  /** Per-request timeout in ms (long polls pass their own). Default 30 s. */
  timeoutMs?: number;
}

/** The server could not be reached at all (refused, reset, timed out). */
export class ConnectionError extends Error {
  constructor(
    readonly server: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
    super(`cannot reach wharf-server at ${server}: ${why}`);
    this.name = 'ConnectionError';
  }
}

export type SetAction = 'start' | 'stop' | 'restart';
export type HostAction = 'cordon' | 'uncordon' | 'drain';

export interface LogOptions {
  container?: string;
  follow?: boolean;
  tail?: number;
  signal?: AbortSignal;
}

function setPath(appkey: string, id: string | number): string {
  return `/v1/sets/${encodeURIComponent(appkey)}/${encodeURIComponent(String(id))}`;
}

export class WharfClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Sends a request and returns the raw response; throws WharfError for API errors. */
  async raw(method: string, path: string, init: { body?: unknown; rawBody?: string; contentType?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (init.rawBody !== undefined) {
      body = init.rawBody;
      headers['content-type'] = init.contentType ?? 'application/json';
    } else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(this.server + path, { method, headers, body, signal });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new ConnectionError(this.server, err);
    }
    if (!res.ok) throw await toError(res);
    return res;
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    const res = await this.raw(method, path, { body, ...opts });
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  health(): Promise<{ status: string; version: string }> {
    return this.request('GET', '/v1/health');
  }

  version(): Promise<{ version: string; revision: number }> {
    return this.request('GET', '/v1/version');
  }

  // ---- sets ----

  /** Creates or updates the set named by the spec's (appkey, id). Accepts a parsed spec or raw JSON/YAML text. */
  async applySet(spec: unknown, opts: { yaml?: string } = {}): Promise<{ created: boolean; set: SetView }> {
    const s = spec as { appkey?: unknown; id?: unknown };
    if (typeof s?.appkey !== 'string' || (typeof s.id !== 'string' && typeof s.id !== 'number')) {
      throw new WharfError('VALIDATION_FAILED', `${typeof s?.appkey !== 'string' ? 'appkey' : 'id'}: is required`);
    }
    const res = await this.raw('PUT', setPath(s.appkey, s.id), opts.yaml !== undefined ? { rawBody: opts.yaml, contentType: 'application/yaml' } : { body: spec });
    return { created: res.status === 201, set: (await res.json()) as SetView };
  }

  listSets(filter: { appkey?: string } = {}): Promise<SetView[]> {
    const q = filter.appkey ? `?appkey=${encodeURIComponent(filter.appkey)}` : '';
    return this.request('GET', `/v1/sets${q}`);
  }

  getSet(appkey: string, id: string | number): Promise<SetView> {
    return this.request('GET', setPath(appkey, id));
  }

  deleteSet(appkey: string, id: string | number): Promise<SetView> {
    return this.request('DELETE', setPath(appkey, id));
  }

  setAction(appkey: string, id: string | number, action: SetAction): Promise<SetView> {
    return this.request('POST', `${setPath(appkey, id)}/${action}`);
  }

  setEvents(appkey: string, id: string | number): Promise<SetEvent[]> {
    return this.request('GET', `${setPath(appkey, id)}/events`);
  }

  /** Streams a container's log as text chunks. */
  async *logs(appkey: string, id: string | number, opts: LogOptions = {}): AsyncGenerator<string> {
    const q = new URLSearchParams();
    if (opts.container) q.set('container', opts.container);
    if (opts.follow) q.set('follow', 'true');
    if (opts.tail !== undefined) q.set('tail', String(opts.tail));
    const res = await this.raw('GET', `${setPath(appkey, id)}/logs?${q}`, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: opts.follow ? 2 ** 31 - 1 : this.timeoutMs,
    });
    if (!res.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
  }

  // ---- hosts ----

  listHosts(): Promise<Host[]> {
    return this.request('GET', '/v1/hosts');
  }

  getHost(name: string): Promise<Host> {
    return this.request('GET', `/v1/hosts/${encodeURIComponent(name)}`);
  }

  /** cordon: no new sets; uncordon: schedulable again (ends a drain); drain: cordon and move relocatable sets away. */
  hostAction(name: string, action: HostAction): Promise<Host> {
    return this.request('POST', `/v1/hosts/${encodeURIComponent(name)}/${action}`);
  }

  // ---- agent protocol (join token) ----

  /** Registers the host (idempotent) and doubles as the heartbeat. */
  registerHost(reg: HostRegistration): Promise<Host> {
    return this.request('PUT', `/v1/hosts/${encodeURIComponent(reg.name)}`, reg);
  }

  /**
   * Long-polls the sets placed on `host`: answers at once when the store is past
   * `revision`, else when something changes or after `waitSeconds`.
   */
  desiredSets(host: string, revision: number, opts: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<DesiredSets> {
    const wait = opts.waitSeconds ?? 30;
    return this.request('GET', `/v1/hosts/${encodeURIComponent(host)}/desired?revision=${revision}&wait=${wait}`, undefined, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: (wait + 10) * 1000,
    });
  }

  reportStatus(host: string, report: StatusReport): Promise<void> {
    return this.request('POST', `/v1/hosts/${encodeURIComponent(host)}/status`, report);
  }
}

async function toError(res: Response): Promise<WharfError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> } };
    if (body.error && isErrorCode(body.error.code)) {
      return new WharfError(body.error.code, String(body.error.message ?? res.statusText), body.error.details);
    }
  } catch {
    // not JSON: fall through
  }
  const code = res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'FORBIDDEN' : res.status === 404 ? 'NOT_FOUND' : res.status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  return new WharfError(code, `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
