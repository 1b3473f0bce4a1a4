/**
 * The small slice of the Docker Engine API the agent uses. The reconciler, the HTTP
 * API and the loops see Docker only through this interface, so they can be tested
 * with an in-memory engine; `DockerodeEngine` is the real one.
 */
import type { Readable } from 'node:stream';
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
  nanoCpus?: number;
  memory?: number;
  memorySwap?: number;
  binds: string[];
  restartPolicy: 'unless-stopped';
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
  nanoCpus?: number;
  memory?: number;
}

/** A managed container as the cheap list call shows it (no inspect). */
export interface ManagedContainer {
  id: string;
  setRef: string;
  tenant: string;
  appkey: string;
  setId: string;
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
  /** Force-removes (keeps the bind-mounted volume dir); no error when it is already gone. */
  remove(id: string): Promise<void>;
  hasImage(image: string): Promise<boolean>;
  pull(image: string, timeoutMs: number): Promise<void>;
  version(): Promise<string>;
  /** Repo tags of every local image. */
  imageTags(): Promise<string[]>;
  /** Calls onEvent for events of managed containers; resolves when the stream ends or `signal` aborts. */
  watchEvents(onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void>;
  /** A managed container's log as plain text; undefined when there is no such managed container. */
  logs(idOrName: string, opts: LogOptions): Promise<Readable | undefined>;
}
