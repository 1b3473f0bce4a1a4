/**
 * Typed HTTP client for the Wharf API (/v1). Used by the CLI, the console and the
 * agent; it is the only way they talk to the control plane.
 */
import {
  DEFAULT_TENANT,
  WharfError,
  type AuditQuery,
  type AuditRecord,
  type Me,
  type QuotaSpec,
  type QuotaView,
  type Tenant,
  type TenantSpec,
  type TenantRole,
  type TokenCreate,
  type TokenCreated,
  type TokenInfo,
  type SshKey,
  type SshKeyCreate,
  type User,
  type UserCreate,
  isErrorCode,
  execQuery,
  type AppEvent,
  type RecentEvent,
  type AutoscaleSpec,
  type AutoscaleStatus,
  type MetricSample,
  type AppSpec,
  type AppView,
  type DesiredSets,
  type Endpoints,
  type LbView,
  type Host,
  type HostMetrics,
  type HostMetricsHistory,
  type HostRegistration,
  type HostRemoved,
  type RevokedCertificate,
  type HostSettingsPatch,
  type ImageDeleted,
  type ImageDetail,
  type ImageRepository,
  type ImageTag,
  type ImageUploadPlan,
  type ImageUploadResult,
  type ImageVisibility,
  type RegistryGcRun,
  type RegistryGcStatus,
  type RegistryInfo,
  type NetworkPolicy,
  type NetworkPolicySpec,
  type NetworkSpec,
  type NetworkView,
  type ResizeRequest,
  type Rollout,
  type RolloutRequest,
  type SetEvent,
  type SetMetricsHistory,
  type SetTop,
  type SetView,
  type StatusReport,
  type TrashEntry,
  type VolumeSnapshot,
  type VolumeView,
} from '@wharf/types';

export interface ClientOptions {
  /**
   * Base URL of wharf-server, e.g. http://127.0.0.1:7070; several servers of one
   * platform separated by commas: a request that cannot reach one goes to the next.
   */
  server: string;
  token?: string;
  /** Per-request timeout in ms (long polls pass their own). Default 30 s. */
  timeoutMs?: number;
  /**
   * The tenant of set and policy requests (sent as `?tenant=`). Unset: the
   * server's default tenant ("default"). Networks and hosts are platform-wide.
   */
  tenant?: string;
  /** Sends the requests instead of the global fetch (an agent that joined passes one with its client certificate). */
  fetch?: typeof fetch;
}

/** The server could not be reached at all (refused, reset, timed out). */
/**
 * Errors of a request that never reached the server: it is safe to send it again to
 * another one. (A reset or timeout after sending may have been applied.)
 */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function notDelivered(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' && NOT_DELIVERED.has(cause.code);
}

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
export type RolloutAction = 'pause' | 'resume' | 'rollback';

/** A command to run in a container (`execConnection`). */
export interface ExecOptions {
  /** A business container; default: the one with the lowest index. */
  container?: string;
  /** Empty: the container's shell. */
  cmd: string[];
  tty: boolean;
  /** The TTY's size to start with. */
  cols?: number;
  rows?: number;
}

/** Where an exec WebSocket goes, and the headers of its upgrade request. */
export interface ExecConnection {
  url: string;
  headers: Record<string, string>;
}

export interface LogOptions {
  container?: string;
  follow?: boolean;
  tail?: number;
  signal?: AbortSignal;
}

/** What `listTrash` answers: the entries, and the hosts whose agent did not answer (their bins are not listed). */
export interface TrashList {
  entries: TrashEntry[];
  unreachable: string[];
}

/** What a purge removed: how many volumes, and the bytes they held. */
export interface PurgeResult {
  purged: number;
  bytes: number;
}

/** A volume download: its length when the server knows it, a file name, and the bytes as they come. */
export interface VolumeExport {
  length?: number;
  /** What the volume holds: about the size of the archive, when the length is unknown. */
  used?: number;
  filename: string;
  chunks: AsyncIterable<Uint8Array>;
}

/** An archive to upload (`uploadImage`): its bytes as they are read, and how many there are. */
export interface ImageUpload {
  /** The repository within the tenant and the tag; left out, the server takes the archive's own name. */
  name?: string;
  tag?: string;
  body: AsyncIterable<Uint8Array>;
  length: number;
  signal?: AbortSignal;
}

/** The newest figures of a host, with its name (`wharf top hosts`). */
export type HostTop = HostMetrics & { host: string };

