/** The Engine over dockerode and Docker's unix socket. */
import { PassThrough, type Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { sleep } from '../backoff.js';
import { Labels } from '@wharf/types';
import { ContainerCache } from './container-cache.js';
import {
  EngineError, EXEC_OUTPUT_LIMIT, type ContainerConfig, type Engine, type EngineEvent, type ExecResult, type ExecSession, type ExecSessionOptions, type LimitsUpdate, type LocalImage, type LogOptions, type ManagedContainer,
  type NetworkConfig, type ObservedContainer, type ObservedNetwork, type PullOptions,
} from './engine.js';
import { managedFromLabels, toCreateOptions, toEngineEvent, toNetworkCreateOptions, toObserved, toObservedNetwork } from './inspect.js';
import { startExecSession } from './exec-session.js';
import { PullTracker, type PullMessage } from './pull-progress.js';
import { splitTag } from './reference.js';
import type { RegistryAuth } from './registry-access.js';

interface DockerodeError extends Error {
  statusCode?: number;
  json?: unknown;
  code?: unknown;
}

/** Docker's own words ("No such image: x") rather than dockerode's "(HTTP code 404) …" wrapper. */
function toEngineError(err: unknown): EngineError {
  const e = err as DockerodeError;
  const json = e?.json as { message?: unknown } | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return new EngineError(json.message, e.statusCode);
  const text = e instanceof Error ? e.message : String(err);
  // Streamed calls (pull, logs, events) only have the wrapped text.
  const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]*?)\s*$/.exec(text);
  return new EngineError(wrapped?.[1] ?? text, e?.statusCode, typeof e?.code === 'string' ? e.code : undefined);
}

async function call<T>(fn: () => Promise<T>, ignore: number[] = []): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const e = err as DockerodeError;
    if (e?.statusCode !== undefined && ignore.includes(e.statusCode)) return undefined;
    throw toEngineError(err);
  }
}

/** A catch handler that swallows the 409 Docker answers when the container is already where it is asked to go. */
function unless(already: RegExp): (err: unknown) => undefined {
  return (err) => {
    if (err instanceof EngineError && err.statusCode === 409 && already.test(err.message)) return undefined;
    throw err;
  };
}

/**
 * Container events that can change a set's state (update: limits changed by hand are put
 * back) or what an inspection says (rename).
 */
/** Keys of hostFacts. */
const VERSION = 'version';
const IMAGES = 'images';
const WATCHED_EVENTS = ['create', 'start', 'restart', 'die', 'oom', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'update', 'rename'];

export class DockerodeEngine implements Engine {
  readonly docker: Dockerode;
  /** Managed containers' list and inspections while watchEvents runs (see container-cache.ts). */
  private readonly cache = new ContainerCache<ObservedContainer, ManagedContainer[]>();
  /**
   * dockerd's version and image tags, sent with every heartbeat: kept the same way, for a
   * minute at most (images changed by hand send no event the agent watches); the agent's
   * own pulls, tags and removals drop the tags at once.
   */
  private readonly hostFacts = new ContainerCache<string, string[]>(60_000);

  /** `registryAuth`: the credentials for pulling an image, if it needs any (registry-access.ts). */
  constructor(
    socketPath: string,
    private readonly registryAuth: (image: string) => Promise<RegistryAuth | undefined> = async () => undefined,
  ) {
    this.docker = new Dockerode({ socketPath });
  }

  /** One list of all managed containers serves every set's lookup until a container changes. */
  async listSet(setRef: string): Promise<ObservedContainer[]> {
    const list = (await this.listManaged()).filter((c) => c.setRef === setRef);
    const found = await Promise.all(list.map((c) => this.inspect(c.id)));
    return found.filter((o): o is ObservedContainer => o !== undefined && o.setRef === setRef);
  }

  listManaged(): Promise<ManagedContainer[]> {
    return this.cache.list(async () => {
      const list = (await call(() => this.docker.listContainers({ all: true, filters: { label: [`${Labels.managed}=true`] } }))) ?? [];
      return list.map((c) => managedFromLabels(c.Id, c.Labels)).filter((m): m is ManagedContainer => m !== undefined);
    });
  }

  /** What callers get may be shared with the next caller: read it, do not change it. */
  inspect(id: string): Promise<ObservedContainer | undefined> {
    return this.cache.inspect(id, async () => {
      const info = await call(() => this.docker.getContainer(id).inspect(), [404]);
      return info ? toObserved(info) : undefined;
    });
  }

