/**
 * A Docker host for end-to-end tests: its own network namespace and its own
 * dockerd (own data-root, exec-root, socket, containerd namespace), started with
 * `nsenter --net=…` (not `ip netns exec`, which remounts /sys and breaks dockerd's
 * cgroup detection). Everything is removed by stop(), and by cleanupStale() if a
 * previous run died before it could.
 *
 * A host may carry a zone and a rack (passed on to its agent by Platform) and an
 * uplink: a veth cable from `eth0` in its namespace to a switch (see network.ts and
 * cluster.ts). `DockerHost.start(name)` alone gives the single-host setup of before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must, quiet, run, signalPid, tail } from './exec.js';
import { deleteNetns, plugIn, type Uplink } from './network.js';

const ROOT = new URL('../../..', import.meta.url).pathname;

/** Where a family of hosts keeps its things: netns `<prefix>-<id>`, `<runBase>/<id>`, `<dataBase>/<id>`. */
export interface HostLayout {
  prefix: string;
  runBase: string;
  dataBase: string;
}

/** The e2e tests' layout. Ids end in the test process's pid, which is how cleanupStale() tells a dead run's hosts. */
export const E2E_LAYOUT: HostLayout = { prefix: 'wharf-e2e', runBase: '/run/wharf-e2e', dataBase: '/var/lib/wharf-e2e' };

export interface DockerHostOptions {
  /** Passed to the host's agent as --zone / --rack; the agent's defaults when absent. */
  zone?: string;
  rack?: string;
  /** Cable eth0 to a switch before dockerd starts (so dockerd sees the uplink, e.g. for macvlan). */
  uplink?: Uplink;
  /** Default E2E_LAYOUT. */
  layout?: HostLayout;
  /** Default `<name>-<pid>` (required by cleanupStale() in E2E_LAYOUT). */
  id?: string;
  /** Let dockerd outlive this process (scripts/cluster.sh). */
  detached?: boolean;
}

export class DockerHost {
  private dockerd: ChildProcess | undefined;
  readonly zone: string | undefined;
  readonly rack: string | undefined;
  readonly uplink: Uplink | undefined;
  readonly layout: HostLayout;
  private readonly detached: boolean;

  private constructor(
    readonly name: string,
    readonly id: string,
    opts: DockerHostOptions,
  ) {
    this.zone = opts.zone;
    this.rack = opts.rack;
    this.uplink = opts.uplink;
    this.layout = opts.layout ?? E2E_LAYOUT;
    this.detached = opts.detached ?? false;
  }

  get netns(): string {
    return `${this.layout.prefix}-${this.id}`;
  }
  get execRoot(): string {
    return join(this.layout.runBase, this.id);
  }
  get dataRoot(): string {
    return join(this.layout.dataBase, this.id);
  }
  get socket(): string {
    return join(this.execRoot, 'docker.sock');
  }
  get pidFile(): string {
    return join(this.execRoot, 'dockerd.pid');
  }
  get logFile(): string {
    return join(this.layout.dataBase, `${this.id}.log`);
  }
  /** The address of eth0 (no prefix length), when the host has an uplink. */
  get address(): string | undefined {
    return this.uplink?.cidr.split('/')[0];
  }

