/**
 * Agent configuration: defaults, and the command line (flags > WHARF_* env > defaults).
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { formatBytes, IFACE_PATTERN, NETWORK_NAME_PATTERN, parseBytes, type HostNetwork, type VolumeDriverName } from '@wharf/types';
import type { Engine } from './docker/engine.js';
import { parseReporterSpecs, ReporterSpecError } from './metrics/reporters/index.js';
import type { CommandRunner } from './network/netns.js';
import type { VolumeDriver } from './volumes/driver.js';

export interface AgentConfig {
  /** wharf-server base URL, or several separated by commas (failover). Default http://127.0.0.1:7070 */
  server?: string;
  /**
   * The shared join token: authenticates the agent to the server and the server to the
   * agent's API. Or a one-use token (`wharf_hjt_…`): spent once for the host's
   * certificate, kept in <dataDir>/tls (see tls/identity.ts).
   */
  joinToken?: string;
  /** Host name. Default os.hostname() */
  name?: string;
  zone?: string;
  rack?: string;
  labels?: Record<string, string>;
  /** Default /var/run/docker.sock */
  dockerSocket?: string;
  /** Docker's certs.d, where the platform registry's CA is installed. Default /etc/docker/certs.d */
  dockerCertsDir?: string;
  /** Volumes and the recycle bin live here. Default /var/lib/wharf/agent */
  dataDir?: string;
  /** HOST:PORT of the agent API; port 0 picks a free one. Default 127.0.0.1:7071 */
  listen?: string;
  /** URL the server uses to reach the agent API. Default http://<actual listen address> */
  advertise?: string;
  /** Registration doubles as the heartbeat. Default 5 */
  heartbeatIntervalSeconds?: number;
  /** Default wharf/busybox:latest */
  infraImage?: string;
  /** CPU capacity offered to the scheduler = cores × this ratio. Default 1 */
  cpuOvercommit?: number;
  /** Disk capacity offered = (pool size − recycle bin) × this ratio: limits are caps on a shared pool. Default 1 */
  diskOvercommit?: number;
  /** Infra containers privileged: true, false, or `auto` (privileged when the host can grant every capability). Default auto */
  infraPrivileged?: 'auto' | boolean;
  /** Full resync of every set. Default 30 */
  resyncIntervalSeconds?: number;
  /** Sets reconciled at once. Default 4 */
  concurrency?: number;
  /** Long-poll wait the agent asks the server for. Default 30 */
  desiredWaitSeconds?: number;
  /** Platform networks this host reaches, and the uplink interface for each (--network NAME=IFACE). Default none */
  networks?: HostNetwork[];
  /** Network namespace of the Docker host, where its uplinks are (a file for nsenter --net). Default: the agent's own */
  netns?: string;
  /** Uplink capacity in Mbit/s per direction. Default: the first uplink's speed, else 1000 */
  bandwidth?: number;
  /** How set volumes are made: btrfs subvolumes with qgroup limits, or XFS loop images. Default btrfs */
  volumeDriver?: VolumeDriverName;
  /** Bytes of the btrfs pool's sparse loop file `<data-dir>/pool.img`. Default 20Gi */
  poolSize?: number;
  /** A block device for the btrfs pool instead of the loop file (formatted only when it has no filesystem). */
  poolDevice?: string;
  /** How long a deleted set's volume stays in the recycle bin. Default 7 days */
  trashRetentionSeconds?: number;
  /** Seconds between metrics collections. Default 10 */
  metricsIntervalSeconds?: number;
  /** Serve GET /metrics without the join token. Default false */
  metricsPublic?: boolean;
  /** Where metrics are pushed besides the heartbeat (reporter specs, see metrics/reporters). Default none */
  reporters?: string[];
  /** Tags every reporter adds to its points (besides host and zone). */
  metricsTags?: Record<string, string>;
  /** Only these metric names and the names below them go to the reporters (see metrics/reporters/points.ts). Default all */
  metricsInclude?: string[];
  /** Image pulls at once (on demand and pre-pulls together). Default 3 */
  pullConcurrency?: number;
  /** Images from the platform's registries unused this long are removed from the host. Default 24 h */
  imageGcAfterSeconds?: number;
  /** How often the image GC looks. Default 1 h */
  imageGcIntervalSeconds?: number;
  logger?: Logger;
  /** A joined host renews its certificate this long before its end; default: when a third of its life is left. */
  certRenewBeforeSeconds?: number;
  /** For tests: use this engine instead of Docker on dockerSocket. */
  engine?: Engine;
  /** For tests: runs the network commands (ip, tc, iptables-restore) instead of spawning them. */
  runCommand?: CommandRunner;
  /** For tests: this volume driver instead of btrfs or xfs. */
  volumes?: VolumeDriver;
}

