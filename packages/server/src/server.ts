/**
 * Wires a running wharf-server: store, tokens, watchers, controllers, HTTP.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { openStore as openStoreUrl, type EtcdAccess, type Store } from '@wharf/store';
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
import { CustomMetrics } from './metrics/custom.js';
import { AutoscaleController } from './controllers/autoscale.js';
import type { App } from './api/context.js';
import { Haproxy } from './lb/haproxy.js';
import { LbController } from './lb/controller.js';
import { PlatformRegistry, defaultListen, defaultRealm } from './registry/service.js';
import type { MirrorUpstream } from './registry/mirror.js';
import { parseGcSchedule, type GcSchedule } from './registry/gc-schedule.js';
import { notificationsUrl } from './registry/notifications.js';

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
}

export const DEFAULT_REGISTRY_ADDR = '127.0.0.1:5000';
export const DEFAULT_REGISTRY_GC = '03:00';

export interface RunningServer {
  url: string;
  app: App;
  store: Store;
  tokens: { admin: string; join: string };
  close(): Promise<void>;
}

/** Opens the store of a `--store` URL (see @wharf/store's openStore); its background problems go to `logger`. */
export function openStore(url: string, logger: Logger, etcd?: EtcdAccess): Promise<Store> {
  return openStoreUrl(url, { ...(etcd ? { etcd } : {}), log: (message) => logger.warn({ component: 'store' }, message) });
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger = config.logger ?? pino({ level: config.logLevel ?? 'info', redact: ['req.headers.authorization', '*.token', '*.joinToken'] });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(config.store ?? `sqlite:${config.dataDir}/wharf.db`, logger, config.etcd);
  const tokens = await bootstrapTokens(store, config.dataDir);
  await ensureDefaultTenant(store);
  const hostChanges = new HostChanges(store);
  await hostChanges.start();
  const monitoring = await Monitoring.start(store, {
    ...(config.metricsRetentionMs !== undefined ? { retentionMs: config.metricsRetentionMs } : {}),
    metricsPublic: config.metricsPublic ?? false,
  });
  const { telemetry } = monitoring;
  const placement = new PlacementController(store, logger.child({ component: 'placement' }), undefined, telemetry.observePlacementPass);
  const rollouts = new RolloutController(store, logger.child({ component: 'rollouts' }), undefined, telemetry.observeRolloutPass);
  const customMetrics = new CustomMetrics();
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
  const app = await buildApp({ store, hostChanges, joinToken: tokens.join, monitoring, customMetrics, ...(lb ? { lb } : {}), ...(registry ? { registry } : {}) }, logger);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // The registry sends clients to this server for tokens, so it starts once the server listens.
  await registry?.start(config.registryRealm ?? defaultRealm(registryAddr, port), { notifications: notificationsUrl(config.host, port), store }).catch(async (err: unknown) => {
    await app.close();
    hostChanges.stop();
    monitoring.stop();
    await store.close();
    throw err;
  });
  if (!registry) logger.info('platform registry off (wharf-server --registry local runs it)');
  await placement.start();
  await rollouts.start();
  const apps = new AppsController(store, logger.child({ component: 'apps' }), { loadOf: loadFromHistory(monitoring.history) });
  await apps.start();
  const autoscaler = new AutoscaleController(store, logger.child({ component: 'autoscale' }), { history: monitoring.history, custom: customMetrics });
  await autoscaler.start();
  await lb?.start();
  const lifecycle = new HostLifecycleController(store, logger.child({ component: 'host-lifecycle' }), {
    failoverMs: (config.failoverSeconds ?? 30) * 1000,
  });
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, dataDir: config.dataDir }, 'wharf-server listening');
  return {
    url,
    app,
    store,
    tokens,
    async close() {
      placement.stop();
      rollouts.stop();
      apps.stop();
      autoscaler.stop();
      await lb?.stop();
      await registry?.stop();
      lifecycle.stop();
      hostChanges.stop();
      monitoring.stop();
      await app.close();
      await store.close();
    },
  };
}
