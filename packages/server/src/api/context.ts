import type { LoginLimiter } from '../auth/login-limiter.js';
import type { AuditLog } from '../audit/log.js';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '@wharf/store';
import type { HostChanges } from '../state/host-changes.js';
import type { Monitoring } from '../metrics/monitoring.js';
import type { CustomMetrics } from '../metrics/custom.js';
import type { MetricsPeers } from '../metrics/peers.js';
import type { LbSlot, RegistryInfo } from '@wharf/types';
import type { RegistryTokenService } from '../registry/token-service.js';
import type { ImageRegistrySource } from '../registry/service.js';
import type { ClusterPki } from '../tls/cluster-pki.js';
import type { Agents } from '../agents.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What route modules need; passed explicitly, no singletons. */
export interface ApiContext {
  store: Store;
  hostChanges: HostChanges;
  /** The join token, which the server also presents to agents (logs). */
  joinToken: string;
  /** The cluster CA and this server's certificate: one-use joins, and TLS to agents that joined; absent without --agent-tls-listen. */
  cluster?: ClusterPki;
  /** The metrics history and Wharf's own metrics; buildApp makes one when not given. */
  monitoring?: Monitoring;
  /** Custom app metrics pushed for the autoscaler; buildApp makes one when not given. */
  customMetrics?: CustomMetrics;
  /** The other servers of the store, to which received metrics are passed on; absent: none (tests). */
  peers?: MetricsPeers;
  /** The load balancer's view of HAProxy; absent when it is off. */
  lb?: LbSource;
  /** The platform registry (its token issuer and CA); absent when it is off. */
  registry?: RegistrySource;
  /** How long audit records are kept (default 90 days). */
  auditRetentionMs?: number;
  /** The web console's build (index.html, assets/); default WHARF_CONSOLE_DIR, else packages/console/dist. */
  consoleDir?: string;
  /** Which server leads (runs the controllers); absent: this one alone, as in tests. */
  leaderStatus?: () => Promise<LeaderStatus>;
}

export interface LeaderStatus {
  /** This server's name. */
  server: string;
  leading: boolean;
  /** The leading server's name, when one leads. */
  leader?: string;
  /** Since when this server leads. */
  since?: string;
}

/** The context the routes get: buildApp fills in what the caller left out. */
export type RouteContext = ApiContext & Required<Pick<ApiContext, 'monitoring' | 'customMetrics'>> & {
  /** Failed password logins, shared by /v1/login and the registry's Basic credentials. */
  loginLimiter: LoginLimiter;
  audit: AuditLog;
  /** Calls to the hosts' agents, with the join token or, to hosts that joined, the cluster certificate. */
  agents: Agents;
};

/** What the load balancer reports for an app (served by GET /v1/apps/{appkey}/lb). */
export interface LbSource {
  describe(tenant: string, appkey: string): Promise<{ backend: string; slots: LbSlot[] } | undefined>;
}

/** The platform registry as the routes see it (registry/service.ts). */
export interface RegistrySource extends ImageRegistrySource {
  info(): RegistryInfo;
  readonly caPem: string;
  readonly tokens: RegistryTokenService;
}
