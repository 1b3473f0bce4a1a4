/**
 * The small slice of the Docker Engine API the agent uses. The reconciler, the HTTP
 * API and the loops see Docker only through this interface, so they can be tested
 * with an in-memory engine; `DockerodeEngine` is the real one.
 */
import type { Readable, Writable } from 'node:stream';
import type { ContainerRole, ContainerState } from '@wharf/types';

/** What the agent asks Docker to create, in the agent's own words (also the input of the spec hash). */
export interface ContainerConfig {
  dockerName: string;
  image: string;
  entrypoint?: string[];
  cmd?: string[];
  /** KEY=value, sorted by key. */
  env: string[];
  labels: Record<string, string>;
  /** Exposed ports ("80/tcp") and where each is published on the host (undefined: Docker picks). */
  ports: { port: string; hostPort?: number }[];
  privileged: boolean;
  /** Used instead of `privileged` where the host cannot grant every capability (see privilege.ts). */
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  ipcMode: string;
  networkMode: string;
  /**
   * Platform IPs (infra containers of sets that have them), primary first, each on a
   * Docker network: the first IP on `networkMode` is the create-time endpoint, the
   * first on each other network is connected before start; more on a network are
   * secondary addresses the agent adds in the namespace. Absent for sets without IPs.
   */
  ips?: { network: string; ip: string }[];
  nanoCpus?: number;
  memory?: number;
  memorySwap?: number;
  binds: string[];
  /** Docker's own restart policy: infra containers; business containers are restarted by the agent. */
  restartPolicy: 'unless-stopped' | 'no';
}

/** New CPU and memory limits of an existing container (`docker update`). */
export interface LimitsUpdate {
  nanoCpus: number;
  memory: number;
  memorySwap: number;
}

/** The outcome of a command run in a container. */
export interface ExecResult {
  /** -1 when it did not finish in time. */
  exitCode: number;
  /** stdout and stderr together, at most EXEC_OUTPUT_LIMIT bytes (the end is kept). */
  output: string;
  timedOut?: boolean;
}

export const EXEC_OUTPUT_LIMIT = 4096;

/** An interactive command (`wharf exec`, the SSH gateway): what to run and how. */
export interface ExecSessionOptions {
  cmd: string[];
  tty: boolean;
  /** The TTY's size to start with. */
  cols?: number;
  rows?: number;
  /** KEY=value, added to the container's environment. */
  env?: string[];
}

/** A command running in a container with its stdin, stdout and stderr attached. */
export interface ExecSession {
  /** The command's stdin; `end()` closes it (EOF). */
  readonly stdin: Writable;
  /** What it writes; with a TTY everything comes on stdout. Both end when the command's output ends. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** New TTY window size (no TTY: nothing happens). */
  resize(cols: number, rows: number): Promise<void>;
  /** The exit code once the output has ended (-1 when Docker does not tell one). */
  readonly exited: Promise<number>;
  /** Detaches; a command still running is killed. */
  close(): void;
}

/** One container of a set as Docker reports it (labels decoded). */
export interface ObservedContainer {
  id: string;
  dockerName: string;
  /** Labels: the set this container belongs to. */
  setRef: string;
  tenant: string;
  appkey: string;
  setId: string;
  name: string;
  role: ContainerRole;
  index: number;
  image: string;
  specHash?: string;
  generation?: number;
  state: Exclude<ContainerState, 'missing'>;
  exitCode?: number;
  oomKilled: boolean;
  restartCount: number;
  startedAt?: string;
  finishedAt?: string;
  /** Docker's State.Error (why the last start failed). */
  error?: string;
  networkMode?: string;
  /** Docker networks the container is attached to → the IPv4 address it was given there ('' when Docker picks). */
  endpoints?: Record<string, string>;
  /** The container's main process on this machine, while it runs (its network namespace is /proc/<pid>/ns/net). */
  pid?: number;
  nanoCpus?: number;
  memory?: number;
}

/** A Docker network Wharf creates for a platform network: macvlan on `parent`, one IPv4 subnet. */
export interface NetworkConfig {
  name: string;
  subnet: string;
  gateway: string;
  parent: string;
  labels: Record<string, string>;
}

/** A Docker network as Docker reports it. */
export interface ObservedNetwork {
  id: string;
  name: string;
  driver: string;
  subnets: { subnet: string; gateway?: string }[];
  /** The macvlan/ipvlan parent interface. */
  parent?: string;
  labels: Record<string, string>;
}

/** A managed container as the cheap list call shows it (no inspect). */
export interface ManagedContainer {
  id: string;
  setRef: string;
  tenant: string;
  appkey: string;
  setId: string;
}