  static async start(name: string, opts: DockerHostOptions = {}): Promise<DockerHost> {
    const host = new DockerHost(name, opts.id ?? `${name}-${process.pid}`, opts);
    if (host.layout === E2E_LAYOUT) cleanupStale();
    try {
      await must('ip', ['netns', 'add', host.netns]);
      await must('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
      if (host.uplink) await plugIn(host.netns, host.uplink);
      mkdirSync(host.execRoot, { recursive: true });
      mkdirSync(host.dataRoot, { recursive: true });
      await host.startDockerd();
      await must('bash', [join(ROOT, 'scripts/build-busybox-image.sh')], { env: { ...process.env, DOCKER_HOST: `unix://${host.socket}` } });
    } catch (err) {
      await host.stopDockerd('SIGKILL').catch(() => undefined);
      teardown(host.layout, host.id);
      throw err;
    }
    return host;
  }

  /** A handle on a host started earlier, maybe by another process (scripts/cluster.sh down); starts nothing. */
  static attach(name: string, opts: DockerHostOptions & { id: string }): DockerHost {
    return new DockerHost(name, opts.id, opts);
  }

  /** The dockerd command line, the same on every (re)start. */
  get dockerdArgs(): string[] {
    return [
      `--net=/run/netns/${this.netns}`,
      'dockerd',
      '--live-restore',
      '--data-root', this.dataRoot,
      '--exec-root', join(this.execRoot, 'exec'),
      '--pidfile', this.pidFile,
      '-H', `unix://${this.socket}`,
      '--containerd-namespace', this.netns,
      '--containerd-plugins-namespace', `${this.netns}-plugins`,
    ];
  }

  async startDockerd(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    const d = spawn('nsenter', this.dockerdArgs, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    if (this.detached) d.unref();
    this.dockerd = d;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if ((await this.docker(['version', '--format', '{{.Server.Version}}'])).code === 0) return;
      if (d.exitCode !== null || d.signalCode !== null) {
        throw new Error(`dockerd of ${this.name} exited (${d.signalCode ?? d.exitCode}); last lines of ${this.logFile}:\n${tail(this.logFile)}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out after 30000 ms waiting for dockerd of ${this.name}; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The pid of this host's running dockerd (ours or, after attach(), the one in its pidfile), if any. */
  dockerdPid(): number | undefined {
    const d = this.dockerd;
    if (d?.pid !== undefined && d.exitCode === null && d.signalCode === null) return d.pid;
    const pid = Number(readOr(this.pidFile).trim());
    // Only if that pid is still this host's dockerd (pids get reused).
    return pid > 0 && cmdline(pid).includes(`unix://${this.socket}`) ? pid : undefined;
  }

  /** SIGTERM (or the given signal) to dockerd and wait until it has exited (SIGKILL after 30 s). */
  async stopDockerd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const containerd = this.containerdPid();
    const d = this.dockerd;
    if (d && d.exitCode === null && d.signalCode === null) {
      const exited = new Promise((r) => d.once('exit', r));
      d.kill(signal);
      const timer = setTimeout(() => d.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    } else {
      const pid = this.dockerdPid();
      if (pid === undefined) return;
      signalPid(pid, signal);
      const deadline = Date.now() + 30_000;
      while (cmdline(pid).length) {
        if (Date.now() > deadline) signalPid(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // A killed dockerd takes its containerd along (parent-death signal), but the orphan
    // stays a zombie until init reaps it — here up to a second later. A dockerd started
    // meanwhile takes the zombie for a running containerd and fails after 15 s
    // ("timeout waiting for containerd to start"), so wait until it is really gone.
    if (containerd !== undefined) {
      const deadline = Date.now() + 15_000;
      while (existsSync(`/proc/${containerd}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The pid of the containerd this host's dockerd started, while it runs. */
  private containerdPid(): number | undefined {
    const pid = Number(readOr(join(this.execRoot, 'exec', 'containerd', 'containerd.pid')).trim());
    return pid > 0 && cmdline(pid).includes(join(this.execRoot, 'exec', 'containerd')) ? pid : undefined;
  }

  async restartDockerd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stopDockerd(signal);
    await this.startDockerd();
  }

  docker(args: string[]) {
    return run('docker', ['-H', `unix://${this.socket}`, ...args]);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async inspect(id: string): Promise<any> {
    const r = await this.docker(['inspect', id]);
    if (r.code !== 0) throw new Error(`docker inspect ${id}: ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout) as unknown[])[0];
  }

  async containerIds(filter = 'label=wharf.managed=true'): Promise<string[]> {
    const r = await this.docker(['ps', '-aq', '--no-trunc', '--filter', filter]);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  /**
   * Removes every container, stops dockerd, deletes the namespace (and with it eth0
   * and its switch port) and the directories. If dockerd is down but left containers
   * (a killed host), it is started once more to remove them: their processes run
   * outside the namespace and would outlive the teardown. Resolves with the number
   * of containers removed.
   */
  async stop(): Promise<number> {
    if (this.dockerdPid() === undefined && hasContainers(this.dataRoot) && existsSync(`/run/netns/${this.netns}`)) {
      await this.startDockerd().catch((err: unknown) => process.stderr.write(`e2e: could not restart dockerd of ${this.name} to remove its containers: ${String(err)}\n`));
    }
    const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    // In batches, each with its own time: one `docker rm -f` of a few hundred containers
    // (a load run) takes longer than a command is given.
    for (let i = 0; i < ids.length; i += REMOVE_BATCH) {
      const r = await run('docker', ['-H', `unix://${this.socket}`, 'rm', '-f', ...ids.slice(i, i + REMOVE_BATCH)], { timeoutMs: 300_000 });
      if (r.code !== 0) process.stderr.write(`e2e: removing containers of ${this.name}: ${r.stderr.trim().slice(0, 500)}\n`);
    }
    await this.stopDockerd();
    teardown(this.layout, this.id);
    return ids.length;
  }
}

/** Containers per `docker rm -f` when a host is torn down. */
const REMOVE_BATCH = 50;

function readOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function hasContainers(dataRoot: string): boolean {
  try {
    return readdirSync(join(dataRoot, 'containers')).length > 0;
  } catch {
    return false;
  }
}

/** A process's command line joined by spaces; '' when it does not exist. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}



/** Removes what a host left behind: processes in its netns, mounts, directories, the netns (and so its eth0). */
export function teardown(layout: HostLayout, id: string): void {
  const ns = `${layout.prefix}-${id}`;
  for (const pid of quiet('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) quiet('kill', ['-9', pid]);
  for (const base of [join(layout.runBase, id), join(layout.dataBase, id)]) {
    // dockerd bind-mounts its data-root onto itself, and overlays live below it.
    releaseBelow(base);
    try {
      rmSync(base, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`e2e: could not remove ${base}: ${(err as Error).message}\n`);
    }
  }
  rmSync(join(layout.dataBase, `${id}.log`), { force: true });
  deleteNetns(ns);
}

/** Lazily unmounts `dir` and everything mounted below it, deepest first. */
export function unmountBelow(dir: string): void {
  const mounts = quiet('findmnt', ['-rn', '-o', 'TARGET']).split('\n').filter((m) => m === dir || m.startsWith(`${dir}/`)).sort().reverse();
  for (const m of mounts) quiet('umount', ['-l', m]);
}

/**
 * Detaches the loop devices whose backing file is below `dir` (agents' volume pools
 * and XFS volume images). One still in use by a container is detached by the kernel
 * once the container is gone (autoclear).
 */
export function detachLoopsBelow(dir: string): void {
  for (const line of quiet('losetup', ['-nO', 'NAME,BACK-FILE', '--raw']).split('\n')) {
    const space = line.indexOf(' ');
    const dev = line.slice(0, space);
    const file = line.slice(space + 1);
    if (space > 0 && (file === dir || file.startsWith(`${dir}/`))) quiet('losetup', ['-d', dev]);
  }
}

/** Everything mounted below `dir`, and the loop devices of files below it, let go. */
export function releaseBelow(dir: string): void {
  unmountBelow(dir);
  detachLoopsBelow(dir);
}

/** Marks a scratch directory (`/tmp/wharf-*`) as owned by this process, for cleanupScratch(). */
export const OWNER_FILE = 'owner.pid';

/**
 * Scratch directories `/tmp/wharf-*` whose owner (OWNER_FILE) is dead, left by a run
 * that crashed: processes still using them (agents) are killed, their mounts (volume
 * pools) undone, their loop devices detached, and the directory removed unless it
 * holds a `keep` file (WHARF_E2E_KEEP).
 */
export function cleanupScratch(base = '/tmp'): void {
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => n.startsWith('wharf-'));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(base, n);
    const owner = Number(readOr(join(dir, OWNER_FILE)).trim());
    if (!(owner > 0) || pidAlive(owner)) continue;
    for (const p of readdirSync('/proc')) {
      if (/^\d+$/.test(p) && Number(p) !== process.pid && cmdline(Number(p)).includes(`${dir}/`)) signalPid(Number(p), 'SIGKILL');
    }
    releaseBelow(dir);
    if (!existsSync(join(dir, 'keep'))) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        process.stderr.write(`e2e: could not remove ${dir}: ${(err as Error).message}\n`);
      }
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tears down hosts of earlier runs whose test process no longer exists. Also covers
 * the switch namespaces of Cluster (`wharf-e2e-tor-<pid>`): they hold no process or
 * directory, so teardown() just deletes them, which removes their bridge and veths.
 * And the scratch directories of dead runs (their agents' volume pools): cleanupScratch().
 */
export function cleanupStale(): void {
  cleanupScratch();
  const layout = E2E_LAYOUT;
  const ids = new Set<string>();
  for (const base of [layout.runBase, layout.dataBase]) {
    if (existsSync(base)) for (const n of readdirSync(base)) if (!n.endsWith('.log')) ids.add(n);
  }
  for (const ns of quiet('ip', ['netns', 'list']).split('\n')) {
    const m = /^wharf-e2e-(\S+)/.exec(ns);
    if (m?.[1]) ids.add(m[1]);
  }
  for (const id of ids) {
    if (!pidAlive(Number(id.split('-').pop()))) {
      const sock = join(layout.runBase, id, 'docker.sock');
      if (existsSync(sock)) {
        const ids = quiet('docker', ['-H', `unix://${sock}`, 'ps', '-aq']).split('\n').filter(Boolean);
        if (ids.length) quiet('docker', ['-H', `unix://${sock}`, 'rm', '-f', ...ids]);
        const dpid = Number(quiet('cat', [join(layout.runBase, id, 'dockerd.pid')]).trim());
        if (dpid > 0 && cmdline(dpid).includes(`unix://${sock}`)) signalPid(dpid, 'SIGTERM');
      }
      teardown(layout, id);
    }
  }
}