/** Which points of a history: `since` an ISO 8601 time or a duration back from now (`-10m`); at most one per `step` (`1m`). */
export interface MetricsRange {
  since?: string;
  step?: string;
}

/** `wharf top sets`: highest first by CPU cores, memory bytes or network bytes/s (rx + tx). */
export interface TopSetsOptions {
  appkey?: string;
  sort?: 'cpu' | 'memory' | 'net';
  limit?: number;
}

/** How long a move may take by default: the volume is copied between hosts before the answer. */
export const MOVE_TIMEOUT_MS = 24 * 3600_000;
/** Longest timer Node accepts: "no timeout" for streams. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

function setPath(appkey: string, id: string | number): string {
  return `/v1/sets/${encodeURIComponent(appkey)}/${encodeURIComponent(String(id))}`;
}

function volumePath(appkey: string, id: string | number): string {
  return `/v1/volumes/${encodeURIComponent(appkey)}/${encodeURIComponent(String(id))}`;
}

function appPath(appkey: string): string {
  return `/v1/apps/${encodeURIComponent(appkey)}`;
}

/** `/v1/apps/{appkey}/rollouts`, optionally followed by more path. */
function rolloutPath(appkey: string, rest = ''): string {
  return `${appPath(appkey)}/rollouts${rest}`;
}

/** `/v1/images/{tenant}/{name}` (a "/" in the name is sent as %2F), optionally followed by more path. */
function imagePath(tenant: string | undefined, name: string, rest = ''): string {
  return `/v1/images/${encodeURIComponent(tenant ?? DEFAULT_TENANT)}/${encodeURIComponent(name)}${rest}`;
}

function policyPath(appkey: string, name: string): string {
  return `/v1/policies/${encodeURIComponent(appkey)}/${encodeURIComponent(name)}`;
}