/** Where a pull stands, summed over the layers it downloads (compressed bytes). */
export interface PullProgress {
  /** Layers to download (not counting those the host has already). */
  layers: number;
  /** Layers downloaded. */
  layersDone: number;
  /** Bytes downloaded so far. */
  downloaded: number;
  /** Bytes to download, once Docker has told every layer's size. */
  total?: number;
}

export interface PullOptions {
  /** Give up when Docker reports no progress for this long (a registry that stopped answering). */
  stallTimeoutMs: number;
  /** Called on every progress message. */
  onProgress?: (p: PullProgress) => void;
  /** Stops the pull (the agent is stopping). */
  signal?: AbortSignal;
}

/** An image on the host. */
export interface LocalImage {
  id: string;
  /** `repo:tag` names, none for a dangling image. */
  tags: string[];
  /** `repo@sha256:…` references it was pulled by. */
  digests: string[];
  /** Bytes, as Docker counts them (layers shared with other images included). */
  size: number;
}

export interface EngineEvent {
  action: string;
  containerId: string;
  labels: Record<string, string>;
  exitCode?: number;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  timestamps: boolean;
}

/** A failed Engine call; `statusCode` is Docker's HTTP status when it answered, `code` the errno when it did not. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface Engine {
  /** Every container carrying `wharf.set=<setRef>`, inspected. */
  listSet(setRef: string): Promise<ObservedContainer[]>;
  /** Every container carrying `wharf.managed=true` (list only, no inspect). */
  listManaged(): Promise<ManagedContainer[]>;
  /** undefined when the container does not exist (any more). */
  inspect(id: string): Promise<ObservedContainer | undefined>;
  /** Returns the new container's ID. */
  create(config: ContainerConfig): Promise<string>;
  /** No error when it is already running. */
  start(id: string): Promise<void>;
  /** No error when it is already stopped. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Freezes every process of a running container (cgroup freezer); no error when it is already paused. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container; no error when it is not paused. */
  unpause(id: string): Promise<void>;
  /** Force-removes (keeps the bind-mounted volume dir); no error when it is already gone. */
  remove(id: string): Promise<void>;
  /** Changes CPU and memory limits in place, running or not (Docker refuses memory below what the container uses). */
  update(id: string, limits: LimitsUpdate): Promise<void>;
  /**
   * Runs `cmd` in a running container and waits at most `timeoutMs` for it (a command
   * still running then is left behind: Docker cannot kill an exec).
   */
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** Starts an interactive command in a running container, its stdio attached. */
  execSession(id: string, opts: ExecSessionOptions): Promise<ExecSession>;
  hasImage(image: string): Promise<boolean>;
  /** undefined when there is no such image. */
  inspectImage(image: string): Promise<LocalImage | undefined>;
  /** Pulls `image` (its tag, `latest` when none); rejects with Docker's reason. */
  pull(image: string, opts: PullOptions): Promise<void>;
  /** Gives the image `source` names the name `target` too (`repo:tag`, `latest` when none). */
  tagImage(source: string, target: string): Promise<void>;
  /**
   * Removes a name (the image with it when it was its last), or an untagged image by
   * ID. Never forced: Docker refuses (409) while a container uses the image. No error
   * when it is gone already.
   */
  removeImage(ref: string): Promise<void>;
  /** Every image on the host. */
  listImages(): Promise<LocalImage[]>;
  /** The image IDs of every container on the host, managed or not, running or not. */
  containerImageIds(): Promise<string[]>;
  version(): Promise<string>;
  /** Repo tags of every local image. */
  imageTags(): Promise<string[]>;
  /** Calls onEvent for events of managed containers; resolves when the stream ends or `signal` aborts. */
  watchEvents(onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void>;
  /** A managed container's log as plain text; undefined when there is no such managed container. */
  logs(idOrName: string, opts: LogOptions): Promise<Readable | undefined>;
  /** undefined when there is no network of that name. */
  inspectNetwork(name: string): Promise<ObservedNetwork | undefined>;
  /** Every network of a driver (e.g. macvlan). */
  listNetworks(driver: string): Promise<ObservedNetwork[]>;
  /** IDs of the containers attached to a network, running or not (Docker only protects running ones from `network rm`). */
  networkUsers(name: string): Promise<string[]>;
  createNetwork(config: NetworkConfig): Promise<void>;
  /** No error when it is already gone. */
  removeNetwork(name: string): Promise<void>;
  /** Attaches a (created, not yet started) container to one more network with a fixed IPv4 address. */
  connectNetwork(containerId: string, network: string, ip: string): Promise<void>;
}
