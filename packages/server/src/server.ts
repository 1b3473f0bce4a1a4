/**
 * Wires a running wharf-server: store, tokens, watchers, controllers, HTTP.
 */
import { mkdir } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { openStore as openStoreUrl, parseStoreUrl, type EtcdAccess, type Store } from '@wharf/store';
import { buildApp } from './app.js';
import { bootstrapTokens } from './auth/tokens.js';
import { ensureDefaultTenant } from './state/identity.js';
import { HostChanges } from './state/host-changes.js';
import { PlacementController } from './controllers/placement.js';
import { RolloutController } from './controllers/rollout.js';
import { AppsController } from './controllers/apps.js';
import { loadFromHistory } from './controllers/app-scale.js';
import { HostLifecycleController } from './controllers/host-lifecycle.js';
import { Monitoring } from './metrics/monitoring.js';
import { MetricsPeers } from './metrics/peers.js';
import { CustomMetrics } from './metrics/custom.js';
import { AutoscaleController } from './controllers/autoscale.js';
import type { App } from './api/context.js';
import { Haproxy } from './lb/haproxy.js';
import { LbController } from './lb/controller.js';
import { PlatformRegistry, defaultListen, defaultRealm } from './registry/service.js';
import type { MirrorUpstream } from './registry/mirror.js';
import { parseGcSchedule, type GcSchedule } from './registry/gc-schedule.js';
import { notificationsUrl } from './registry/notifications.js';
import { LeaderLoop } from './leader.js';
import { AuditLog } from './audit/log.js';
import { createOpenExec } from './exec/open.js';
import { SshGateway } from './ssh/gateway.js';
import { loadOrCreateHostKey } from './ssh/host-key.js';
import { ClusterPki } from './tls/cluster-pki.js';
import { listenForAgents, type AgentListener } from './tls/agent-listener.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:PATH` or `etcd://HOST:PORT,…[?prefix=/wharf/]`; default `sqlite:<dataDir>/wharf.db`. */
  store?: string;
  /** TLS and auth for an etcd store. */
  etcd?: EtcdAccess;
  logLevel?: string;
  logger?: Logger;
  /** Seconds a host stays not-ready before its relocatable sets move elsewhere. Default 30. */
  failoverSeconds?: number;
  /** How long the in-memory metrics history keeps points. Default 1 h. */
  metricsRetentionMs?: number;
  /** Serve `GET /metrics` without a token. */
  metricsPublic?: boolean;
  /** Run HAProxy for apps with `lb` (default), or not. */
  lb?: 'haproxy' | 'off';
  /** HAProxy's config and sockets. Default <dataDir>/lb. */
  lbDir?: string;
  /** The haproxy binary. Default `haproxy` on the PATH. */
  haproxyPath?: string;
  /** Run the platform registry (CNCF Distribution) beside the server. Default off. */
  registry?: 'local' | 'off';
  /** HOST:PORT of the registry in image names and its certificate. Default 127.0.0.1:5000. */
  registryAddr?: string;
  /** HOST:PORT the registry listens on. Default <host>:<port of registryAddr>. */
  registryListen?: string;
  /** The token URL clients are sent to. Default http://<host of registryAddr>:<port>/v1/registry/token. */
  registryRealm?: string;
  /** More host names and IPs for the registry's certificate. */
  registrySans?: string[];
  /** The docker-registry binary. Default `docker-registry` on the PATH. */
  dockerRegistryPath?: string;
  /** Upstream registries to run pull-through mirrors of, beside the registry (needs `registry: 'local'`). */
  registryMirrors?: MirrorUpstream[];
  /** When the registry's garbage is collected. Default daily at 03:00 (DEFAULT_REGISTRY_GC). */
  registryGc?: GcSchedule;
  /** This server's name among the servers sharing the store (default `<hostname>:<port>`). */
  name?: string;
  /** Where the other servers sharing the store reach this one's API (metrics relay). Default: the listen address, or the host name for a wildcard. */
  advertiseUrl?: string;
  /** The leader's lease on etcd, in seconds: how soon another server takes over when it dies (default 5). */
  leaseSeconds?: number;
  /** Where the SSH gateway listens (port 0: a free one); absent: no gateway. wharf-server's default is <host>:2222. */
  ssh?: { host: string; port: number };
  /**
   * The agents' TLS listener (port 0: a free one): one-use joins and agents with certificates
   * (mutual TLS); the cluster CA in <dataDir>/cluster-ca. Absent: none (agents use the join token).
   */
  agentTls?: {
    host: string;
    port: number;
    /** More names and IPs for its certificate. */
    sans?: string[];
    /** How long host certificates last (default LEAF_DAYS). */
    hostCertDays?: number;
  };
}

