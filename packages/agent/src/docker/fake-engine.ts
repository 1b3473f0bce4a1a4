/**
 * An in-memory Engine for unit tests: containers, images and a call log, with Docker's
 * rules that matter to the reconciler (names are unique, joining a stopped infra fails).
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { Labels } from '@wharf/types';
import {
  EngineError, type ContainerConfig, type Engine, type EngineEvent, type ExecResult, type ExecSession, type ExecSessionOptions, type LimitsUpdate, type LocalImage, type LogOptions, type ManagedContainer, type NetworkConfig,
  type ObservedContainer, type ObservedNetwork, type PullOptions,
} from './engine.js';
import { managedFromLabels } from './inspect.js';

export interface FakeContainer {
  id: string;
  config: ContainerConfig;
  state: ObservedContainer['state'];
  exitCode?: number;
  oomKilled: boolean;
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  log: string;
  /** Docker network → the container's fixed IPv4 there. */
  endpoints: Record<string, string>;
  pid?: number;
}

/** An interactive exec of the fake: what it was asked, and its side of the stdio. */
export interface FakeExecSession {
  container: string;
  opts: ExecSessionOptions;
  /** What the client wrote (ends at EOF). */
  stdin: PassThrough;
  stdout: PassThrough;
  stderr: PassThrough;
  resizes: [cols: number, rows: number][];
  closed: boolean;
}

/** Network modes that are not user-defined networks. */
const BUILTIN_NETWORKS = new Set(['default', 'bridge', 'host', 'none']);

export class FakeEngine implements Engine {
  readonly containers = new Map<string, FakeContainer>();
  /** Image names on the host. */
  readonly images = new Set<string>();
  /** Images a pull can fetch. */
  readonly registry = new Set<string>();
  /** Image IDs by name (default: a hash of the name); tagging shares one. */
  readonly imageIds = new Map<string, string>();
  /** Bytes of an image (default 1000): what a pull reports in four steps, and the image's size. */
  readonly imageSizes = new Map<string, number>();
  /** IDs of images without a name (a newer pull took it). */
  readonly dangling = new Set<string>();
  /** Holds a pull until it resolves (tests of concurrent pulls). */
  pullGate: ((image: string) => Promise<void>) | undefined;
  readonly calls: string[] = [];
  /** Containers whose process exits as soon as it starts. */
  readonly crashOnStart = new Set<string>();
  /** Make the next call of a kind fail: failNext.set('create', 'invalid mount'). */
  readonly failNext = new Map<string, string>();
  /** Docker networks by name (macvlan only). */
  readonly networks = new Map<string, NetworkConfig & { id: string }>();
  /** Answers execs (default: exit code 0, no output); every exec is logged in `execs`. */
  execHandler: (c: FakeContainer, cmd: string[]) => ExecResult | Promise<ExecResult> = () => ({ exitCode: 0, output: '' });
  readonly execs: { name: string; cmd: string[] }[] = [];
  /**
   * Runs interactive execs and answers the exit code (default: like `cat`, stdin to
   * stdout, exit 0 at EOF); the output ends when it returns. Every one is kept in `sessions`.
   */
  sessionHandler: (s: FakeExecSession) => Promise<number> = async (s) => {
    s.stdin.pipe(s.stdout, { end: false });
    await new Promise((resolve) => s.stdin.once('end', resolve));
    return 0;
  };
  readonly sessions: FakeExecSession[] = [];
  private seq = 0;
  private pids = 10_000;
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private listeners = new Set<(e: EngineEvent) => void>();

  constructor(images: string[] = []) {
    for (const i of images) this.images.add(i);
  }

  /** A strictly increasing Docker-style timestamp. */
  tick(): string {
    this.clock += 1;
    return `${new Date(this.clock).toISOString().slice(0, -1)}000001Z`;
  }

