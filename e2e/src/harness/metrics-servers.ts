/**
 * Real metrics servers from Debian's packages for end-to-end tests, each started by
 * the test itself on loopback with its own temporary config and data directory and
 * free ports (never the system services): InfluxDB 1.x, carbon-cache (Graphite),
 * zabbix_server on a throwaway PostgreSQL cluster, and Prometheus. stop() ends the
 * processes and removes the directory; it may be called more than once. The
 * packages come from scripts/install-test-deps.sh.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort, must, run, sleep, stopChild, tail } from './exec.js';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * A free port below 32768, for servers that refuse the kernel's ephemeral range
 * (zabbix_server's ListenPort is 1024–32767).
 */
async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

/** A system account's uid and gid, from /etc/passwd. */
function account(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no user ${name} (is its package installed? see scripts/install-test-deps.sh)`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** One server process with its output in a log file; stop() sends SIGTERM, then SIGKILL after 10 s. */
class ServerProcess {
  private readonly child: ChildProcess;

  constructor(readonly what: string, readonly logFile: string, cmd: string, args: string[], opts: SpawnOptions = {}) {
    const log = openSync(logFile, 'a');
    this.child = spawn(cmd, args, { ...opts, stdio: ['ignore', log, log] });
    closeSync(log);
    this.child.on('error', () => undefined);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for `probe`, failing at once with the log's last lines if the process exits. */
  async ready(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.what} exited (${this.child.signalCode ?? this.child.exitCode}); last lines of ${this.logFile}:\n${tail(this.logFile)}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.what}; last lines of ${this.logFile}:\n${tail(this.logFile)}`);
      await sleep(100);
    }
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return stopChild(this.child, signal);
  }
}

function scratch(kind: string): string {
  const dir = mkdtempSync(`/tmp/wharf-e2e-${kind}-`);
  // The servers that drop root (postgres, zabbix) must reach their subdirectories.
  chmodSync(dir, 0o755);
  return dir;
}

async function version(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  return (r.stdout + r.stderr).split('\n')[0]?.trim() ?? '';
}

// ─── InfluxDB 1.x ─────────────────────────────────────────────────────────────

