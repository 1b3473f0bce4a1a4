/**
 * A Docker host for end-to-end tests: its own network namespace and its own
 * dockerd (own data-root, exec-root, socket, containerd namespace), started with
 * `nsenter --net=…` (not `ip netns exec`, which remounts /sys and breaks dockerd's
 * cgroup detection). Everything is removed by stop(), and by cleanupStale() if a
 * previous run died before it could.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { must, quiet, run, waitFor } from './exec.js';

const RUN_BASE = '/run/wharf-e2e';
const DATA_BASE = '/var/lib/wharf-e2e';
const ROOT = new URL('../../..', import.meta.url).pathname;

export class DockerHost {
  private dockerd: ChildProcess | undefined;

  private constructor(
    readonly name: string,
    readonly id: string,
  ) {}

  get netns(): string {
    return `wharf-e2e-${this.id}`;
  }
  get execRoot(): string {
    return join(RUN_BASE, this.id);
  }
  get dataRoot(): string {
    return join(DATA_BASE, this.id);
  }
  get socket(): string {
    return join(this.execRoot, 'docker.sock');
  }
  get logFile(): string {
    return join(DATA_BASE, `${this.id}.log`);
  }

  static async start(name: string): Promise<DockerHost> {
    cleanupStale();
    const host = new DockerHost(name, `${name}-${process.pid}`);
    await must('ip', ['netns', 'add', host.netns]);
    await must('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
    mkdirSync(host.execRoot, { recursive: true });
    mkdirSync(host.dataRoot, { recursive: true });
    await host.startDockerd();
    await must('bash', [join(ROOT, 'scripts/build-busybox-image.sh')], { env: { ...process.env, DOCKER_HOST: `unix://${host.socket}` } });
    return host;
  }

  async startDockerd(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    this.dockerd = spawn('nsenter', [
      `--net=/run/netns/${this.netns}`,
      'dockerd',
      '--live-restore',
      '--data-root', this.dataRoot,
      '--exec-root', join(this.execRoot, 'exec'),
      '--pidfile', join(this.execRoot, 'dockerd.pid'),
      '-H', `unix://${this.socket}`,
      '--containerd-namespace', this.netns,
      '--containerd-plugins-namespace', `${this.netns}-plugins`,
    ], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    await waitFor(`dockerd of ${this.name}`, async () => (await this.docker(['version', '--format', '{{.Server.Version}}'])).code === 0, 30_000, 100);
  }

  /** SIGTERM (or the given signal) to dockerd and wait until it has exited. */
  async stopDockerd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.dockerd;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await exited;
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

  /** Removes every container, stops dockerd, deletes the namespace and the directories. */
  async stop(): Promise<void> {
    const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await this.docker(['rm', '-f', ...ids]);
    await this.stopDockerd();
    teardown(this.id);
  }
}

/** Removes what a host left behind: processes in its netns, mounts, directories. */
function teardown(id: string): void {
  const ns = `wharf-e2e-${id}`;
  for (const pid of quiet('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) quiet('kill', ['-9', pid]);
  for (const base of [join(RUN_BASE, id), join(DATA_BASE, id)]) {
    // dockerd bind-mounts its data-root onto itself, and overlays live below it.
    const mounts = quiet('findmnt', ['-rn', '-o', 'TARGET']).split('\n').filter((m) => m === base || m.startsWith(`${base}/`)).sort().reverse();
    for (const m of mounts) quiet('umount', ['-l', m]);
    try {
      rmSync(base, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`e2e: could not remove ${base}: ${(err as Error).message}\n`);
    }
  }
  rmSync(join(DATA_BASE, `${id}.log`), { force: true });
  if (existsSync(`/run/netns/${ns}`)) quiet('ip', ['netns', 'del', ns]);
}

/** Tears down hosts of earlier runs whose test process no longer exists. */
export function cleanupStale(): void {
  const ids = new Set<string>();
  for (const base of [RUN_BASE, DATA_BASE]) {
    if (existsSync(base)) for (const n of readdirSync(base)) if (!n.endsWith('.log')) ids.add(n);
  }
  for (const ns of quiet('ip', ['netns', 'list']).split('\n')) {
    const m = /^wharf-e2e-(\S+)/.exec(ns);
    if (m?.[1]) ids.add(m[1]);
  }
  for (const id of ids) {
    const pid = Number(id.split('-').pop());
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) {
      const sock = join(RUN_BASE, id, 'docker.sock');
      if (existsSync(sock)) {
        const ids = quiet('docker', ['-H', `unix://${sock}`, 'ps', '-aq']).split('\n').filter(Boolean);
        if (ids.length) quiet('docker', ['-H', `unix://${sock}`, 'rm', '-f', ...ids]);
        const dpid = quiet('cat', [join(RUN_BASE, id, 'exec', '..', 'dockerd.pid')]).trim();
        if (dpid) quiet('kill', [dpid]);
      }
      teardown(id);
    }
  }
}