  byName(dockerName: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.config.dockerName === dockerName);
  }

  private maybeFail(kind: string): void {
    const message = this.failNext.get(kind);
    if (message !== undefined) {
      this.failNext.delete(kind);
      throw new EngineError(message, 500);
    }
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id) ?? this.byName(id);
    if (!c) throw new EngineError(`No such container: ${id}`, 404);
    return c;
  }

  private emit(action: string, c: FakeContainer, exitCode?: number): void {
    const e: EngineEvent = { action, containerId: c.id, labels: c.config.labels, ...(exitCode !== undefined ? { exitCode } : {}) };
    for (const l of this.listeners) l(e);
  }

  observe(c: FakeContainer): ObservedContainer {
    const m = managedFromLabels(c.id, c.config.labels);
    if (!m) throw new Error('fake engine: unmanaged container');
    const l = c.config.labels;
    const o: ObservedContainer = {
      ...m,
      dockerName: c.config.dockerName,
      name: l[Labels.name] ?? '',
      role: l[Labels.role] === 'infra' ? 'infra' : 'business',
      index: Number(l[Labels.index] ?? 0),
      image: c.config.image,
      state: c.state,
      oomKilled: c.oomKilled,
      restartCount: c.restartCount,
      networkMode: c.config.networkMode,
    };
    if (Object.keys(c.endpoints).length > 0) o.endpoints = { ...c.endpoints };
    if (c.pid !== undefined && c.state === 'running') o.pid = c.pid;
    if (l[Labels.specHash]) o.specHash = l[Labels.specHash];
    if (l[Labels.generation]) o.generation = Number(l[Labels.generation]);
    if (c.exitCode !== undefined) o.exitCode = c.exitCode;
    if (c.startedAt) o.startedAt = c.startedAt;
    if (c.finishedAt) o.finishedAt = c.finishedAt;
    if (c.config.nanoCpus !== undefined) o.nanoCpus = c.config.nanoCpus;
    if (c.config.memory !== undefined) o.memory = c.config.memory;
    return o;
  }

  async listSet(setRef: string): Promise<ObservedContainer[]> {
    this.maybeFail('list');
    return [...this.containers.values()].filter((c) => c.config.labels[Labels.set] === setRef).map((c) => this.observe(c));
  }

  async listManaged(): Promise<ManagedContainer[]> {
    return [...this.containers.values()].map((c) => managedFromLabels(c.id, c.config.labels)).filter((m): m is ManagedContainer => m !== undefined);
  }

  async inspect(id: string): Promise<ObservedContainer | undefined> {
    const c = this.containers.get(id);
    // Like Docker's: a container Wharf does not manage is not one the agent sees.
    return c && managedFromLabels(c.id, c.config.labels) ? this.observe(c) : undefined;
  }

  async create(config: ContainerConfig): Promise<string> {
    this.calls.push(`create ${config.labels[Labels.name]}`);
    this.maybeFail('create');
    if (this.byName(config.dockerName)) throw new EngineError(`Conflict. The container name "/${config.dockerName}" is already in use`, 409);
    if (!this.images.has(config.image)) throw new EngineError(`No such image: ${config.image}`, 404);
    const endpoints: Record<string, string> = {};
    if (config.networkMode && !BUILTIN_NETWORKS.has(config.networkMode) && !config.networkMode.startsWith('container:')) {
      if (!this.networks.has(config.networkMode)) throw new EngineError(`network ${config.networkMode} not found`, 404);
      const ip = config.ips?.find((x) => x.network === config.networkMode)?.ip ?? '';
      this.checkAddress(config.networkMode, ip);
      endpoints[config.networkMode] = ip;
    }
    const id = `c${++this.seq}`.padEnd(12, '0');
    const c: FakeContainer = { id, config, state: 'created', oomKilled: false, restartCount: 0, log: '', endpoints };
    this.containers.set(id, c);
    this.emit('create', c);
    return id;
  }

  async start(id: string): Promise<void> {
    const c = this.get(id);
    this.calls.push(`start ${c.config.labels[Labels.name]}`);
    this.maybeFail('start');
    if (c.state === 'running') return;
    const joined = /^container:(.+)$/.exec(c.config.networkMode)?.[1];
    if (joined && this.containers.get(joined)?.state !== 'running') throw new EngineError(`cannot join network of a non running container: ${joined}`, 409);
    c.startedAt = this.tick();
    c.pid = ++this.pids;
    if (this.crashOnStart.has(c.config.labels[Labels.name] ?? '')) {
      c.state = 'exited';
      c.exitCode = 1;
      c.finishedAt = this.tick();
      this.emit('die', c, 1);
      return;
    }
    c.state = 'running';
    this.emit('start', c);
  }

  async pause(id: string): Promise<void> {
    const c = this.get(id);
    this.calls.push(`pause ${c.config.labels[Labels.name]}`);
    this.maybeFail('pause');
    if (c.state === 'paused') return;
    if (c.state !== 'running') throw new EngineError(`container ${id} is not running`, 409);
    c.state = 'paused';
  }

  async unpause(id: string): Promise<void> {
    const c = this.get(id);
    this.calls.push(`unpause ${c.config.labels[Labels.name]}`);
    this.maybeFail('unpause');
    if (c.state === 'paused') c.state = 'running';
  }

  async stop(id: string): Promise<void> {
    const c = this.get(id);
    this.calls.push(`stop ${c.config.labels[Labels.name]}`);
    this.maybeFail('stop');
    if (c.state !== 'running' && c.state !== 'restarting' && c.state !== 'paused') return;
    c.state = 'exited';
    c.exitCode = 0;
    c.finishedAt = this.tick();
    this.emit('die', c, 0);
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.calls.push(`remove ${c.config.labels[Labels.name]}`);
    this.maybeFail('remove');
    this.containers.delete(id);
    this.emit('destroy', c);
  }

  async update(id: string, limits: LimitsUpdate): Promise<void> {
    const c = this.get(id);
    this.calls.push(`update ${c.config.labels[Labels.name]}`);
    this.maybeFail('update');
    c.config = { ...c.config, nanoCpus: limits.nanoCpus, memory: limits.memory, memorySwap: limits.memorySwap };
    this.emit('update', c);
  }

  async exec(id: string, cmd: string[]): Promise<ExecResult> {
    const c = this.get(id);
    this.execs.push({ name: c.config.labels[Labels.name] ?? '', cmd });
    if (c.state !== 'running') throw new EngineError(`Container ${id} is not running`, 409);
    return this.execHandler(c, cmd);
  }

  async execSession(id: string, opts: ExecSessionOptions): Promise<ExecSession> {
    const c = this.get(id);
    if (c.state !== 'running') throw new EngineError(`Container ${id} is not running`, 409);
    const s: FakeExecSession = { container: c.config.labels[Labels.name] ?? '', opts, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), resizes: [], closed: false };
    this.sessions.push(s);
    const exited = this.sessionHandler(s).finally(() => {
      s.stdout.end();
      s.stderr.end();
    });
    return {
      stdin: s.stdin, stdout: s.stdout, stderr: s.stderr, exited,
      resize: async (cols, rows) => void (opts.tty && s.resizes.push([cols, rows])),
      close: () => {
        s.closed = true;
        s.stdin.end();
      },
    };
  }

  async hasImage(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  imageId(name: string): string {
    return this.imageIds.get(name) ?? `sha256:${createHash('sha256').update(name).digest('hex')}`;
  }

  private image(id: string): LocalImage {
    const tags = [...this.images].filter((n) => this.imageId(n) === id).sort();
    return { id, tags, digests: [], size: Math.max(0, ...tags.map((t) => this.imageSizes.get(t) ?? 1000)) };
  }

  async inspectImage(image: string): Promise<LocalImage | undefined> {
    return this.images.has(image) ? this.image(this.imageId(image)) : undefined;
  }

  /** Reports a quarter of the image's size at a time. */
  async pull(image: string, opts: PullOptions): Promise<void> {
    this.calls.push(`pull ${image}`);
    await this.pullGate?.(image);
    if (opts.signal?.aborted) throw new EngineError('pull cancelled: the agent is stopping');
    if (!this.registry.has(image)) throw new EngineError(`pull access denied for ${image}: no such host`, 404);
    const total = this.imageSizes.get(image) ?? 1000;
    for (const share of [0.1, 0.3, 0.6, 1]) opts.onProgress?.({ layers: 2, layersDone: share === 1 ? 2 : share > 0.5 ? 1 : 0, downloaded: Math.round(total * share), total });
    this.images.add(image);
  }

  async tagImage(source: string, target: string): Promise<void> {
    this.calls.push(`tag ${source} ${target}`);
    if (!this.images.has(source)) throw new EngineError(`No such image: ${source}`, 404);
    this.imageIds.set(target, this.imageId(source));
    this.images.add(target);
  }

  /** Docker's rules: a name goes (the image with its last one, refused while a container uses it); an ID with several names is refused. */
  async removeImage(ref: string): Promise<void> {
    this.calls.push(`rmi ${ref}`);
    this.maybeFail('rmi');
    if (this.dangling.delete(ref)) return;
    const byId = !this.images.has(ref);
    const id = byId ? ref : this.imageId(ref);
    const names = this.image(id).tags;
    if (names.length === 0) return;
    if (byId && names.length > 1) throw new EngineError(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, 409);
    const user = [...this.containers.values()].find((c) => this.imageId(c.config.image) === id);
    if (names.length === 1 && user) throw new EngineError(`conflict: unable to remove repository reference "${names[0]}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`, 409);
    if (byId) for (const n of names) this.images.delete(n);
    else this.images.delete(ref);
  }

  async listImages(): Promise<LocalImage[]> {
    return [...new Set([...[...this.images].map((n) => this.imageId(n)), ...this.dangling])].map((id) => this.image(id));
  }

  async containerImageIds(): Promise<string[]> {
    return [...new Set([...this.containers.values()].map((c) => this.imageId(c.config.image)))];
  }

  async version(): Promise<string> {
    return '20.10.0-fake';
  }

  async imageTags(): Promise<string[]> {
    return [...this.images].sort();
  }

  async watchEvents(onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
    this.listeners.add(onEvent);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.listeners.delete(onEvent);
  }

  async logs(idOrName: string, opts: LogOptions): Promise<Readable | undefined> {
    const c = this.containers.get(idOrName) ?? this.byName(idOrName);
    if (!c || c.config.labels[Labels.managed] !== 'true') return undefined;
    const out = new PassThrough();
    let lines = c.log.split('\n').filter((l) => l !== '');
    if (opts.tail !== undefined) lines = lines.slice(-opts.tail);
    out.write(lines.map((l) => `${l}\n`).join(''));
    if (!opts.follow) out.end();
    return out;
  }

  private checkAddress(network: string, ip: string): void {
    if (ip && [...this.containers.values()].some((x) => x.endpoints[network] === ip)) throw new EngineError(`Address already in use`, 403);
  }

  async inspectNetwork(name: string): Promise<ObservedNetwork | undefined> {
    const n = this.networks.get(name);
    return n ? observeNetwork(n) : undefined;
  }

  async listNetworks(driver: string): Promise<ObservedNetwork[]> {
    return driver === 'macvlan' ? [...this.networks.values()].map(observeNetwork) : [];
  }

  async networkUsers(name: string): Promise<string[]> {
    return [...this.containers.values()].filter((c) => name in c.endpoints).map((c) => c.id);
  }

  async createNetwork(config: NetworkConfig): Promise<void> {
    this.calls.push(`createNetwork ${config.name} ${config.subnet} parent=${config.parent}`);
    this.maybeFail('createNetwork');
    if (this.networks.has(config.name)) throw new EngineError(`network with name ${config.name} already exists`, 409);
    const other = [...this.networks.values()].find((n) => n.parent === config.parent);
    if (other) throw new EngineError(`network dm-${other.id.slice(0, 12)} is already using parent interface ${config.parent}`, 403);
    this.networks.set(config.name, { ...config, id: `n${++this.seq}`.padEnd(12, '0') });
  }

  async removeNetwork(name: string): Promise<void> {
    this.calls.push(`removeNetwork ${name}`);
    this.networks.delete(name);
  }

  async connectNetwork(containerId: string, network: string, ip: string): Promise<void> {
    const c = this.get(containerId);
    this.calls.push(`connect ${c.config.labels[Labels.name]} ${network} ${ip}`);
    this.maybeFail('connect');
    if (!this.networks.has(network)) throw new EngineError(`network ${network} not found`, 404);
    this.checkAddress(network, ip);
    c.endpoints[network] = ip;
  }

  /** Simulates a crash: the process exits with `code`. */
  kill(name: string, code = 137, oom = false): void {
    const c = [...this.containers.values()].find((x) => x.config.labels[Labels.name] === name);
    if (!c) throw new Error(`fake engine: no container ${name}`);
    c.state = 'exited';
    c.exitCode = code;
    c.oomKilled = oom;
    c.finishedAt = this.tick();
    if (oom) this.emit('oom', c);
    this.emit('die', c, code);
  }
}

function observeNetwork(n: NetworkConfig & { id: string }): ObservedNetwork {
  return { id: n.id, name: n.name, driver: 'macvlan', subnets: [{ subnet: n.subnet, gateway: n.gateway }], parent: n.parent, labels: { ...n.labels } };
}