type OptionalKeys = 'joinToken' | 'advertise' | 'logger' | 'engine' | 'netns' | 'bandwidth' | 'runCommand' | 'poolDevice' | 'volumes' | 'certRenewBeforeSeconds';
export type ResolvedConfig = Required<Omit<AgentConfig, OptionalKeys>> & Pick<AgentConfig, OptionalKeys>;

export const DEFAULTS = {
  server: 'http://127.0.0.1:7070',
  zone: 'default',
  rack: 'default',
  dockerSocket: '/var/run/docker.sock',
  dockerCertsDir: '/etc/docker/certs.d',
  dataDir: '/var/lib/wharf/agent',
  listen: '127.0.0.1:7071',
  heartbeatIntervalSeconds: 5,
  infraImage: 'wharf/busybox:latest',
  cpuOvercommit: 1,
  diskOvercommit: 1,
  infraPrivileged: 'auto' as 'auto' | boolean,
  resyncIntervalSeconds: 30,
  concurrency: 4,
  desiredWaitSeconds: 30,
  /** Mbit/s when the uplink's speed is unknown. */
  bandwidth: 1000,
  volumeDriver: 'btrfs' as VolumeDriverName,
  poolSize: 20 * 1024 ** 3,
  trashRetentionSeconds: 7 * 24 * 3600,
  metricsIntervalSeconds: 10,
  metricsPublic: false,
  pullConcurrency: 3,
  imageGcAfterSeconds: 24 * 3600,
  imageGcIntervalSeconds: 3600,
} as const;

/** mkfs.btrfs needs a little over 100 MiB. */
export const MIN_POOL_SIZE = 256 * 1024 ** 2;

/** Shorter intervals make rates noisy and cost the host more than they tell. */
export const MIN_METRICS_INTERVAL = 1;
const TAG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

