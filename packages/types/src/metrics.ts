/**
 * Metrics: what each host's collector measures (from cgroups and /proc, never the
 * Docker stats API), in the compact form agents send with heartbeats and the
 * server keeps as a short history. Counters arrive as per-second rates over the
 * last collection interval; gauges as their current value.
 */
import { Type, type Static } from '@sinclair/typebox';
import { APPKEY_PATTERN, METRIC_NAME_PATTERN, TENANT_PATTERN } from './patterns.js';

const Rate = (what: string) => Type.Number({ minimum: 0, description: `${what} per second over the last interval` });
const Bytes = (what: string) => Type.Number({ minimum: 0, description: `${what}, bytes` });

/** One container, or a whole set (the sum of its containers; limits summed too). */
export const ResourceSample = Type.Object({
  cpu: Type.Number({ minimum: 0, description: 'CPU cores used' }),
  cpuLimit: Type.Optional(Type.Number({ description: 'CPU cores allowed (NanoCpus / 1e9); absent when unlimited' })),
  cpuThrottledPeriods: Type.Optional(Rate('CFS periods throttled')),
  cpuThrottledSeconds: Type.Optional(Rate('seconds throttled')),
  memory: Bytes('memory in use (usage less inactive page cache)'),
  memoryRss: Type.Optional(Bytes('anonymous memory')),
  memoryCache: Type.Optional(Bytes('page cache')),
  memoryLimit: Type.Optional(Bytes('memory limit')),
  memoryFailcnt: Type.Optional(Type.Integer({ minimum: 0, description: 'times the limit was hit (cgroup v1 failcnt; v2 memory.events max)' })),
  oomKills: Type.Optional(Type.Integer({ minimum: 0, description: 'OOM kills since the container started' })),
  rxBytes: Type.Optional(Rate('bytes received')),
  txBytes: Type.Optional(Rate('bytes sent')),
  rxPackets: Type.Optional(Rate('packets received')),
  txPackets: Type.Optional(Rate('packets sent')),
  rxErrors: Type.Optional(Rate('receive errors')),
  txErrors: Type.Optional(Rate('transmit errors')),
  rxDropped: Type.Optional(Rate('received packets dropped')),
  txDropped: Type.Optional(Rate('sent packets dropped')),
  readBytes: Type.Optional(Rate('bytes read from block devices')),
  writeBytes: Type.Optional(Rate('bytes written to block devices')),
  readOps: Type.Optional(Rate('block reads')),
  writeOps: Type.Optional(Rate('block writes')),
  pids: Type.Optional(Type.Integer({ minimum: 0, description: 'processes and threads' })),
});
export type ResourceSample = Static<typeof ResourceSample>;

/** A set at one instant: the set's sum, each container, and its volume. */
export const SetMetrics = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  time: Type.String({ description: 'When it was collected (ISO 8601)' }),
  set: ResourceSample,
  /** By container name (business containers; the infra container's network counters are the set's). */
  containers: Type.Record(Type.String(), ResourceSample),
  volumeUsed: Type.Optional(Type.Integer({ minimum: 0 })),
  volumeQuota: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type SetMetrics = Static<typeof SetMetrics>;

export const UplinkSample = Type.Object({
  name: Type.String(),
  rxBytes: Rate('bytes received'),
  txBytes: Rate('bytes sent'),
  rxPackets: Rate('packets received'),
  txPackets: Rate('packets sent'),
});
export type UplinkSample = Static<typeof UplinkSample>;

/** A host at one instant. */
export const HostMetrics = Type.Object({
  time: Type.String(),
  cpu: Type.Number({ minimum: 0, description: 'CPU cores busy' }),
  cpus: Type.Integer({ minimum: 1, description: 'CPU cores of the host' }),
  memory: Bytes('memory in use (total less available)'),
  memoryTotal: Bytes('memory of the host'),
  load1: Type.Number(),
  load5: Type.Number(),
  load15: Type.Number(),
  poolUsed: Type.Optional(Bytes('volume pool used')),
  poolSize: Type.Optional(Bytes('volume pool size')),
  uplinks: Type.Array(UplinkSample),
  containers: Type.Integer({ minimum: 0, description: 'containers the collector measured' }),
  /** How long the last collection took, wall clock and CPU time of the agent. */
  collectMs: Type.Optional(Type.Number({ minimum: 0 })),
  collectCpuMs: Type.Optional(Type.Number({ minimum: 0 })),
});
export type HostMetrics = Static<typeof HostMetrics>;

/** What a heartbeat carries: the newest collection, when there is one not sent yet. */
export const MetricsReport = Type.Object({
  host: HostMetrics,
  sets: Type.Array(SetMetrics),
});
export type MetricsReport = Static<typeof MetricsReport>;

/** One point of a set's history (`GET /v1/sets/{appkey}/{id}/metrics`). */
export const SetMetricsPoint = Type.Omit(SetMetrics, ['tenant', 'appkey', 'id']);
export type SetMetricsPoint = Static<typeof SetMetricsPoint>;

export const SetMetricsHistory = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  host: Type.Optional(Type.String()),
  /** Seconds between points, as the agent collects them. */
  intervalSeconds: Type.Optional(Type.Number()),
  points: Type.Array(SetMetricsPoint),
});
export type SetMetricsHistory = Static<typeof SetMetricsHistory>;

export const HostMetricsHistory = Type.Object({
  host: Type.String(),
  intervalSeconds: Type.Optional(Type.Number()),
  points: Type.Array(HostMetrics),
});
export type HostMetricsHistory = Static<typeof HostMetricsHistory>;

/** One row of `wharf top sets`: the newest point of each set. */
export const SetTop = Type.Composite([Type.Object({ tenant: Type.String(), appkey: Type.String(), id: Type.String(), host: Type.Optional(Type.String()) }), SetMetricsPoint]);
export type SetTop = Static<typeof SetTop>;

/**
 * What one server passes on to the other servers sharing its store
 * (`POST /v1/relay/metrics`): the reports its agents' heartbeats brought and the
 * custom metrics pushed to it, so that every server holds the whole history.
 */
export const RelayedMetrics = Type.Object({
  /** The sending server's name. */
  from: Type.String({ minLength: 1, maxLength: 256 }),
  hosts: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }), report: MetricsReport }, { additionalProperties: false }), { maxItems: 10_000 }),
  custom: Type.Array(Type.Object({
    tenant: Type.String({ pattern: TENANT_PATTERN }),
    appkey: Type.String({ pattern: APPKEY_PATTERN }),
    name: Type.String({ pattern: METRIC_NAME_PATTERN }),
    value: Type.Number({ minimum: 0 }),
    /** Milliseconds since the epoch. */
    at: Type.Integer({ minimum: 0 }),
  }, { additionalProperties: false }), { maxItems: 100_000 }),
}, { additionalProperties: false });
export type RelayedMetrics = Static<typeof RelayedMetrics>;
