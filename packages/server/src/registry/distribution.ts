/**
 * CNCF Distribution (Debian's `docker-registry`), run by wharf-server as a child
 * process: `docker-registry serve <dir>/config.yml`, TLS with the registry
 * certificate, token auth with wharf-server as the issuer, storage in `<dir>/data`.
 *
 * Started through `setpriv --pdeathsig TERM` where it exists, so a killed server takes
 * its registry along; a registry left by an earlier server of the same directory is
 * stopped first (its pid file). If the registry exits on its own it is started again
 * with back-off (1 s … 30 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { alive } from '../pids.js';

export interface DistributionConfig {
  dir: string;
  /** HOST:PORT the registry listens on. */
  listen: string;
  realm: string;
  service: string;
  issuer: string;
  serverCertPath: string;
  serverKeyPath: string;
  tokenCertPath: string;
  /** Pull-through cache mode (a mirror): the upstream registry and its credentials. */
  proxy?: { remoteurl: string; username?: string; password?: string };
  /** This server's endpoint for the registry's events, and the secret it expects in their Authorization header. */
  notifications?: { url: string; secret: string };
  /** Maintenance mode: pulls only, every write refused (while garbage is collected). */
  readonly?: boolean;
}

/** The registry's config.yml. */
export function renderConfig(c: DistributionConfig, secret: string): string {
  return stringify({
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageRoot(c.dir) },
      delete: { enabled: true },
      cache: { blobdescriptor: 'inmemory' },
      ...(c.readonly ? { maintenance: { readonly: { enabled: true } } } : {}),
    },
    http: {
      addr: c.listen,
      secret,
      tls: { certificate: c.serverCertPath, key: c.serverKeyPath },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
    auth: { token: { realm: c.realm, service: c.service, issuer: c.issuer, rootcertbundle: c.tokenCertPath } },
    ...(c.proxy ? { proxy: c.proxy } : {}),
    ...(c.notifications ? {
      notifications: {
        endpoints: [{
          name: 'wharf-server',
          url: c.notifications.url,
          headers: { Authorization: [`Bearer ${c.notifications.secret}`] },
          timeout: '5s',
          threshold: 5,
          backoff: '2s',
          // Manifest pushes and deletes only: the catalog's "who pushed when".
          ignore: { actions: ['pull', 'mount'], mediatypes: ['application/octet-stream'] },
        }],
      },
    } : {}),
  });
}

/** The registry's storage (filesystem driver root) under its directory. */
export function storageRoot(dir: string): string {
  return join(dir, 'data');
}

/** `HOST:PORT` (HOST may be `[v6]`) → parts; throws a message for people. */
export function splitHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port <= 65535)) throw new Error(`${what}: "${text}" is not HOST:PORT (e.g. 127.0.0.1:5000)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const START_TIMEOUT_MS = 15_000;

export class DistributionProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Set once the first start succeeded: from then on an exit is followed by a restart. */
  private supervising = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderr = '';

  constructor(
    private readonly opts: { binary: string; config: DistributionConfig; caPem: string },
    private readonly log: Logger,
  ) {}

  private get paths() {
    const { dir } = this.opts.config;
    return { config: join(dir, 'config.yml'), pidFile: join(dir, 'registry.pid'), secret: join(dir, 'http.secret') };
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes the config, stops a leftover registry of this directory, starts ours and waits until it answers. */
  async start(): Promise<void> {
    const { dir } = this.opts.config;
    this.stopping = false;
    await mkdir(storageRoot(dir), { recursive: true, mode: 0o700 });
    let secret = (await readFile(this.paths.secret, 'utf8').catch(() => '')).trim();
    if (!secret) {
      secret = randomBytes(32).toString('hex');
      await writeFile(this.paths.secret, `${secret}\n`, { mode: 0o600 });
    }
    await writeFile(this.paths.config, renderConfig(this.opts.config, secret), { mode: 0o600 });
    await this.stopLeftover();
    await this.spawnAndWait();
    this.supervising = true;
  }

  /** Stops the registry and starts it again with `change` applied to its config (read-only mode for garbage collection). */
  async restart(change: Pick<DistributionConfig, 'readonly'>): Promise<void> {
    await this.stop();
    Object.assign(this.opts.config, change);
    await this.start();
  }

  /** The config file the registry runs with (`garbage-collect` reads it too). */
  get configPath(): string {
    return this.paths.config;
  }

  private async stopLeftover(): Promise<void> {
    const pid = Number((await readFile(this.paths.pidFile, 'utf8').catch(() => '')).trim());
    if (!(pid > 0) || !(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(this.paths.config)) return;
    this.log.info({ pid }, 'stopping the registry an earlier server left');
    await terminate(pid);
  }

  private async spawnAndWait(): Promise<void> {
    const { binary } = this.opts;
    const args = ['serve', this.paths.config];
    const [cmd, argv] = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', ['--pdeathsig', 'TERM', '--', binary, ...args]] : [binary, args];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    let exited = false;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
      for (const line of d.split('\n')) if (line.trim()) this.log.debug({ line: line.trim() }, 'registry');
    });
    child.once('error', (err) => {
      exited = true;
      this.stderr += err.message;
    });
    child.once('exit', (code, signal) => {
      exited = true;
      if (this.child === child && this.supervising && !this.stopping) this.restartLater({ code, signal, stderr: lastLines(this.stderr) });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`docker-registry did not start: ${lastLines(this.stderr) || 'it exited'}`);
      if (await this.answers()) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`docker-registry did not answer on ${this.opts.config.listen} within ${START_TIMEOUT_MS / 1000} s: ${lastLines(this.stderr)}`);
      }
      await sleep(100);
    }
    if (child.pid) await writeFile(this.paths.pidFile, `${child.pid}\n`);
    this.restarts = 0;
    this.log.info({ pid: child.pid, listen: this.opts.config.listen }, 'registry started');
  }

  private restartLater(why: Record<string, unknown>): void {
    if (this.restartTimer || this.stopping) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
    this.log.warn({ ...why, retryInMs: delay }, 'the registry stopped; starting it again');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawnAndWait().catch((err: unknown) => this.restartLater({ err: (err as Error).message }));
    }, delay);
  }

  /** The registry answers `GET /v2/` over TLS with our CA (401: it wants a token). */
  answers(): Promise<boolean> {
    const { host, port } = splitHostPort(this.opts.config.listen, 'listen');
    const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return new Promise((resolve) => {
      const req = request({ host: target, port, path: '/v2/', ca: this.opts.caPem, agent: false, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 401 || res.statusCode === 200);
      });
      req.once('timeout', () => req.destroy());
      req.once('error', () => resolve(false));
      req.end();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child?.pid || !this.running) return;
    await terminate(child.pid);
  }
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** SIGTERM, then SIGKILL after 5 s. */
async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