export function resolveConfig(c: AgentConfig): ResolvedConfig {
  const { bandwidth: _detected, ...defaults } = DEFAULTS;
  const r: ResolvedConfig = { ...defaults, name: hostname(), labels: {}, networks: [], reporters: [], metricsTags: {}, metricsInclude: [], ...stripUndefined(c) };
  if (!HOST_NAME.test(r.name)) throw new ConfigError(`host name "${r.name}" is not valid (letters, digits, '.', '_', '-'; at most 63)`);
  parseListen(r.listen);
  if (!(r.heartbeatIntervalSeconds > 0)) throw new ConfigError('the heartbeat interval must be a positive number of seconds');
  validateNetworks(r.networks);
  if (r.netns !== undefined && (!isAbsolute(r.netns) || !existsSync(r.netns))) {
    throw new ConfigError(`--netns ${r.netns} is not a network namespace file (e.g. /run/netns/NAME or /proc/PID/ns/net)`);
  }
  if (r.bandwidth !== undefined && !(r.bandwidth > 0 && Number.isFinite(r.bandwidth))) throw new ConfigError(`--bandwidth must be a positive number of Mbit/s, not "${r.bandwidth}"`);
  if (r.volumeDriver !== 'btrfs' && r.volumeDriver !== 'xfs') throw new ConfigError(`--volume-driver must be btrfs or xfs, not "${String(r.volumeDriver)}"`);
  if (!Number.isSafeInteger(r.poolSize) || r.poolSize < MIN_POOL_SIZE) throw new ConfigError(`--pool-size must be at least ${formatBytes(MIN_POOL_SIZE)}, not ${r.poolSize}`);
  if (r.poolDevice !== undefined && !isAbsolute(r.poolDevice)) throw new ConfigError(`--pool-device must be a device path like /dev/vdb, not "${r.poolDevice}"`);
  if (r.poolDevice !== undefined && r.volumeDriver === 'xfs') throw new ConfigError('--pool-device is for the btrfs pool: the xfs driver keeps one image per volume under --data-dir');
  if (!(r.trashRetentionSeconds > 0 && Number.isFinite(r.trashRetentionSeconds))) throw new ConfigError(`--trash-retention must be a positive duration, not "${r.trashRetentionSeconds}"`);
  if (!(r.metricsIntervalSeconds >= MIN_METRICS_INTERVAL && Number.isFinite(r.metricsIntervalSeconds))) throw new ConfigError(`--metrics-interval must be at least ${MIN_METRICS_INTERVAL}s, not "${r.metricsIntervalSeconds}"`);
  try {
    parseReporterSpecs(r.reporters);
  } catch (err) {
    if (err instanceof ReporterSpecError) throw new ConfigError(`--reporter: ${err.message}`);
    throw err;
  }
  if (!(Number.isInteger(r.pullConcurrency) && r.pullConcurrency >= 1 && r.pullConcurrency <= 32)) throw new ConfigError(`--pull-concurrency must be a whole number from 1 to 32, not "${r.pullConcurrency}"`);
  if (!(r.imageGcAfterSeconds > 0 && Number.isFinite(r.imageGcAfterSeconds))) throw new ConfigError(`--image-gc-after must be a positive duration, not "${r.imageGcAfterSeconds}"`);
  if (!(r.imageGcIntervalSeconds > 0 && Number.isFinite(r.imageGcIntervalSeconds))) throw new ConfigError(`--image-gc-interval must be a positive duration, not "${r.imageGcIntervalSeconds}"`);
  for (const key of Object.keys(r.metricsTags)) if (!TAG_KEY.test(key)) throw new ConfigError(`--metrics-tag: "${key}" is not a tag name (letters, digits and '_', not starting with a digit)`);
  return r;
}

const NETWORK_NAME = new RegExp(NETWORK_NAME_PATTERN);
const IFACE = new RegExp(IFACE_PATTERN);

function validateNetworks(networks: HostNetwork[]): void {
  const seen = new Set<string>();
  for (const n of networks) {
    if (!NETWORK_NAME.test(n.name)) throw new ConfigError(`--network: "${n.name}" is not a network name (lowercase letters, digits and '-', at most 24)`);
    if (!IFACE.test(n.uplink) || n.uplink === '.' || n.uplink === '..') throw new ConfigError(`--network ${n.name}: "${n.uplink}" is not an interface name (letters, digits, '_', '.', '-', at most 15)`);
    if (seen.has(n.name)) throw new ConfigError(`--network: network ${n.name} is given twice`);
    seen.add(n.name);
  }
}

/** "lan=eth0" items → networks (validated by resolveConfig). */
function parseNetworks(items: string[], flag: string): HostNetwork[] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new ConfigError(`${flag} must be NAME=IFACE (e.g. lan=eth0), not "${item}"`);
    return { name: item.slice(0, eq).trim(), uplink: item.slice(eq + 1).trim() };
  });
}