/** `path?query`, or just `path` when no parameter has a value. */
function withQuery(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

export class WharfClient {
  /** Every server given, in order; `server` is the one in use. */
  readonly servers: readonly string[];
  private current = 0;
  /** The tenant of set and policy requests; undefined: the server's default. */
  readonly tenant: string | undefined;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch | undefined;

  constructor(opts: ClientOptions) {
    this.servers = opts.server.split(',').map((u) => u.trim().replace(/\/+$/, '')).filter(Boolean);
    if (this.servers.length === 0) throw new ConnectionError(opts.server, new Error('no server URL given'));
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.tenant = opts.tenant;
    this.fetch = opts.fetch;
  }

  /** The server requests go to now (the first one that answered). */
  get server(): string {
    return this.servers[this.current] as string;
  }

  /** The same connection, for another tenant. */
  forTenant(tenant: string | undefined): WharfClient {
    return new WharfClient({
      server: this.servers.join(','),
      timeoutMs: this.timeoutMs,
      ...(this.token !== undefined ? { token: this.token } : {}),
      ...(this.fetch ? { fetch: this.fetch } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
    });
  }

  /** Adds `tenant=` (when the client has one) to a tenant-scoped route. */
  private scoped(path: string, params: Record<string, string | undefined> = {}): string {
    return withQuery(path, { ...params, tenant: this.tenant });
  }

  /** Sends a request and returns the raw response; throws WharfError for API errors. */
  async raw(method: string, path: string, init: { body?: unknown; rawBody?: string; stream?: AsyncIterable<Uint8Array>; contentType?: string; signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (init.stream !== undefined) {
      body = init.stream;
      headers['content-type'] = init.contentType ?? 'application/octet-stream';
    } else if (init.rawBody !== undefined) {
      body = init.rawBody;
      headers['content-type'] = init.contentType ?? 'application/json';
    } else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Response | undefined;
    // A server that cannot be reached: the next one is tried, and kept while it answers.
    for (let tried = 1; !res; tried++) {
      const server = this.server;
      try {
        // A streamed body goes out as it is read (half duplex: the answer comes after it).
        res = await (this.fetch ?? fetch)(server + path, { method, headers, body, signal, ...(init.stream ? { duplex: 'half' } : {}) } as RequestInit);
      } catch (err) {
        if (init.signal?.aborted) throw err;
        const another = tried < this.servers.length && init.stream === undefined && (notDelivered(err) || method === 'GET');
        // A server that does not answer in time: the next request goes to another one.
        if (this.server === server && (another || timeout.aborted)) this.current = (this.current + 1) % this.servers.length;
        if (!another || signal.aborted) throw new ConnectionError(server, err);
      }
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
    const res = await this.raw('PUT', this.scoped(setPath(s.appkey, s.id)), opts.yaml !== undefined ? { rawBody: opts.yaml, contentType: 'application/yaml' } : { body: spec });
    return { created: res.status === 201, set: (await res.json()) as SetView };
  }

  listSets(filter: { appkey?: string } = {}): Promise<SetView[]> {
    return this.request('GET', this.scoped('/v1/sets', { appkey: filter.appkey || undefined }));
  }

  getSet(appkey: string, id: string | number): Promise<SetView> {
    return this.request('GET', this.scoped(setPath(appkey, id)));
  }

  deleteSet(appkey: string, id: string | number): Promise<SetView> {
    return this.request('DELETE', this.scoped(setPath(appkey, id)));
  }

  setAction(appkey: string, id: string | number, action: SetAction): Promise<SetView> {
    return this.request('POST', this.scoped(`${setPath(appkey, id)}/${action}`));
  }

  setEvents(appkey: string, id: string | number): Promise<SetEvent[]> {
    return this.request('GET', this.scoped(`${setPath(appkey, id)}/events`));
  }

  /** Streams a container's log as text chunks. */
  async *logs(appkey: string, id: string | number, opts: LogOptions = {}): AsyncGenerator<string> {
    const path = this.scoped(`${setPath(appkey, id)}/logs`, {
      container: opts.container || undefined,
      follow: opts.follow ? 'true' : undefined,
      tail: opts.tail !== undefined ? String(opts.tail) : undefined,
    });
    const res = await this.raw('GET', path, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeoutMs: opts.follow ? 2 ** 31 - 1 : this.timeoutMs,
    });
    if (!res.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
  }

  /**
   * The WebSocket of an exec session (`GET /v1/sets/:appkey/:id/exec`): its ws:// or
   * wss:// URL and the upgrade's Authorization header. The caller opens it with the
   * WebSocket client it has and speaks the exec frames of @wharf/types (docs/api.md);
   * a refused upgrade answers an API error (see `apiError`).
   */
  execConnection(appkey: string, id: string | number, opts: ExecOptions): ExecConnection {
    const q = execQuery({ cmd: opts.cmd, tty: opts.tty, ...(opts.cols !== undefined ? { cols: opts.cols } : {}), ...(opts.rows !== undefined ? { rows: opts.rows } : {}) });
    if (opts.container) q.set('container', opts.container);
    if (this.tenant !== undefined) q.set('tenant', this.tenant);
    return {
      url: `${this.server.replace(/^http/, 'ws')}${setPath(appkey, id)}/exec?${q}`,
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
    };
  }

  /**
   * Moves a stopped set, with its volume, to `host`: the target's agent copies the
   * volume and both sides' checksums must agree before the set is placed there and
   * started. Answers when the copy is done (the request may take long: no 30 s timeout).
   */
  moveSet(appkey: string, id: string | number, host: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<SetView> {
    return this.request('POST', this.scoped(`${setPath(appkey, id)}/move`), { host }, { timeoutMs: opts.timeoutMs ?? MOVE_TIMEOUT_MS, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /**
   * Resizes a set online (cpu, memory, disk, containers' percentages) and answers it
   * at the new generation (as it is when nothing changes). INSUFFICIENT_RESOURCES when
   * its host cannot fit the new size (unless `moveIfNeeded` lets it move),
   * CONTAINER_NOT_FOUND, VOLUME_TOO_SMALL.
   */
  resizeSet(appkey: string, id: string | number, request: ResizeRequest): Promise<SetView> {
    return this.request('POST', this.scoped(`${setPath(appkey, id)}/resize`), request);
  }

  // ---- volumes (tenant-scoped) ----

  /** The volume of every set (of one app), with usage from the hosts' last heartbeats. */
  listVolumes(filter: { appkey?: string } = {}): Promise<VolumeView[]> {
    return this.request('GET', this.scoped('/v1/volumes', { appkey: filter.appkey || undefined }));
  }

  /** One set's volume, with `snapshots` when its host answered. */
  getVolume(appkey: string, id: string | number): Promise<VolumeView> {
    return this.request('GET', this.scoped(volumePath(appkey, id)));
  }

  /** Resizes online; `size` like "20Gi" (or bytes). INSUFFICIENT_DISK, VOLUME_TOO_SMALL, VOLUME_OP_UNSUPPORTED. */
  resizeVolume(appkey: string, id: string | number, size: string | number): Promise<VolumeView> {
    return this.request('POST', this.scoped(`${volumePath(appkey, id)}/resize`), { size });
  }

  listSnapshots(appkey: string, id: string | number): Promise<VolumeSnapshot[]> {
    return this.request('GET', this.scoped(`${volumePath(appkey, id)}/snapshots`));
  }

  /** Without a name the agent picks one. */
  createSnapshot(appkey: string, id: string | number, name?: string): Promise<VolumeSnapshot> {
    return this.request('POST', this.scoped(`${volumePath(appkey, id)}/snapshots`), name !== undefined ? { name } : {});
  }

  /** Rolls the volume back; the set must be stopped (VOLUME_IN_USE). */
  restoreSnapshot(appkey: string, id: string | number, name: string): Promise<VolumeView> {
    return this.request('POST', this.scoped(`${volumePath(appkey, id)}/snapshots/${encodeURIComponent(name)}/restore`));
  }

  async deleteSnapshot(appkey: string, id: string | number, name: string): Promise<void> {
    await this.request('DELETE', this.scoped(`${volumePath(appkey, id)}/snapshots/${encodeURIComponent(name)}`));
  }

  /** Downloads the volume as a tar archive. Only `signal` ends the transfer. */
  async exportVolume(appkey: string, id: string | number, opts: { signal?: AbortSignal } = {}): Promise<VolumeExport> {
    const res = await this.raw('GET', this.scoped(`${volumePath(appkey, id)}/export`), { ...(opts.signal ? { signal: opts.signal } : {}), timeoutMs: NO_TIMEOUT_MS });
    const length = Number(res.headers.get('content-length') ?? NaN);
    const used = Number(res.headers.get('x-wharf-volume-used') ?? NaN);
    const filename = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${appkey}-${id}.tar`;
    const body = res.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      if (!body) return;
      for await (const chunk of body) yield chunk as Uint8Array;
    }
    return { ...(Number.isFinite(length) ? { length } : {}), ...(Number.isFinite(used) ? { used } : {}), filename, chunks: chunks() };
  }

  // ---- recycle bins (tenant-scoped) ----

  /** The tenant's deleted volumes on every ready host (or one). */
  async listTrash(opts: { host?: string } = {}): Promise<TrashList> {
    const res = await this.raw('GET', this.scoped('/v1/trash', { host: opts.host }));
    const unreachable = (res.headers.get('x-wharf-unreachable-hosts') ?? '').split(',').filter(Boolean);
    return { entries: (await res.json()) as TrashEntry[], unreachable };
  }

  /** Restores a deleted volume into a stopped set of the same app on the same host. */
  restoreTrash(host: string, trashId: string, to: { appkey: string; id: string | number }): Promise<VolumeView> {
    return this.request('POST', this.scoped(`/v1/trash/${encodeURIComponent(host)}/${encodeURIComponent(trashId)}/restore`), { appkey: to.appkey, id: String(to.id) });
  }

  /** Purges one volume from a host's recycle bin, or (without `trashId`) every volume of the tenant there. */
  purgeTrash(host: string, trashId?: string): Promise<PurgeResult> {
    const path = `/v1/trash/${encodeURIComponent(host)}${trashId !== undefined ? `/${encodeURIComponent(trashId)}` : ''}`;
    return this.request('DELETE', this.scoped(path));
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

  /**
   * Overrides what the host's agent declares: the networks it reaches (and
   * through which uplink) and its uplink bandwidth in Mbit/s. A field left out
   * is unchanged; null drops the override (back to the agent's own value).
   */
  updateHost(name: string, patch: HostSettingsPatch): Promise<Host> {
    return this.request('PATCH', `/v1/hosts/${encodeURIComponent(name)}`, patch);
  }

  /** Removes a host that holds no set (409 otherwise); a certificate it joined with is revoked. */
  removeHost(name: string): Promise<HostRemoved> {
    return this.request('DELETE', `/v1/hosts/${encodeURIComponent(name)}`);
  }

  /** Revokes the certificate a host joined with (and its registry secret); it comes back only with a new join token. */
  revokeHostCertificate(name: string): Promise<RevokedCertificate> {
    return this.request('DELETE', `/v1/hosts/${encodeURIComponent(name)}/certificate`);
  }

  // ---- platform networks (not tenant-scoped) ----

  /** Creates a network; `created` is false when the same network already exists (a different one is a CONFLICT). */
  async createNetwork(spec: NetworkSpec): Promise<{ created: boolean; network: NetworkView }> {
    const res = await this.raw('PUT', `/v1/networks/${encodeURIComponent(spec.name)}`, { body: spec });
    return { created: res.status === 201, network: (await res.json()) as NetworkView };
  }

  /** Every network with its used and free addresses (without `allocations`). */
  listNetworks(): Promise<NetworkView[]> {
    return this.request('GET', '/v1/networks');
  }

  /** One network with every address in use (`allocations`); NETWORK_NOT_FOUND when there is none. */
  getNetwork(name: string): Promise<NetworkView> {
    return this.request('GET', `/v1/networks/${encodeURIComponent(name)}`);
  }

  /** Refused with NETWORK_IN_USE (`details.allocations`) while a set holds an address of it. */
  async deleteNetwork(name: string): Promise<void> {
    await this.request('DELETE', `/v1/networks/${encodeURIComponent(name)}`);
  }

  // ---- network policies (tenant-scoped) ----

  /** Creates or replaces the policy named by the spec's (appkey, name). */
  async applyPolicy(spec: NetworkPolicySpec): Promise<{ created: boolean; policy: NetworkPolicy }> {
    const s = spec as Partial<NetworkPolicySpec> | null;
    if (typeof s?.appkey !== 'string' || typeof s.name !== 'string') {
      throw new WharfError('VALIDATION_FAILED', `${typeof s?.appkey !== 'string' ? 'appkey' : 'name'}: is required`, {
        errors: [{ path: typeof s?.appkey !== 'string' ? 'appkey' : 'name', message: 'is required' }],
      });
    }
    const res = await this.raw('PUT', this.scoped(policyPath(s.appkey, s.name)), { body: spec });
    return { created: res.status === 201, policy: (await res.json()) as NetworkPolicy };
  }

  listPolicies(filter: { appkey?: string } = {}): Promise<NetworkPolicy[]> {
    return this.request('GET', this.scoped('/v1/policies', { appkey: filter.appkey || undefined }));
  }

  getPolicy(appkey: string, name: string): Promise<NetworkPolicy> {
    return this.request('GET', this.scoped(policyPath(appkey, name)));
  }

  async deletePolicy(appkey: string, name: string): Promise<void> {
    await this.request('DELETE', this.scoped(policyPath(appkey, name)));
  }

  // ---- rollouts: gray image updates of one container of an app's sets (tenant-scoped) ----

  /** Starts a rollout. APP_NOT_FOUND, SET_NOT_FOUND, CONTAINER_NOT_FOUND; ROLLOUT_IN_PROGRESS while another is under way. */
  startRollout(appkey: string, req: RolloutRequest): Promise<Rollout> {
    return this.request('POST', this.scoped(rolloutPath(appkey)), req);
  }

  /** One rollout by number, or the newest (`'current'`); ROLLOUT_NOT_FOUND when there is none. */
  getRollout(appkey: string, which: number | 'current'): Promise<Rollout> {
    return this.request('GET', this.scoped(rolloutPath(appkey, `/${which}`)));
  }

  /** The app's rollouts, newest first. */
  listRollouts(appkey: string): Promise<Rollout[]> {
    return this.request('GET', this.scoped(rolloutPath(appkey)));
  }

  /** Pauses, resumes or rolls back the newest rollout; CONFLICT when its state does not allow it. */
  rolloutAction(appkey: string, action: RolloutAction): Promise<Rollout> {
    return this.request('POST', this.scoped(rolloutPath(appkey, `/current/${action}`)));
  }

  // ---- apps: a set template kept at a replica count, and its endpoints (tenant-scoped) ----

  /** Creates the app; APP_EXISTS when it exists. Accepts a parsed spec or raw JSON/YAML text (`yaml`). */
  createApp(spec: unknown, opts: { yaml?: string } = {}): Promise<{ created: boolean; app: AppView }> {
    return this.putApp(spec, opts, true);
  }

  /** Creates the app or updates its spec (template, replicas, policies). */
  applyApp(spec: unknown, opts: { yaml?: string } = {}): Promise<{ created: boolean; app: AppView }> {
    return this.putApp(spec, opts, false);
  }

  private async putApp(spec: unknown, opts: { yaml?: string }, createOnly: boolean): Promise<{ created: boolean; app: AppView }> {
    const appkey = (spec as Partial<AppSpec> | null)?.appkey;
    if (typeof appkey !== 'string') throw new WharfError('VALIDATION_FAILED', 'appkey: is required', { errors: [{ path: 'appkey', message: 'is required' }] });
    const res = await this.raw('PUT', this.scoped(appPath(appkey)), {
      ...(opts.yaml !== undefined ? { rawBody: opts.yaml, contentType: 'application/yaml' } : { body: spec }),
      ...(createOnly ? { headers: { 'if-none-match': '*' } } : {}),
    });
    return { created: res.status === 201, app: (await res.json()) as AppView };
  }

  listApps(): Promise<AppView[]> {
    return this.request('GET', this.scoped('/v1/apps'));
  }

  getApp(appkey: string): Promise<AppView> {
    return this.request('GET', this.scoped(appPath(appkey)));
  }

  /** Marks the app and its sets for deletion; the app is gone (APP_NOT_FOUND) once its sets are. */
  deleteApp(appkey: string): Promise<AppView> {
    return this.request('DELETE', this.scoped(appPath(appkey)));
  }

  /** Sets the replica count; answers at once, the server creates or drains sets. */
  /** `warmPool`, when given, also sets the size of the app's warm pool. */
  scaleApp(appkey: string, replicas: number, warmPool?: number): Promise<AppView> {
    return this.request('POST', this.scoped(`${appPath(appkey)}/scale`), { replicas, ...(warmPool !== undefined ? { warmPool } : {}) });
  }

  appEvents(appkey: string): Promise<AppEvent[]> {
    return this.request('GET', this.scoped(`${appPath(appkey)}/events`));
  }

  /** The newest events of the tenant's sets and apps together, newest first (default 50, at most 500). */
  recentEvents(opts: { limit?: number } = {}): Promise<RecentEvent[]> {
    return this.request('GET', this.scoped('/v1/events', { limit: opts.limit?.toString() }));
  }

  /** Sets the app's autoscaling (bounds, targets, pacing, schedules); the autoscaler owns its replicas from then on. */
  setAutoscale(appkey: string, spec: AutoscaleSpec): Promise<AutoscaleStatus> {
    return this.request('PUT', this.scoped(`${appPath(appkey)}/autoscale`), spec);
  }

  /** Turns the app's autoscaling off; its replicas stay where they are. */
  disableAutoscale(appkey: string): Promise<AppView> {
    return this.request('DELETE', this.scoped(`${appPath(appkey)}/autoscale`));
  }

  /** Effective bounds, open and upcoming schedule windows, signals and recent decisions. */
  autoscaleStatus(appkey: string): Promise<AutoscaleStatus> {
    return this.request('GET', this.scoped(`${appPath(appkey)}/autoscale`));
  }

  /** Pushes a custom metric: `value` is the app's total, the autoscaler divides it by the ready sets. */
  async pushMetric(appkey: string, sample: MetricSample): Promise<void> {
    await this.raw('POST', this.scoped(`${appPath(appkey)}/metrics`), { body: sample });
  }

  /**
   * The app's endpoints (ready sets not draining; with `all`, every placed set with its flags).
   * With `watch`, a long poll: answers when the revision differs from `revision`, or after `timeoutSeconds` (default 30).
   */
  endpoints(appkey: string, opts: { watch?: boolean; revision?: number; timeoutSeconds?: number; all?: boolean; signal?: AbortSignal } = {}): Promise<Endpoints> {
    const wait = opts.timeoutSeconds ?? 30;
    const path = this.scoped(`${appPath(appkey)}/endpoints`, {
      watch: opts.watch ? 'true' : undefined,
      revision: opts.watch ? String(opts.revision ?? 0) : undefined,
      timeoutSeconds: opts.watch ? String(wait) : undefined,
      all: opts.all ? 'true' : undefined,
    });
    return this.request('GET', path, undefined, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.watch ? { timeoutMs: (wait + 10) * 1000 } : {}) });
  }

  /** The app's load balancer: frontend and backend slots as HAProxy reports them; APP_NOT_FOUND, LB_NOT_FOUND. */
  appLb(appkey: string): Promise<LbView> {
    return this.request('GET', this.scoped(`${appPath(appkey)}/lb`));
  }

  // ---- metrics: kept in the servers' memory (default 1 h), passed on between the servers of a store ----

  /** A set's recent metrics, oldest first (tenant-scoped); SET_NOT_FOUND. */
  setMetrics(appkey: string, id: string | number, range: MetricsRange = {}): Promise<SetMetricsHistory> {
    return this.request('GET', this.scoped(`${setPath(appkey, id)}/metrics`, { since: range.since, step: range.step }));
  }

  /** A host's recent metrics, oldest first; HOST_NOT_FOUND. */
  hostMetrics(name: string, range: MetricsRange = {}): Promise<HostMetricsHistory> {
    return this.request('GET', withQuery(`/v1/hosts/${encodeURIComponent(name)}/metrics`, { since: range.since, step: range.step }));
  }

  /** The newest metrics of every set of the tenant that reported lately. */
  topSets(opts: TopSetsOptions = {}): Promise<SetTop[]> {
    return this.request('GET', this.scoped('/v1/metrics/sets', { appkey: opts.appkey || undefined, sort: opts.sort, limit: opts.limit !== undefined ? String(opts.limit) : undefined }));
  }

  /** The newest metrics of every host that reported lately, by name. */
  topHosts(): Promise<HostTop[]> {
    return this.request('GET', '/v1/metrics/hosts');
  }

  // ---- images (the platform registry; tenant-scoped) ----

  registryInfo(): Promise<RegistryInfo> {
    return this.request('GET', '/v1/registry');
  }

  /** The tenant's repositories with their tags, sizes, pushers and the sets using them. */
  listImages(): Promise<ImageRepository[]> {
    return this.request('GET', this.scoped('/v1/images'));
  }

  /** One repository of the tenant with each tag's manifest; IMAGE_NOT_FOUND when it has no tag. */
  getImage(name: string): Promise<ImageDetail> {
    return this.request('GET', imagePath(this.tenant, name));
  }

  /** Removes a tag, or (without one) every tag of the repository; IMAGE_IN_USE (`details.sets`) while sets use it. */
  deleteImage(name: string, tag?: string): Promise<ImageDeleted> {
    return this.request('DELETE', imagePath(this.tenant, name, tag !== undefined ? `/tags/${encodeURIComponent(tag)}` : ''));
  }

  /** Points `name:tag` at the image `source` (`NAME:TAG` or `NAME@DIGEST` of the tenant) names. */
  tagImage(name: string, tag: string, source: string): Promise<ImageTag> {
    return this.request('PUT', imagePath(this.tenant, name, `/tags/${encodeURIComponent(tag)}`), { source });
  }

  /** Marks a repository public (anyone may pull it) or private; tenant admins only. */
  setImagePublic(name: string, isPublic: boolean): Promise<ImageVisibility> {
    return this.request('PUT', imagePath(this.tenant, name, '/public'), { public: isPublic });
  }

  /** Which of `layers` (digests) the registry has for `name` (or can mount from another repository of the tenant). */
  planImageUpload(name: string, layers: string[]): Promise<ImageUploadPlan> {
    return this.request('POST', this.scoped('/v1/images/upload/plan'), { name, layers });
  }

  /** Streams a `docker save` archive (or the part of it the registry lacks) to the server, which pushes it. */
  async uploadImage(u: ImageUpload): Promise<ImageUploadResult> {
    const res = await this.raw('POST', this.scoped('/v1/images/upload', { name: u.name, tag: u.tag }), {
      stream: u.body,
      contentType: 'application/x-tar',
      headers: { 'content-length': String(u.length) },
      timeoutMs: NO_TIMEOUT_MS,
      ...(u.signal ? { signal: u.signal } : {}),
    });
    return (await res.json()) as ImageUploadResult;
  }

  registryGc(): Promise<RegistryGcStatus> {
    return this.request('GET', '/v1/registry/gc');
  }

  /** Collects the registry's garbage now; answers when it is done. */
  runRegistryGc(): Promise<RegistryGcRun> {
    return this.request('POST', '/v1/registry/gc', undefined, { timeoutMs: NO_TIMEOUT_MS });
  }

  // ---- identity: login, tenants, users, tokens ----

  /** A session token for a user's name and password (no bearer token needed). */
  login(user: string, password: string, ttlSeconds?: number): Promise<TokenCreated> {
    return this.request('POST', '/v1/login', { user, password, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
  }

  /** Ends the login session of the token this client uses. */
  async logout(): Promise<void> {
    await this.request('POST', '/v1/logout');
  }

  me(): Promise<Me> {
    return this.request('GET', '/v1/me');
  }

  listTenants(): Promise<Tenant[]> {
    return this.request('GET', '/v1/tenants');
  }

  getTenant(name: string): Promise<Tenant> {
    return this.request('GET', `/v1/tenants/${encodeURIComponent(name)}`);
  }

  /**
   * Creates the tenant, or changes what the spec gives (description; platform admins
   * also its security policy: allowedCapabilities, allowPrivilegeEscalation).
   */
  putTenant(name: string, spec: TenantSpec = {}): Promise<Tenant> {
    return this.request('PUT', `/v1/tenants/${encodeURIComponent(name)}`, spec);
  }

  async deleteTenant(name: string): Promise<void> {
    await this.request('DELETE', `/v1/tenants/${encodeURIComponent(name)}`);
  }

  grantRole(tenant: string, user: string, role: TenantRole): Promise<User> {
    return this.request('PUT', `/v1/tenants/${encodeURIComponent(tenant)}/members/${encodeURIComponent(user)}`, { role });
  }

  revokeRole(tenant: string, user: string): Promise<User> {
    return this.request('DELETE', `/v1/tenants/${encodeURIComponent(tenant)}/members/${encodeURIComponent(user)}`);
  }

  listUsers(): Promise<User[]> {
    return this.request('GET', '/v1/users');
  }

  getUser(name: string): Promise<User> {
    return this.request('GET', `/v1/users/${encodeURIComponent(name)}`);
  }

  createUser(name: string, spec: UserCreate): Promise<User> {
    return this.request('PUT', `/v1/users/${encodeURIComponent(name)}`, spec);
  }

  async deleteUser(name: string): Promise<void> {
    await this.request('DELETE', `/v1/users/${encodeURIComponent(name)}`);
  }

  /** Users set their own (`current` required); platform admins anyone's. */
  async setPassword(name: string, password: string, current?: string): Promise<void> {
    await this.request('PUT', `/v1/users/${encodeURIComponent(name)}/password`, { password, ...(current !== undefined ? { current } : {}) });
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.request('GET', '/v1/tokens');
  }

  createToken(spec: TokenCreate): Promise<TokenCreated> {
    return this.request('POST', '/v1/tokens', spec);
  }

  revokeToken(id: string): Promise<TokenInfo> {
    return this.request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  // ---- SSH keys (the SSH gateway) ----

  /** The caller's SSH keys; with `user`, that user's (platform admins). */
  listSshKeys(user?: string): Promise<SshKey[]> {
    return this.request('GET', sshKeysPath(user));
  }

  /** Registers an OpenSSH public key line for the caller (a user's own, unscoped token). */
  addSshKey(spec: SshKeyCreate): Promise<SshKey> {
    return this.request('POST', '/v1/me/ssh-keys', spec);
  }

  /** Removes one of the caller's keys; with `user`, one of that user's (platform admins). */
  removeSshKey(name: string, user?: string): Promise<SshKey> {
    return this.request('DELETE', `${sshKeysPath(user)}/${encodeURIComponent(name)}`);
  }

  /** A tenant's quota limits and usage (this client's tenant unless given). */
  getQuota(tenant = this.tenant ?? DEFAULT_TENANT): Promise<QuotaView> {
    return this.request('GET', `/v1/quotas/${encodeURIComponent(tenant)}`);
  }

  /** Replaces the tenant's limits (platform admins). */
  setQuota(spec: QuotaSpec, tenant = this.tenant ?? DEFAULT_TENANT): Promise<QuotaView> {
    return this.request('PUT', `/v1/quotas/${encodeURIComponent(tenant)}`, spec);
  }

  /** The audit log, oldest first: the newest `limit` records (default 500) that match and the caller may see. */
  audit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const { since, user, object, tenant, limit } = query;
    return this.request('GET', withQuery('/v1/audit', { since, user, object, tenant, limit: limit?.toString() }));
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

const sshKeysPath = (user: string | undefined) => (user === undefined ? '/v1/me/ssh-keys' : `/v1/users/${encodeURIComponent(user)}/ssh-keys`);

async function toError(res: Response): Promise<WharfError> {
  return apiError(res.status, res.statusText, await res.text());
}

/** The WharfError an error answer of the API stands for (also a refused WebSocket upgrade's). */
export function apiError(status: number, statusText: string, text: string): WharfError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> } };
    if (body.error && isErrorCode(body.error.code)) {
      return new WharfError(body.error.code, String(body.error.message ?? statusText), body.error.details);
    }
  } catch {
    // not JSON: fall through
  }
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  return new WharfError(code, `${status} ${statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
