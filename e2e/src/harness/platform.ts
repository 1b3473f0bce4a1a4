/**
 * A Wharf platform for end-to-end tests: a real wharf-server process and one real
 * wharf-agent process per DockerHost, each killable and restartable, plus the CLI
 * run as a real process. No mocks anywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import type { SetView } from '@wharf/types';
import { DockerHost, OWNER_FILE, releaseBelow } from './docker-host.js';
import { freePort, GiveUp, run, stopChild, tail, waitFor, type RunResult } from './exec.js';
import { NetnsPortal } from './netns-portal.js';

export interface PlatformOptions {
  /**
   * Run the platform registry (wharf-server --registry local). Every host's dockerd
   * reaches it, and the server's token URL, at `registryAddress` in its own namespace
   * (a NetnsPortal), a non-loopback address, so Docker verifies the registry's TLS
   * certificate (loopback registries are insecure to Docker by default).
   */
  registry?: boolean;
  /**
   * Upstream registry URLs to run pull-through mirrors of (wharf-server --mirror, needs
   * `registry`); each mirror gets a free port and is reached by the hosts like the
   * registry, at `mirrorAddress(i)`.
   */
  mirrors?: string[];
  /** More wharf-agent flags for every host (setAgentArgs replaces them for one). */
  agentArgs?: string[];
  /**
   * The server's nice value (`nice -n`; negative needs root): every thread of it runs at
   * this CPU weight. A benchmark gives the server a machine's share of the CPU with it,
   * as in production, where it does not share its cores with the hosts' engines.
   */
  serverNice?: number;
}

/**
 * Runs the real `wharf` CLI against `server` as `token`, with `config` as its config file
 * (a path that need not exist: the user's own config is never read) and `env` on top.
 */
export function wharfCli(to: { server: string; token: string; config: string; env?: NodeJS.ProcessEnv }, args: string[], input?: string): Promise<RunResult> {
  const env = { ...process.env, ...to.env, WHARF_SERVER: to.server, WHARF_TOKEN: to.token, WHARF_CONFIG: to.config };
  return run(process.execPath, [join(ROOT, 'bin/wharf'), ...args], { env, ...(input !== undefined ? { input } : {}) });
}

/** Docker reads registry CAs from here; agents install the platform registry's CA below it. */
export const DOCKER_CERTS_DIR = '/etc/docker/certs.d';

const ROOT = new URL('../../..', import.meta.url).pathname;

export class Platform {
  readonly dir = mkdtempSync('/tmp/wharf-e2e-');
  private server: ChildProcess | undefined;
  private readonly agents = new Map<string, ChildProcess>();
  /** More wharf-agent flags per host, used from the next startAgent on (see setAgentArgs). */
  private readonly extraAgentArgs = new Map<string, string[]>();
  /** More environment variables per host's agent, used from the next startAgent on (see setAgentEnv). */
  private readonly extraAgentEnv = new Map<string, NodeJS.ProcessEnv>();
  private port = 0;
  /** Set by onOwnHost: stop() stops the hosts too. */
  private ownsHosts = false;
  private registryPort = 0;
  /** Where the server's SSH gateway listens, on 127.0.0.1. */
  sshPort = 0;
  private mirrorPorts: number[] = [];
  private readonly portals: NetnsPortal[] = [];
  client!: WharfClient;