function mbit(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} must be a positive number of Mbit/s, not "${value}"`);
  return n;
}

function poolSize(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = parseBytes(value);
  if (n === undefined || n < MIN_POOL_SIZE) throw new ConfigError(`${flag} must be a size of at least ${formatBytes(MIN_POOL_SIZE)} (e.g. 20Gi), not "${value}"`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** "7d", "12h", "30m", "90s", "3600" → seconds. */
export function parseDuration(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(value);
  const n = m ? Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN) : NaN;
  if (!(n > 0)) throw new ConfigError(`${flag} must be a positive duration like 7d, 12h, 30m or a number of seconds, not "${value}"`);
  return n;
}

function volumeDriver(value: string | undefined): VolumeDriverName | undefined {
  if (value === undefined || value === 'btrfs' || value === 'xfs') return value;
  throw new ConfigError(`--volume-driver must be btrfs or xfs, not "${value}"`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "127.0.0.1:7071", "[::1]:0", ":7071" → host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new ConfigError(`--listen must be HOST:PORT (e.g. 127.0.0.1:7071), not "${listen}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export const USAGE = `Usage: wharf-agent [options]

The Wharf host agent: runs the sets the server places on this host as Docker
containers, and reports their status. Every option can also be set in the
environment (shown in brackets); flags win.

  --server URL[,URL…]       wharf-server URL; with several servers of one platform, a
                            server that cannot be reached, or does not answer within 12 s,
                            is passed over for the next [WHARF_SERVER] (default ${DEFAULTS.server})
  --join-token TOKEN        the shared join token (<server data-dir>/join.token), or a one-use token from
                            "wharf host join-token create" [WHARF_JOIN_TOKEN]. With a one-use token the
                            agent joins once: it makes its key, checks the server presents the CA the token
                            names, gets a certificate for --name and the host of --advertise, and keeps key,
                            certificate and CA in DATA-DIR/tls (mode 0600). From then on it talks to the server
                            over mutual TLS as that host only, serves its API over HTTPS, and needs no token;
                            --server must be the https URL of wharf-server --agent-tls-listen. To join again
                            (new name or address), remove DATA-DIR/tls and give a new token.
  --join-token-file PATH    read the join token from a file
  --cert-renew-before TIME  a joined host renews its certificate (a new key, same name and addresses) this
                            long before its end, e.g. 30d [WHARF_CERT_RENEW_BEFORE] (default: when a third
                            of its life is left)
  --name NAME               host name [WHARF_HOST_NAME] (default: this machine's hostname)
  --zone ZONE               data centre [WHARF_ZONE] (default ${DEFAULTS.zone})
  --rack RACK               rack [WHARF_RACK] (default ${DEFAULTS.rack})
  --label KEY=VALUE         host label, repeatable [WHARF_HOST_LABELS=k=v,k=v]
  --docker-socket PATH      Docker Engine socket [DOCKER_HOST=unix://PATH] (default ${DEFAULTS.dockerSocket})
  --docker-certs-dir DIR    Docker's certs.d: the platform registry's CA goes to DIR/<registry>/ca.crt
                            [WHARF_DOCKER_CERTS_DIR] (default ${DEFAULTS.dockerCertsDir})
  --data-dir DIR            volume pool, recycle bin, and the host certificate (tls/) [WHARF_AGENT_DATA_DIR]
                            (default ${DEFAULTS.dataDir})
  --listen HOST:PORT        agent API address, port 0 = any free port [WHARF_AGENT_LISTEN] (default ${DEFAULTS.listen})
  --advertise URL           URL the server uses to reach this agent [WHARF_AGENT_ADVERTISE]
                            (default http://<listen address>, https:// with a host certificate)
  --heartbeat-interval SEC  registration/heartbeat period [WHARF_HEARTBEAT_INTERVAL] (default ${DEFAULTS.heartbeatIntervalSeconds})
  --infra-image IMAGE       image of every set's infra container [WHARF_INFRA_IMAGE] (default ${DEFAULTS.infraImage})
  --cpu-overcommit RATIO    CPU capacity offered to the scheduler = cores × RATIO [WHARF_CPU_OVERCOMMIT]
                            (default ${DEFAULTS.cpuOvercommit}; memory is never overcommitted)
  --disk-overcommit RATIO   disk capacity offered = (pool size − recycle bin) × RATIO [WHARF_DISK_OVERCOMMIT]
                            (default ${DEFAULTS.diskOvercommit}; volume limits are caps on one shared pool:
                            above 1, volumes together may fill the pool, never the host disk)
  --infra-privileged auto|true|false
                            run infra containers privileged [WHARF_INFRA_PRIVILEGED] (default auto:
                            privileged unless this host lacks a capability Docker would need)
  --network NAME=IFACE      this host reaches platform network NAME through uplink IFACE; repeatable
                            [WHARF_NETWORKS=a=eth0,b=eth1]
  --netns PATH              network namespace of the Docker host, where its uplinks are; network
                            commands run there with nsenter --net=PATH [WHARF_NETNS] (default: the agent's own)
  --bandwidth MBIT          uplink capacity, Mbit/s per direction [WHARF_BANDWIDTH]
                            (default: the first uplink's speed, else ${DEFAULTS.bandwidth})
  --volume-driver btrfs|xfs how set volumes are made [WHARF_VOLUME_DRIVER] (default ${DEFAULTS.volumeDriver}):
                            btrfs: a subvolume per volume with a qgroup hard limit, in one pool;
                            xfs: a sparse XFS image per volume (at least 300Mi; grows, never shrinks;
                            no snapshots)
  --pool-size SIZE          size of the btrfs pool's sparse loop file DATA-DIR/pool.img [WHARF_POOL_SIZE]
                            (default ${formatBytes(DEFAULTS.poolSize)}; a larger size grows it at the next start)
  --pool-device DEVICE      put the btrfs pool on this block device instead (formatted only when it
                            holds no filesystem) [WHARF_POOL_DEVICE]
  --trash-retention TIME    how long deleted volumes stay in the recycle bin, e.g. 7d, 12h
                            [WHARF_TRASH_RETENTION] (default 7d)
  --metrics-interval TIME   how often the collector measures containers, sets and the host, e.g. 10s
                            [WHARF_METRICS_INTERVAL] (default ${DEFAULTS.metricsIntervalSeconds}s; at least ${MIN_METRICS_INTERVAL}s)
  --metrics-public          serve GET /metrics (Prometheus) without the join token [WHARF_METRICS_PUBLIC=true]
                            (default: it needs the join token as a bearer token, like the rest of the API,
                            or with a host certificate, the server's client certificate)
  --reporter KIND=URL       also push every collection to a reporter; repeatable [WHARF_REPORTERS=spec,spec]:
                            influx=http://HOST:8086/write?db=wharf, graphite=tcp://HOST:2003?prefix=P,
                            zabbix=tcp://HOST:10051?host=NAME
  --metrics-tag KEY=VALUE   tag the reporters add to every point, besides host and zone; repeatable
                            [WHARF_METRICS_TAGS=k=v,k=v]
  --metrics-include NAME,…  send reporters only these metrics and those below them, e.g.
                            wharf.set,wharf.host.cpu (an entry ending in '.' selects what is below it)
                            [WHARF_METRICS_INCLUDE] (default: all)
  --pull-concurrency N      image pulls at once, on demand and pre-pulls of sets placed here together
                            [WHARF_PULL_CONCURRENCY] (default ${DEFAULTS.pullConcurrency})
  --image-gc-after TIME     remove images of the platform registry (and its mirrors) no container and no
                            set placed here has used for TIME, e.g. 24h [WHARF_IMAGE_GC_AFTER] (default 24h)
  --image-gc-interval TIME  how often the image GC looks [WHARF_IMAGE_GC_INTERVAL] (default 1h)
  --log-level LEVEL         trace|debug|info|warn|error [WHARF_LOG_LEVEL] (default info)
  -h, --help                show this help
  -v, --version             print the version

Stopping the agent (SIGINT/SIGTERM) never stops containers: they keep running and
are re-adopted by their labels when the agent comes back.

Sets with platform IPs sit on Docker macvlan networks on the uplinks (no NAT): their
ports are reached on their IPs, host ports are not published.
`;

export type CliResult = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: AgentConfig; logLevel: string };

function parseLabels(items: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--label must be KEY=VALUE, not "${item}"`);
    labels[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return labels;
}

/** "a,b, c" → ["a", "b", "c"] (empty items dropped). */
function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** "k=v" items → a record. */
function parsePairs(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${flag} must be KEY=VALUE, not "${item}"`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

function envBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, not "${value}"`);
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} must be a positive number of seconds, not "${value}"`);
  return n;
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new ConfigError(`${flag} must be a whole number from 1 to 32, not "${value}"`);
  return n;
}

function ratio(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 100) throw new ConfigError(`${flag} must be a number from 1 to 100, not "${value}"`);
  return n;
}

function privilegeSetting(value: string | undefined): 'auto' | boolean | undefined {
  if (value === undefined || value === 'auto') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`--infra-privileged must be auto, true or false, not "${value}"`);
}

function dockerSocket(flag: string | undefined, dockerHost: string | undefined): string | undefined {
  if (flag) return flag;
  if (!dockerHost) return undefined;
  if (!dockerHost.startsWith('unix://')) throw new ConfigError(`DOCKER_HOST=${dockerHost} is not supported: use unix:///path/to/docker.sock`);
  return dockerHost.slice('unix://'.length);
}

/** Parses argv (without node and the script) and env. Throws ConfigError with a message for people. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliResult {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        'join-token': { type: 'string' },
        'join-token-file': { type: 'string' },
        'cert-renew-before': { type: 'string' },
        name: { type: 'string' },
        zone: { type: 'string' },
        rack: { type: 'string' },
        label: { type: 'string', multiple: true },
        'docker-socket': { type: 'string' },
        'docker-certs-dir': { type: 'string' },
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        advertise: { type: 'string' },
        'heartbeat-interval': { type: 'string' },
        'infra-image': { type: 'string' },
        'infra-privileged': { type: 'string' },
        'cpu-overcommit': { type: 'string' },
        'disk-overcommit': { type: 'string' },
        network: { type: 'string', multiple: true },
        netns: { type: 'string' },
        bandwidth: { type: 'string' },
        'volume-driver': { type: 'string' },
        'pool-size': { type: 'string' },
        'pool-device': { type: 'string' },
        'trash-retention': { type: 'string' },
        'metrics-interval': { type: 'string' },
        'metrics-public': { type: 'boolean' },
        reporter: { type: 'string', multiple: true },
        'metrics-tag': { type: 'string', multiple: true },
        'metrics-include': { type: 'string', multiple: true },
        'pull-concurrency': { type: 'string' },
        'image-gc-after': { type: 'string' },
        'image-gc-interval': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\nRun wharf-agent --help for the options.`);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  let joinToken = values['join-token'] ?? env.WHARF_JOIN_TOKEN;
  if (values['join-token'] === undefined && values['join-token-file'] !== undefined) {
    try {
      joinToken = readFileSync(values['join-token-file'], 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`cannot read --join-token-file: ${(err as Error).message}`);
    }
  }
  const envLabels = (env.WHARF_HOST_LABELS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const envNetworks = (env.WHARF_NETWORKS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const config: AgentConfig = {
    server: values.server ?? env.WHARF_SERVER,
    ...(joinToken ? { joinToken } : {}),
    name: values.name ?? env.WHARF_HOST_NAME,
    zone: values.zone ?? env.WHARF_ZONE,
    rack: values.rack ?? env.WHARF_RACK,
    labels: parseLabels(values.label ?? envLabels),
    dockerSocket: dockerSocket(values['docker-socket'], env.DOCKER_HOST),
    dockerCertsDir: values['docker-certs-dir'] ?? (env.WHARF_DOCKER_CERTS_DIR || undefined),
    dataDir: values['data-dir'] ?? env.WHARF_AGENT_DATA_DIR,
    listen: values.listen ?? env.WHARF_AGENT_LISTEN,
    advertise: values.advertise ?? env.WHARF_AGENT_ADVERTISE,
    heartbeatIntervalSeconds: seconds(values['heartbeat-interval'] ?? env.WHARF_HEARTBEAT_INTERVAL, '--heartbeat-interval'),
    infraImage: values['infra-image'] ?? env.WHARF_INFRA_IMAGE,
    infraPrivileged: privilegeSetting(values['infra-privileged'] ?? env.WHARF_INFRA_PRIVILEGED),
    cpuOvercommit: ratio(values['cpu-overcommit'] ?? env.WHARF_CPU_OVERCOMMIT, '--cpu-overcommit'),
    diskOvercommit: ratio(values['disk-overcommit'] ?? env.WHARF_DISK_OVERCOMMIT, '--disk-overcommit'),
    networks: values.network ? parseNetworks(values.network, '--network') : parseNetworks(envNetworks, 'WHARF_NETWORKS'),
    netns: values.netns ?? (env.WHARF_NETNS || undefined),
    bandwidth: mbit(values.bandwidth ?? env.WHARF_BANDWIDTH, '--bandwidth'),
    volumeDriver: volumeDriver(values['volume-driver'] ?? (env.WHARF_VOLUME_DRIVER || undefined)),
    poolSize: poolSize(values['pool-size'] ?? (env.WHARF_POOL_SIZE || undefined), values['pool-size'] !== undefined ? '--pool-size' : 'WHARF_POOL_SIZE'),
    poolDevice: values['pool-device'] ?? (env.WHARF_POOL_DEVICE || undefined),
    certRenewBeforeSeconds: parseDuration(values['cert-renew-before'] ?? (env.WHARF_CERT_RENEW_BEFORE || undefined), values['cert-renew-before'] !== undefined ? '--cert-renew-before' : 'WHARF_CERT_RENEW_BEFORE'),
    trashRetentionSeconds: parseDuration(values['trash-retention'] ?? (env.WHARF_TRASH_RETENTION || undefined), values['trash-retention'] !== undefined ? '--trash-retention' : 'WHARF_TRASH_RETENTION'),
    metricsIntervalSeconds: parseDuration(values['metrics-interval'] ?? (env.WHARF_METRICS_INTERVAL || undefined), values['metrics-interval'] !== undefined ? '--metrics-interval' : 'WHARF_METRICS_INTERVAL'),
    metricsPublic: values['metrics-public'] ?? envBool(env.WHARF_METRICS_PUBLIC, 'WHARF_METRICS_PUBLIC'),
    reporters: values.reporter ?? list(env.WHARF_REPORTERS),
    metricsTags: parsePairs(values['metrics-tag'] ?? list(env.WHARF_METRICS_TAGS), values['metrics-tag'] !== undefined ? '--metrics-tag' : 'WHARF_METRICS_TAGS'),
    metricsInclude: (values['metrics-include'] ?? [env.WHARF_METRICS_INCLUDE ?? '']).flatMap(list),
    pullConcurrency: count(values['pull-concurrency'] ?? (env.WHARF_PULL_CONCURRENCY || undefined), values['pull-concurrency'] !== undefined ? '--pull-concurrency' : 'WHARF_PULL_CONCURRENCY'),
    imageGcAfterSeconds: parseDuration(values['image-gc-after'] ?? (env.WHARF_IMAGE_GC_AFTER || undefined), values['image-gc-after'] !== undefined ? '--image-gc-after' : 'WHARF_IMAGE_GC_AFTER'),
    imageGcIntervalSeconds: parseDuration(values['image-gc-interval'] ?? (env.WHARF_IMAGE_GC_INTERVAL || undefined), values['image-gc-interval'] !== undefined ? '--image-gc-interval' : 'WHARF_IMAGE_GC_INTERVAL'),
  };
  resolveConfig(config);
  return { kind: 'run', config, logLevel: values['log-level'] ?? env.WHARF_LOG_LEVEL ?? 'info' };
}
