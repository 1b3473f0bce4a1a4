/**
 * One HAProxy in master-worker mode, owned by this wharf-server. `apply` writes the
 * config and starts HAProxy, or reloads it through the master socket when the
 * config changed (the server states are saved first, so a reload keeps them).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { renderConfig, type LbFrontend, type LbPaths } from './config.js';
import { parseServersState, runtimeCommand, type ServerState } from './runtime.js';
import { alive } from '../pids.js';

export interface HaproxyOptions {
  binary: string;
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Haproxy {
  private masterPid: number | undefined;
  readonly paths: LbPaths & { config: string; masterSocket: string; pidFile: string };

  constructor(
    private readonly opts: HaproxyOptions,
    private readonly log: Logger,
  ) {
    this.paths = {
      config: join(opts.dir, 'haproxy.cfg'),
      adminSocket: join(opts.dir, 'admin.sock'),
      masterSocket: join(opts.dir, 'master.sock'),
      stateFile: join(opts.dir, 'servers.state'),
      pidFile: join(opts.dir, 'haproxy.pid'),
    };
  }

  get running(): boolean {
    return this.masterPid !== undefined && alive(this.masterPid);
  }

  command(cmd: string): Promise<string> {
    return runtimeCommand(this.paths.adminSocket, cmd);
  }

  /** The current worker's PID (it changes on reload only), as the admin socket answers. */
  async workerPid(): Promise<number> {
    const m = /^Pid:\s*(\d+)/m.exec(await this.command('show info'));
    return Number(m?.[1] ?? 0);
  }

  /** The newest worker by the master's list (an old one finishing its connections after a reload has reloads ≥ 1). */
  private async newestWorker(): Promise<number> {
    const procs = await runtimeCommand(this.paths.masterSocket, 'show proc');
    const row = procs.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === 'worker' && f[2] === '0');
    return Number(row?.[0] ?? 0);
  }

  async apply(frontends: LbFrontend[]): Promise<void> {
    const config = renderConfig(this.paths, frontends);
    const old = await readFile(this.paths.config, 'utf8').catch(() => undefined);
    if (!this.running) await this.adopt();
    if (this.running && old === config) return;
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    if (!this.running) {
      await writeFile(this.paths.stateFile, '');
      await writeFile(this.paths.config, config);
      await this.start();
      return;
    }
    const saved = await this.command('show servers state');
    await writeFile(this.paths.stateFile, saved);
    await writeFile(this.paths.config, config);
    const before = await this.newestWorker();
    await runtimeCommand(this.paths.masterSocket, 'reload');
    // Runtime commands must reach the new worker: wait until it is the one answering the admin socket.
    await this.waitFor(async () => {
      const now = await this.newestWorker().catch(() => before);
      return now !== before && now !== 0 && (await this.workerPid().catch(() => 0)) === now;
    }, 'the reloaded worker');
    await this.restoreAddresses(parseServersState(saved));
    this.log.info({ frontends: frontends.length }, 'haproxy reloaded');
  }

  /** The state file restores states but not the addresses of IP-literal servers: set them again. */
  private async restoreAddresses(saved: ServerState[]): Promise<void> {
    const now = new Map(parseServersState(await this.command('show servers state')).map((s) => [`${s.backend}/${s.server}`, s]));
    for (const s of saved) {
      const cur = now.get(`${s.backend}/${s.server}`);
      if (cur && (cur.addr !== s.addr || cur.port !== s.port)) await this.command(`set server ${s.backend}/${s.server} addr ${s.addr} port ${s.port}`);
    }
  }

  private async start(): Promise<void> {
    const child = spawn(this.opts.binary, ['-W', '-S', `${this.paths.masterSocket},mode,600`, '-p', this.paths.pidFile, '-f', this.paths.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited = false;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.once('error', (err) => {
      exited = true;
      stderr += err.message;
    });
    child.once('exit', (code, signal) => {
      exited = true;
      if (this.masterPid === child.pid) this.log.warn({ code, signal, stderr: stderr.trim() }, 'haproxy exited');
    });
    await this.waitFor(async () => (await this.workerPid().catch(() => 0)) > 0, 'haproxy to start', () => (exited ? `haproxy did not start: ${stderr.trim()}` : undefined));
    this.masterPid = child.pid;
    this.log.info({ pid: child.pid, dir: this.opts.dir }, 'haproxy started');
  }

  /** A HAProxy left by an earlier wharf-server of this directory (killed, or upgraded) is taken over, not restarted. */
  private async adopt(): Promise<boolean> {
    const pid = Number((await readFile(this.paths.pidFile, 'utf8').catch(() => '')).trim());
    if (!pid || !alive(pid)) return false;
    const procs = await runtimeCommand(this.paths.masterSocket, 'show proc').catch(() => '');
    if (!procs.includes('master')) return false;
    this.masterPid = pid;
    this.log.info({ pid }, 'haproxy adopted');
    return true;
  }

  private async waitFor(ok: () => Promise<boolean>, what: string, failed?: () => string | undefined): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await ok()) return;
      const why = failed?.();
      if (why) throw new Error(why);
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Stops HAProxy (the master stops its workers). */
  async stop(): Promise<void> {
    const pid = this.masterPid;
    this.masterPid = undefined;
    if (!pid || !alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}