  private constructor(readonly hosts: DockerHost[], readonly options: PlatformOptions) {
    // Lets a later run clean up after this one if it dies (cleanupScratch: agents' volume pools are mounts).
    writeFileSync(join(this.dir, OWNER_FILE), `${process.pid}\n`);
    if (process.env.WHARF_E2E_KEEP) writeFileSync(join(this.dir, 'keep'), '');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get serverDir(): string {
    return join(this.dir, 'server');
  }
  get adminToken(): string {
    return readFileSync(join(this.serverDir, 'admin.token'), 'utf8').trim();
  }

  /** HOST:PORT of the platform registry as the hosts reach it (with `registry: true`). */
  get registryAddress(): string | undefined {
    return this.options.registry ? `10.214.${process.pid % 250}.1:${this.registryPort}` : undefined;
  }

  /** HOST:PORT of the i-th mirror (options.mirrors) as the hosts reach it. */
  mirrorAddress(i = 0): string {
    const port = this.mirrorPorts[i];
    if (port === undefined || !this.registryAddress) throw new Error(`no mirror ${i}`);
    return `${this.registryAddress.split(':')[0]}:${port}`;
  }

  static async start(hosts: DockerHost[], options: PlatformOptions = {}): Promise<Platform> {
    const p = new Platform(hosts, options);
    for (const h of hosts) if (options.agentArgs) p.extraAgentArgs.set(h.name, options.agentArgs);
    try {
      p.port = await freePort();
      p.sshPort = await freePort();
      if (options.registry) p.registryPort = await freePort();
      for (const _ of options.mirrors ?? []) p.mirrorPorts.push(await freePort());
      await p.startServer();
      const address = p.registryAddress?.split(':')[0];
      if (address) {
        const ports = [p.registryPort, p.port, ...p.mirrorPorts];
        for (const h of hosts) p.portals.push(await NetnsPortal.open({ netns: h.netns, address, ports, dir: p.dir }));
      }
      for (const h of hosts) await p.startAgent(h.name);
      await waitFor('hosts ready', async () => {
        const list = await p.client.listHosts();
        return hosts.every((h) => list.some((x) => x.name === h.name && x.state === 'ready'));
      });
    } catch (err) {
      // Leave no server or agent behind; the logs stay when WHARF_E2E_KEEP is set.
      await p.stop().catch(() => undefined);
      throw err;
    }
    return p;
  }

  /**
   * A Platform on a DockerHost of its own (in the root namespace) named `name`, for a
   * one-host test or benchmark: stop() stops the host as well. If the platform fails
   * to start, the host is stopped before the error is thrown.
   */
  static async onOwnHost(name = 'h1', options: PlatformOptions = {}): Promise<Platform> {
    const host = await DockerHost.start(name);
    try {
      const p = await Platform.start([host], options);
      p.ownsHosts = true;
      return p;
    } catch (err) {
      await host.stop();
      throw err;
    }
  }

  /** The server's process ID while it runs. */
  get serverPid(): number | undefined {
    const s = this.server;
    return s && s.exitCode === null && s.signalCode === null ? s.pid : undefined;
  }

  private spawnLogged(name: string, args: string[], env: NodeJS.ProcessEnv = {}, nice = 0): ChildProcess {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    // `nice` execs node: the pid is node's, and every thread it starts inherits the weight.
    const [cmd, argv] = nice ? ['nice', ['-n', String(nice), process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    closeSync(log);
    return child;
  }

  async startServer(): Promise<void> {
    const registry = this.registryAddress
      ? ['--registry', 'local', '--registry-addr', this.registryAddress, '--registry-listen', `127.0.0.1:${this.registryPort}`,
        ...(this.options.mirrors ?? []).flatMap((url, i) => ['--mirror', `${url}=${this.mirrorPorts[i]}`])]
      : ['--registry', 'off'];
    this.server = this.spawnLogged('server', [join(ROOT, 'packages/server/dist/main.js'), '--port', String(this.port), '--data-dir', this.serverDir, '--log-level', 'debug', '--ssh-listen', `127.0.0.1:${this.sshPort}`, ...registry], {}, this.options.serverNice);
    const server = this.server;
    try {
      await waitFor('wharf-server health', async () => {
        if (server.exitCode !== null || server.signalCode !== null) throw new GiveUp(`wharf-server exited (${server.signalCode ?? `code ${server.exitCode}`}) before it answered`);
        return (await fetch(`${this.url}/v1/health`)).ok;
      }, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; server.log ends:\n${tail(join(this.dir, 'server.log'), 20, '  ')}`);
    }
    this.client = new WharfClient({ server: this.url, token: this.adminToken });
  }

  async stopServer(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.server, signal);
  }

  host(name: string): DockerHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Extra wharf-agent flags for a host (e.g. ['--network', 'lan=eth0', '--bandwidth', '100']), from its next (re)start on. */
  setAgentArgs(name: string, args: string[]): void {
    this.host(name);
    this.extraAgentArgs.set(name, args);
  }

  /** More environment variables for a host's agent (e.g. a faked clock), from its next (re)start on; {} for none. */
  setAgentEnv(name: string, env: NodeJS.ProcessEnv): void {
    this.host(name);
    this.extraAgentEnv.set(name, env);
  }

  /** Starts (or starts again) the agent of a host, with the host's zone and rack when it has them. */
  async startAgent(name: string): Promise<void> {
    const h = this.host(name);
    const dataDir = join(this.dir, 'agents', name);
    mkdirSync(dataDir, { recursive: true });
    this.agents.set(name, this.spawnLogged(`agent-${name}`, agentArgs({
      server: this.url,
      joinTokenFile: join(this.serverDir, 'join.token'),
      host: h,
      dataDir,
      heartbeatSeconds: 1,
      cpuOvercommit: 32,
      extraArgs: this.extraAgentArgs.get(name) ?? [],
    }), this.extraAgentEnv.get(name)));
  }

  /**
   * Stops a host's agent and starts it again, with `args` as its extra flags from now
   * on when given (see setAgentArgs); resolves once it has reported to the server again.
   */
  async restartAgent(name: string, args?: string[]): Promise<void> {
    if (args) this.setAgentArgs(name, args);
    await this.stopAgent(name);
    const since = Date.now();
    await this.startAgent(name);
    await waitFor(`the agent of ${name} ready again`, async () => {
      const h = await this.client.getHost(name);
      return h.state === 'ready' && Date.parse(h.lastHeartbeat) > since;
    }, 60_000, 200);
  }

  /** The pid of a host's agent while it runs. */
  agentPid(name: string): number | undefined {
    const a = this.agents.get(name);
    return a && a.exitCode === null && a.signalCode === null ? a.pid : undefined;
  }

  async stopAgent(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.agents.get(name), signal);
  }

  agentDataDir(name: string): string {
    return join(this.dir, 'agents', name);
  }

  /** Runs the real `wharf` CLI against this platform. */
  cli(args: string[], input?: string): Promise<RunResult> {
    return wharfCli({ server: this.url, token: this.adminToken, config: join(this.dir, 'no-config.json') }, args, input);
  }

  async waitForSet(appkey: string, id: string | number, what: string, pred: (s: SetView) => boolean, timeoutMs = 30_000): Promise<SetView> {
    let last: SetView | undefined;
    try {
      return await waitFor(`${appkey}/${id} ${what}`, async () => {
        last = await this.client.getSet(appkey, id);
        return pred(last) ? last : undefined;
      }, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last ? { status: last.status, message: last.message, containers: last.containers.map((c) => [c.name, c.state, c.message]) } : null)}`);
    }
  }

  waitRunning(appkey: string, id: string | number, timeoutMs?: number): Promise<SetView> {
    return this.waitForSet(appkey, id, 'running', (s) => s.status === 'running' && s.observedGeneration >= s.generation, timeoutMs);
  }

  logs(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Stops agents and server, unmounts the agents' volume pools (and XFS volumes) and
   * detaches their loop devices (containers still using a volume keep it until their
   * DockerHost stops), and removes the directory unless WHARF_E2E_KEEP is set. A
   * platform from onOwnHost stops its host last, even when the rest failed.
   */
  async stop(): Promise<void> {
    try {
      for (const name of this.agents.keys()) await this.stopAgent(name);
      await this.stopServer();
      for (const portal of this.portals.splice(0)) await portal.close();
      // What the agents installed for this run's registry address.
      if (this.registryAddress) {
        for (const a of [this.registryAddress, ...this.mirrorPorts.map((_, i) => this.mirrorAddress(i))]) rmSync(join(DOCKER_CERTS_DIR, a), { recursive: true, force: true });
      }
      releaseBelow(this.dir);
      if (!process.env.WHARF_E2E_KEEP) rmSync(this.dir, { recursive: true, force: true });
    } finally {
      if (this.ownsHosts) for (const h of this.hosts) await h.stop();
    }
  }
}

/**
 * The wharf-agent command line (node arguments) for a host of the test harness or of
 * scripts/cluster.sh. A host with an uplink has its dockerd in its own namespace: the
 * agent is told so (--netns), since it programs the uplink side there (host shim).
 * `networks`: NAME=IFACE, one --network each. Each agent's volume pool is a 128Gi
 * sparse loop file in its data dir (a few MiB on disk until volumes are written);
 * whoever stops the agents releases it (releaseBelow).
 */
export function agentArgs(o: {
  server: string;
  joinTokenFile: string;
  host: DockerHost;
  dataDir: string;
  heartbeatSeconds: number;
  cpuOvercommit: number;
  networks?: string[];
  /** The volume pool's size (--pool-size). Default 128Gi (sparse). */
  poolSize?: string;
  extraArgs?: string[];
}): string[] {
  return [
    join(ROOT, 'packages/agent/dist/main.js'),
    '--server', o.server,
    '--join-token-file', o.joinTokenFile,
    '--name', o.host.name,
    ...(o.host.zone !== undefined ? ['--zone', o.host.zone] : []),
    ...(o.host.rack !== undefined ? ['--rack', o.host.rack] : []),
    '--docker-socket', o.host.socket,
    '--data-dir', o.dataDir,
    '--listen', '127.0.0.1:0',
    '--heartbeat-interval', String(o.heartbeatSeconds),
    '--cpu-overcommit', String(o.cpuOvercommit),
    // A sparse volume pool (<data-dir>/pool.img, btrfs on a loop device): only what is written takes
    // disk. Large enough for the seed example, whose volume asks for 100Gi.
    '--pool-size', o.poolSize ?? '128Gi',
    ...(o.host.uplink ? ['--netns', `/run/netns/${o.host.netns}`] : []),
    ...(o.networks ?? []).flatMap((n) => ['--network', n]),
    ...(o.extraArgs ?? []),
  ];
}