export class InfluxServer {
  private constructor(readonly dir: string, readonly port: number, private readonly proc: ServerProcess, readonly version: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** influxd with a fresh data directory and database `db`. */
  static async start(db: string): Promise<InfluxServer> {
    const dir = scratch('influx');
    const [port, rpcPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'influxdb.conf'), [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]', `  dir = "${dir}/meta"`,
      '[data]', `  dir = "${dir}/data"`, `  wal-dir = "${dir}/wal"`, '  query-log-enabled = false',
      '[monitor]', '  store-enabled = false',
      '[http]', `  bind-address = "127.0.0.1:${port}"`, '  log-enabled = false',
      '',
    ].join('\n'));
    const proc = new ServerProcess('influxd', join(dir, 'influxd.log'), 'influxd', ['-config', join(dir, 'influxdb.conf')]);
    const s = new InfluxServer(dir, port, proc, await version('influxd', ['version']));
    try {
      await proc.ready(async () => (await fetch(`${s.url}/ping`)).status === 204);
      await s.query(`CREATE DATABASE "${db}"`);
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** InfluxQL through the HTTP API; the JSON answer, times in milliseconds since the epoch. */
  async query(q: string, db?: string): Promise<InfluxAnswer> {
    const body = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
    const res = await fetch(`${this.url}/query`, { method: 'POST', body });
    const json = (await res.json()) as InfluxAnswer;
    if (!res.ok || json.results?.some((r) => r.error)) throw new Error(`influx query ${q}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface InfluxAnswer {
  results?: Array<{ error?: string; series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }> }>;
}

// ─── Graphite: carbon-cache with whisper files ────────────────────────────────

export class CarbonServer {
  private proc: ServerProcess | undefined;

  private constructor(readonly dir: string, readonly port: number, readonly version: string) {}

  get whisperDir(): string {
    return join(this.dir, 'whisper');
  }

  /** carbon-cache keeping every series at 1-second resolution for an hour. */
  static async start(): Promise<CarbonServer> {
    const dir = scratch('carbon');
    mkdirSync(join(dir, 'whisper'));
    mkdirSync(join(dir, 'log'));
    const [port, picklePort, queryPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'carbon.conf'), [
      '[cache]',
      `STORAGE_DIR = ${dir}/`, `LOCAL_DATA_DIR = ${dir}/whisper/`, `CONF_DIR = ${dir}/`, `LOG_DIR = ${dir}/log/`, `PID_DIR = ${dir}/`,
      'DATABASE = whisper', 'ENABLE_LOGROTATION = False', 'ENABLE_TAGS = False',
      'MAX_CACHE_SIZE = inf', 'MAX_UPDATES_PER_SECOND = 10000', 'MAX_CREATES_PER_MINUTE = 10000',
      'LOG_UPDATES = False', 'LOG_CACHE_HITS = False', 'WHISPER_FALLOCATE_CREATE = False',
      `LINE_RECEIVER_INTERFACE = 127.0.0.1`, `LINE_RECEIVER_PORT = ${port}`, 'ENABLE_UDP_LISTENER = False',
      `PICKLE_RECEIVER_INTERFACE = 127.0.0.1`, `PICKLE_RECEIVER_PORT = ${picklePort}`,
      `CACHE_QUERY_INTERFACE = 127.0.0.1`, `CACHE_QUERY_PORT = ${queryPort}`,
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'storage-schemas.conf'), '[everything]\npattern = .*\nretentions = 1s:1h\n');
    const s = new CarbonServer(dir, port, (await run('dpkg-query', ['-W', '-f', '${Version}', 'graphite-carbon'])).stdout.trim());
    try {
      await s.startProcess();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  private async startProcess(): Promise<void> {
    rmSync(join(this.dir, 'carbon.pid'), { force: true });
    this.proc = new ServerProcess('carbon-cache', join(this.dir, 'carbon-cache.log'), 'carbon-cache', [
      `--config=${join(this.dir, 'carbon.conf')}`, `--pidfile=${join(this.dir, 'carbon.pid')}`, `--logdir=${join(this.dir, 'log')}`, '--nodaemon', 'start',
    ]);
    await this.proc.ready(() => listening(this.port), 30_000);
  }

  /** Stops carbon-cache; the whisper files stay for startAgain(). */
  async stopProcess(): Promise<void> {
    await this.proc?.stop();
  }

  /** Starts carbon-cache again on the same ports and files. */
  startAgain(): Promise<void> {
    return this.startProcess();
  }

  /** The whisper file of a dotted path. */
  whisperFile(path: string): string {
    return join(this.whisperDir, ...path.split('.')) + '.wsp';
  }

  /** The non-empty points of a series since `fromSeconds`, read by whisper-fetch: [seconds, value][]. */
  async fetch(path: string, fromSeconds: number): Promise<Array<[number, number]>> {
    const out = await must('whisper-fetch', ['--json', `--from=${fromSeconds - 1}`, this.whisperFile(path)]);
    const { start, step, values } = JSON.parse(out) as { start: number; step: number; values: Array<number | null> };
    return values.flatMap((v, i) => (v === null ? [] : [[start + i * step, v] as [number, number]]));
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ─── Zabbix: zabbix_server on a throwaway PostgreSQL cluster ─────────────────

const ZABBIX_SQL = '/usr/share/zabbix-server-pgsql';
/**
 * Of data.sql, the rows zabbix_server needs to start (the global configuration and
 * what it refers to). The rest is the frontend's templates and dashboards: some
 * 130,000 statements that take half a minute to load and that nothing here uses.
 */
const ZABBIX_BASE_TABLES = new Set(['config', 'config_autoreg_tls', 'usrgrp', 'users', 'users_groups', 'role', 'role_rule', 'hstgrp', 'globalmacro', 'regexps', 'expressions']);

export interface ZabbixTrapperItem {
  host: string;
  key: string;
}

export class ZabbixServer {
  private zabbix: ServerProcess | undefined;
  private readonly itemIds = new Map<string, number>();

  private constructor(readonly dir: string, private readonly postgres: ServerProcess, readonly pgPort: number, readonly port: number, readonly version: string) {}

  /**
   * A PostgreSQL cluster (initdb as user postgres, `postgres -D` on a free port), the
   * package's schema, images and base data, one trapper item of type float per entry
   * of `items` (hosts created as needed), then `zabbix_server -f` listening on a free port.
   */
  static async start(items: ZabbixTrapperItem[]): Promise<ZabbixServer> {
    const dir = scratch('zabbix');
    const pg = account('postgres');
    const zbx = account('zabbix');
    for (const sub of ['pg', 'pg-run']) {
      mkdirSync(join(dir, sub));
      chownSync(join(dir, sub), pg.uid, pg.gid);
    }
    mkdirSync(join(dir, 'zabbix'));
    chownSync(join(dir, 'zabbix'), zbx.uid, zbx.gid);
    const bin = await pgBin();
    const asPostgres = { uid: pg.uid, gid: pg.gid, env: { ...process.env, HOME: dir, LC_ALL: 'C.UTF-8' } };
    const init = await runAs(join(bin, 'initdb'), ['-D', join(dir, 'pg'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], asPostgres);
    if (init.code !== 0) throw new Error(`initdb failed: ${init.output}`);
    const pgPort = await freePort();
    const postgres = new ServerProcess('postgres', join(dir, 'postgres.log'), join(bin, 'postgres'), [
      '-D', join(dir, 'pg'), '-p', String(pgPort), '-k', join(dir, 'pg-run'), '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ], asPostgres);
    const s = new ZabbixServer(dir, postgres, pgPort, await freeLowPort(), await version('zabbix_server', ['-V']));
    try {
      await postgres.ready(async () => (await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(pgPort)])).code === 0);
      await s.psql(['-c', 'CREATE DATABASE zabbix'], 'postgres');
      for (const file of ['schema.sql.gz', 'images.sql.gz']) await s.psql(['-1'], 'zabbix', gunzipSync(readFileSync(join(ZABBIX_SQL, file))).toString('utf8'));
      await s.psql([], 'zabbix', zabbixBaseData());
      await s.psql([], 'zabbix', s.itemsSql(items));
      await s.startZabbix();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  private itemsSql(items: ZabbixTrapperItem[]): string {
    const hosts = [...new Set(items.map((i) => i.host))];
    const hostIds = new Map(hosts.map((h, i) => [h, 20001 + i]));
    const sql = hosts.map((h) => {
      const id = hostIds.get(h);
      // Group 4 is "Zabbix servers" from the base data; a host needs no interface to receive trapper values.
      return `INSERT INTO hosts (hostid, host, name, status) VALUES (${id}, ${lit(h)}, ${lit(h)}, 0);\n` +
        `INSERT INTO hosts_groups (hostgroupid, hostid, groupid) VALUES (${id}, ${id}, 4);`;
    });
    items.forEach((item, i) => {
      const id = 30001 + i;
      this.itemIds.set(`${item.host} ${item.key}`, id);
      // type 2: Zabbix trapper; value_type 0: numeric (float).
      sql.push(`INSERT INTO items (itemid, type, hostid, name, key_, value_type, delay, history, trends) VALUES (${id}, 2, ${hostIds.get(item.host)}, ${lit(item.key)}, ${lit(item.key)}, 0, '0', '1d', '0');`);
      sql.push(`INSERT INTO item_rtdata (itemid) VALUES (${id});`);
    });
    return sql.join('\n');
  }

  private async startZabbix(): Promise<void> {
    const conf = join(this.dir, 'zabbix', 'zabbix_server.conf');
    writeFileSync(conf, [
      'LogType=console', `PidFile=${join(this.dir, 'zabbix', 'zabbix_server.pid')}`, `SocketDir=${join(this.dir, 'zabbix')}`,
      'DBHost=127.0.0.1', `DBPort=${this.pgPort}`, 'DBName=zabbix', 'DBUser=postgres',
      'ListenIP=127.0.0.1', `ListenPort=${this.port}`, 'CacheUpdateFrequency=1',
      // As few processes as it allows: only the trapper and the history syncer matter here.
      'StartPollers=1', 'StartPollersUnreachable=1', 'StartTrappers=1', 'StartPingers=0', 'StartDiscoverers=0', 'StartHTTPPollers=0',
      'StartTimers=1', 'StartEscalators=1', 'StartAlerters=1', 'StartDBSyncers=1', 'StartPreprocessors=1', 'StartLLDProcessors=1',
      'StartReportWriters=0', 'HousekeepingFrequency=0', 'Timeout=4',
      '',
    ].join('\n'));
    this.zabbix = new ServerProcess('zabbix_server', join(this.dir, 'zabbix_server.log'), 'zabbix_server', ['-f', '-c', conf]);
    await this.zabbix.ready(() => listening(this.port), 30_000);
  }

  /** The float values stored for an item, oldest first: [clock, ns, value][]. */
  async history(host: string, key: string): Promise<Array<[number, number, number]>> {
    const id = this.itemIds.get(`${host} ${key}`);
    if (id === undefined) throw new Error(`no item ${key} on ${host}`);
    const out = await this.psql(['-At', '-F', ' ', '-c', `SELECT clock, ns, value FROM history WHERE itemid = ${id} ORDER BY clock, ns`], 'zabbix');
    return out.split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number, number]);
  }

  private async psql(args: string[], db: string, input?: string): Promise<string> {
    const r = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'postgres', '-d', db, ...args], input !== undefined ? { input } : {});
    if (r.code !== 0) throw new Error(`psql ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
    return r.stdout;
  }

  async stop(): Promise<void> {
    await this.zabbix?.stop();
    await this.postgres.stop('SIGINT'); // fast shutdown
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The statements of data.sql for ZABBIX_BASE_TABLES (statements end at a ";" outside quotes). */
function zabbixBaseData(): string {
  const sql = gunzipSync(readFileSync(join(ZABBIX_SQL, 'data.sql.gz'))).toString('utf8');
  const kept: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") quoted = !quoted;
    else if (c === ';' && !quoted) {
      const statement = sql.slice(start, i + 1).trim();
      start = i + 1;
      const table = /^INSERT INTO (\w+)/.exec(statement)?.[1];
      if (table === undefined || ZABBIX_BASE_TABLES.has(table)) kept.push(statement);
    }
  }
  return kept.join('\n');
}

/** The PostgreSQL server binaries of the newest installed major version. */
async function pgBin(): Promise<string> {
  const versions = (await must('ls', ['/usr/lib/postgresql'])).split('\n').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL server in /usr/lib/postgresql (package postgresql)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

function runAs(cmd: string, args: string[], opts: SpawnOptions): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

// ─── Prometheus ──────────────────────────────────────────────────────────────

export interface ScrapeTarget {
  /** host:port */
  target: string;
  path?: string;
  /** A file holding the bearer token sent with every scrape. */
  bearerTokenFile?: string;
}

export class PrometheusServer {
  private constructor(readonly dir: string, readonly port: number, private readonly proc: ServerProcess, readonly version: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** prometheus scraping each target every second. */
  static async start(targets: ScrapeTarget[]): Promise<PrometheusServer> {
    const dir = scratch('prometheus');
    const port = await freePort();
    const jobs = targets.map((t, i) => [
      `  - job_name: target${i}`,
      `    metrics_path: ${JSON.stringify(t.path ?? '/metrics')}`,
      ...(t.bearerTokenFile ? ['    authorization:', '      type: Bearer', `      credentials_file: ${JSON.stringify(t.bearerTokenFile)}`] : []),
      '    static_configs:',
      `      - targets: [${JSON.stringify(t.target)}]`,
    ].join('\n'));
    writeFileSync(join(dir, 'prometheus.yml'), ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', ...jobs, ''].join('\n'));
    const proc = new ServerProcess('prometheus', join(dir, 'prometheus.log'), 'prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ]);
    const s = new PrometheusServer(dir, port, proc, await version('prometheus', ['--version']));
    try {
      await proc.ready(async () => (await fetch(`${s.url}/-/ready`)).ok);
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** An instant query through the HTTP API: the result vector. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const res = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const json = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (json.status !== 'success') throw new Error(`prometheus query ${promql}: ${json.error ?? res.status}`);
    return json.data?.result ?? [];
  }

  /** The targets' health as Prometheus sees it: [scrapeUrl, health, lastError][]. */
  async targets(): Promise<Array<[string, string, string]>> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const json = (await res.json()) as { data: { activeTargets: Array<{ scrapeUrl: string; health: string; lastError: string }> } };
    return json.data.activeTargets.map((t) => [t.scrapeUrl, t.health, t.lastError]);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