export const DEFAULT_REGISTRY_ADDR = '127.0.0.1:5000';
export const DEFAULT_REGISTRY_GC = '03:00';

export interface RunningServer {
  url: string;
  app: App;
  store: Store;
  tokens: { admin: string; join: string };
  /** The SSH gateway's port, when it runs. */
  sshPort?: number;
  /** The agents' TLS listener, when it runs. */
  agentTlsUrl?: string;
  close(): Promise<void>;
}

/** Secrets never logged: bearer tokens, join tokens, keys. */
const LOG_REDACT = ['req.headers.authorization', '*.token', '*.joinToken', '*.password', '*.key', '*.privateKey'];

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The names and IPs agents may reach this server by: the listen address (every interface's for a wildcard), loopback, the host name. */
export function agentTlsNames(host: string, extra: string[] = []): string[] {
  const addresses = isWildcard(host) ? Object.values(networkInterfaces()).flat().flatMap((i) => (i ? [i.address.replace(/%.*$/, '')] : [])) : [host];
  return [...addresses, '127.0.0.1', 'localhost', hostname(), ...extra];
}

/** Opens the store of a `--store` URL (see @wharf/store's openStore); its background problems go to `logger`. */
export function openStore(url: string, logger: Logger, etcd?: EtcdAccess): Promise<Store> {
  return openStoreUrl(url, { ...(etcd ? { etcd } : {}), log: (message) => logger.warn({ component: 'store' }, message) });
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger = config.logger ?? pino({ level: config.logLevel ?? 'info', redact: LOG_REDACT });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const storeUrl = config.store ?? `sqlite:${config.dataDir}/wharf.db`;
  const store = await openStore(storeUrl, logger, config.etcd);
  const tokens = await bootstrapTokens(store, config.dataDir);
  await ensureDefaultTenant(store);
  const hostChanges = new HostChanges(store);
  await hostChanges.start();
  const monitoring = await Monitoring.start(store, {
    ...(config.metricsRetentionMs !== undefined ? { retentionMs: config.metricsRetentionMs } : {}),
    metricsPublic: config.metricsPublic ?? false,
  });
  const { telemetry } = monitoring;
  const customMetrics = new CustomMetrics();
  // Only servers on etcd can share a store: one on SQLite has no peers to relay metrics to.
  const peers = parseStoreUrl(storeUrl).kind === 'etcd' ? new MetricsPeers(store, tokens.admin, logger.child({ component: 'peers' })) : undefined;
  const lb = config.lb === 'off'
    ? undefined
    : new LbController(store, new Haproxy({ binary: config.haproxyPath ?? 'haproxy', dir: config.lbDir ?? join(config.dataDir, 'lb') }, logger.child({ component: 'haproxy' })), logger.child({ component: 'lb' }));
  const registryAddr = config.registryAddr ?? DEFAULT_REGISTRY_ADDR;
  const registry = config.registry === 'local'
    ? await PlatformRegistry.prepare({
      dir: join(config.dataDir, 'registry'),
      address: registryAddr,
      listen: config.registryListen ?? defaultListen(config.host, registryAddr),
      binary: config.dockerRegistryPath ?? 'docker-registry',
      ...(config.registrySans ? { sans: config.registrySans } : {}),
      ...(config.registryMirrors ? { mirrors: config.registryMirrors } : {}),
      gc: config.registryGc ?? parseGcSchedule(DEFAULT_REGISTRY_GC),
    }, logger.child({ component: 'registry' }))
    : undefined;
  const leadership: { loop?: LeaderLoop } = {};
  const leaderStatus = async () => leadership.loop?.status() ?? { server: '', leading: false };
  const cluster = config.agentTls
    ? await ClusterPki.prepare(join(config.dataDir, 'cluster-ca'), agentTlsNames(config.agentTls.host, config.agentTls.sans), store, { hostCertDays: config.agentTls.hostCertDays })
    : undefined;
  if (cluster?.issued.length) logger.info({ issued: cluster.issued, dir: join(config.dataDir, 'cluster-ca') }, 'cluster certificates made');
  const app = await buildApp({
    store, hostChanges, joinToken: tokens.join, monitoring, customMetrics, ...(peers ? { peers } : {}), leaderStatus, ...(lb ? { lb } : {}), ...(registry ? { registry } : {}), ...(cluster ? { cluster } : {}),
  }, logger);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = httpUrl(config.host, port);
  const name = config.name ?? `${hostname()}:${port}`;
  const advertiseUrl = config.advertiseUrl ?? (isWildcard(config.host) ? httpUrl(hostname(), port) : url);
  const opened: { agentListener?: AgentListener } = {};
  const abort = async (err: unknown): Promise<never> => {
    await opened.agentListener?.close();
    await registry?.stop();
    await peers?.stop();
    await app.close();
    hostChanges.stop();
    monitoring.stop();
    await store.close();
    throw err;
  };
  await peers?.start({ name, url: advertiseUrl, startedAt: new Date().toISOString() }).catch(abort);
  // The registry sends clients to this server for tokens, so it starts once the server listens.
  await registry?.start(config.registryRealm ?? defaultRealm(registryAddr, port), { notifications: notificationsUrl(config.host, port), store }).catch(abort);
  if (!registry) logger.info('platform registry off (wharf-server --registry local runs it)');
  const agentListener = cluster && config.agentTls ? await listenForAgents(app, cluster, config.agentTls.host, config.agentTls.port).catch(abort) : undefined;
  if (agentListener) opened.agentListener = agentListener;
  if (agentListener) logger.info({ url: agentListener.url, caFingerprint: cluster?.fingerprint }, 'agents\' TLS listener up (one-use joins, host certificates)');
  const sshListen = config.ssh;
  const ssh = sshListen
    ? await loadOrCreateHostKey(config.dataDir).then((hostKey) => SshGateway.start({
      store, openExec: createOpenExec(store, tokens.join, cluster?.server), hostKey, audit: new AuditLog(store, logger), log: logger.child({ component: 'ssh' }), ...sshListen,
    })).catch(abort)
    : undefined;
  if (!ssh) logger.info('SSH gateway off (wharf-server --ssh-listen HOST:PORT runs it)');
  await lb?.start();
  // Every server serves the API; the controllers run on the leader only (leader.ts), made anew each time it is elected.
  let controllers: { stop(): void } | undefined;
  const startControllers = async (store: Store): Promise<void> => {
    const placement = new PlacementController(store, logger.child({ component: 'placement' }), undefined, telemetry.observePlacementPass);
    const rollouts = new RolloutController(store, logger.child({ component: 'rollouts' }), undefined, telemetry.observeRolloutPass);
    const apps = new AppsController(store, logger.child({ component: 'apps' }), { loadOf: loadFromHistory(monitoring.history) });
    const autoscaler = new AutoscaleController(store, logger.child({ component: 'autoscale' }), { history: monitoring.history, custom: customMetrics });
    await placement.start();
    await rollouts.start();
    await apps.start();
    await autoscaler.start();
    const lifecycle = new HostLifecycleController(store, logger.child({ component: 'host-lifecycle' }), {
      failoverMs: (config.failoverSeconds ?? 30) * 1000,
    });
    controllers = {
      stop: () => {
        placement.stop();
        rollouts.stop();
        apps.stop();
        autoscaler.stop();
        lifecycle.stop();
      },
    };
  };
  const leader = new LeaderLoop(store, name, {
    start: startControllers,
    stop: () => {
      controllers?.stop();
      controllers = undefined;
    },
  }, logger.child({ component: 'leader' }), config.leaseSeconds);
  leadership.loop = leader;
  leader.run();
  logger.info({ url, advertiseUrl, dataDir: config.dataDir, name: leader.candidate }, 'wharf-server listening');
  return {
    url,
    app,
    store,
    tokens,
    ...(ssh ? { sshPort: ssh.port } : {}),
    ...(agentListener ? { agentTlsUrl: agentListener.url } : {}),
    async close() {
      await ssh?.close();
      await agentListener?.close();
      await leader.close();
      await peers?.stop();
      await lb?.stop();
      await registry?.stop();
      hostChanges.stop();
      monitoring.stop();
      await app.close();
      await store.close();
    },
  };
}