  /** Runs one of the agent's own changes to a container; the cache forgets it afterwards, whatever the outcome. */
  private async changing<T>(id: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      this.cache.invalidate(id);
    }
  }

  async create(config: ContainerConfig): Promise<string> {
    const c = await call(() => this.docker.createContainer(toCreateOptions(config)));
    if (!c) throw new EngineError(`create ${config.dockerName}: no answer`);
    this.cache.invalidate(c.id);
    return c.id;
  }

  async start(id: string): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).start(), [304]));
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).stop({ t: timeoutSeconds }), [304]));
  }

  async pause(id: string): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).pause()).catch(unless(/already paused/i)));
  }

  async unpause(id: string): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).unpause()).catch(unless(/is not paused/i)));
  }

  async remove(id: string): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).remove({ force: true, v: false }), [404]));
  }

  async update(id: string, limits: LimitsUpdate): Promise<void> {
    await this.changing(id, () => call(() => this.docker.getContainer(id).update({ NanoCpus: limits.nanoCpus, Memory: limits.memory, MemorySwap: limits.memorySwap })));
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    const abort = new AbortController();
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const run = async (): Promise<ExecResult> => {
      const container = this.docker.getContainer(id);
      const exec = await call(() => container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false }));
      if (!exec) throw new EngineError(`exec in ${id}: no answer`);
      const stream = (await call(() => exec.start({ abortSignal: abort.signal }))) as Readable | undefined;
      if (!stream) throw new EngineError(`exec in ${id}: no stream`);
      abort.signal.addEventListener('abort', () => stream.destroy(), { once: true });
      const collect = new PassThrough();
      collect.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-EXEC_OUTPUT_LIMIT);
      });
      this.docker.modem.demuxStream(stream, collect, collect);
      await new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
      // The exit code can lag the end of the output by a moment.
      for (let i = 0; ; i++) {
        const info = await call(() => exec.inspect());
        if (typeof info?.ExitCode === 'number' && !info.Running) return { exitCode: info.ExitCode, output };
        if (i === 20 || abort.signal.aborted) return { exitCode: -1, output };
        await sleep(10);
      }
    };
    const running = run();
    // After a timeout its failure (the aborted stream) has nobody to tell.
    running.catch(() => undefined);
    try {
      const result = await Promise.race([running, timedOut]);
      if (result !== 'timeout') return result;
      abort.abort();
      return { exitCode: -1, output, timedOut: true };
    } finally {
      clearTimeout(timer);
    }
  }

  execSession(id: string, opts: ExecSessionOptions): Promise<ExecSession> {
    return startExecSession(this.docker, id, opts, call);
  }

  async hasImage(image: string): Promise<boolean> {
    return (await call(() => this.docker.getImage(image).inspect(), [404])) !== undefined;
  }

  async inspectImage(image: string): Promise<LocalImage | undefined> {
    const info = await call(() => this.docker.getImage(image).inspect(), [404]);
    return info ? { id: info.Id, tags: realTags(info.RepoTags), digests: realDigests(info.RepoDigests), size: info.Size } : undefined;
  }

  /** A pull that reports no progress for `stallTimeoutMs` is cancelled (a registry that stopped answering). */
  async pull(image: string, opts: PullOptions): Promise<void> {
    const abort = new AbortController();
    let why = 'pull cancelled';
    let timer: NodeJS.Timeout | undefined;
    const cancel = (reason: string): void => {
      if (abort.signal.aborted) return;
      why = reason;
      abort.abort();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => cancel(`pull stalled: no progress for ${Math.round(opts.stallTimeoutMs / 1000)} s`), opts.stallTimeoutMs);
    };
    const onStop = (): void => cancel('pull cancelled: the agent is stopping');
    opts.signal?.addEventListener('abort', onStop, { once: true });
    if (opts.signal?.aborted) onStop();
    arm();
    const tracker = new PullTracker();
    try {
      const authconfig = await this.registryAuth(image);
      const stream = await call(() => this.docker.pull(image, { abortSignal: abort.signal, ...(authconfig ? { authconfig } : {}) }) as Promise<NodeJS.ReadableStream>);
      if (!stream) throw new EngineError(`pull ${image}: no answer`);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          (stream as Readable).destroy?.();
          reject(new EngineError(why));
        };
        abort.signal.addEventListener('abort', onAbort, { once: true });
        const onProgress = (m: PullMessage): void => {
          arm();
          if (tracker.feed(m)) opts.onProgress?.(tracker.progress());
        };
        this.docker.modem.followProgress(stream, (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
          abort.signal.removeEventListener('abort', onAbort);
          const failed = output?.find((o) => o.error);
          if (err) reject(toEngineError(err));
          else if (failed) reject(new EngineError(failed.errorDetail?.message ?? failed.error ?? 'pull failed'));
          else resolve();
        }, onProgress);
      });
    } catch (err) {
      if (abort.signal.aborted) throw new EngineError(why);
      throw err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onStop);
      this.hostFacts.invalidate(IMAGES);
    }
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.changingImages(() => call(() => this.docker.getImage(source).tag(splitTag(target))));
  }

  async removeImage(ref: string): Promise<void> {
    await this.changingImages(() => call(() => this.docker.getImage(ref).remove({ noprune: false }), [404]));
  }

  private async changingImages<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      this.hostFacts.invalidate(IMAGES);
    }
  }

  async listImages(): Promise<LocalImage[]> {
    const images = (await call(() => this.docker.listImages())) ?? [];
    return images.map((i) => ({ id: i.Id, tags: realTags(i.RepoTags), digests: realDigests(i.RepoDigests), size: i.Size }));
  }

  async containerImageIds(): Promise<string[]> {
    const list = (await call(() => this.docker.listContainers({ all: true }))) ?? [];
    return [...new Set(list.map((c) => c.ImageID))];
  }

  async version(): Promise<string> {
    const v = await this.hostFacts.inspect(VERSION, async () => (await call(() => this.docker.version()))?.Version);
    return v ?? 'unknown';
  }

  async imageTags(): Promise<string[]> {
    return this.hostFacts.list(async () => [...new Set((await this.listImages()).flatMap((i) => i.tags))].sort());
  }

  async watchEvents(onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
    const stream = (await call(() =>
      this.docker.getEvents({ filters: { type: ['container'], label: [`${Labels.managed}=true`], event: WATCHED_EVENTS }, abortSignal: signal } as Dockerode.GetEventsOptions),
    )) as Readable | undefined;
    if (!stream) return;
    // Subscribed: from here on an event tells of every change, so answers may be kept.
    this.cache.setLive(true);
    this.hostFacts.setLive(true);
    await new Promise<void>((resolve) => {
      let buffered = '';
      const finish = (): void => {
        this.cache.setLive(false);
        this.hostFacts.setLive(false);
        signal.removeEventListener('abort', finish);
        stream.destroy();
        resolve();
      };
      signal.addEventListener('abort', finish, { once: true });
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          try {
            const e = toEngineEvent(JSON.parse(line) as object);
            if (e) {
              this.cache.invalidate(e.containerId);
              onEvent(e);
            }
          } catch {
            // a torn or foreign line: skip it
          }
        }
      });
      stream.once('end', finish);
      stream.once('close', finish);
      stream.once('error', finish);
    });
  }

  async logs(idOrName: string, opts: LogOptions): Promise<Readable | undefined> {
    const container = this.docker.getContainer(idOrName);
    const info = await call(() => container.inspect(), [404]);
    if (!info || info.Config?.Labels?.[Labels.managed] !== 'true') return undefined;
    const base = { stdout: true, stderr: true, timestamps: opts.timestamps, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) };
    const out = new PassThrough();
    let source: Readable;
    if (opts.follow) {
      source = (await call(() => container.logs({ ...base, follow: true }))) as Readable;
    } else {
      const buf = (await call(() => container.logs({ ...base, follow: false }))) ?? Buffer.alloc(0);
      source = new PassThrough();
      (source as PassThrough).end(buf);
    }
    if (info.Config.Tty) {
      source.pipe(out);
    } else {
      this.docker.modem.demuxStream(source, out, out);
      source.once('end', () => out.end());
    }
    source.once('error', (err) => out.destroy(err));
    source.once('close', () => out.end());
    // The caller destroys `out` when its client goes away; stop reading from Docker then.
    out.once('close', () => source.destroy());
    return out;
  }

  async inspectNetwork(name: string): Promise<ObservedNetwork | undefined> {
    const info = (await call(() => this.docker.getNetwork(name).inspect() as Promise<object>, [404])) as Parameters<typeof toObservedNetwork>[0] | undefined;
    // Docker resolves IDs and ID prefixes too: only an exact name counts.
    return info && info.Name === name ? toObservedNetwork(info) : undefined;
  }

  async listNetworks(driver: string): Promise<ObservedNetwork[]> {
    const list = (await call(() => this.docker.listNetworks({ filters: { driver: [driver] } }))) ?? [];
    return list.map((n) => toObservedNetwork(n as Parameters<typeof toObservedNetwork>[0]));
  }

  async networkUsers(name: string): Promise<string[]> {
    const list = (await call(() => this.docker.listContainers({ all: true, filters: { network: [name] } }))) ?? [];
    return list.map((c) => c.Id);
  }

  async createNetwork(config: NetworkConfig): Promise<void> {
    await call(() => this.docker.createNetwork(toNetworkCreateOptions(config)));
  }

  async removeNetwork(name: string): Promise<void> {
    await call(() => this.docker.getNetwork(name).remove(), [404]);
  }

  async connectNetwork(containerId: string, network: string, ip: string): Promise<void> {
    await this.changing(containerId, () => call(() => this.docker.getNetwork(network).connect({ Container: containerId, EndpointConfig: { IPAMConfig: { IPv4Address: ip } } })));
  }
}

/** Docker lists a dangling image's tags as `<none>:<none>` (or not at all). */
function realTags(tags: string[] | null | undefined): string[] {
  return (tags ?? []).filter((t) => t !== '<none>:<none>');
}

function realDigests(digests: string[] | null | undefined): string[] {
  return (digests ?? []).filter((d) => !d.startsWith('<none>@'));
}
