/**
 * The objects Wharf stores and serves. TypeBox schemas give both the TypeScript
 * types and the OpenAPI document.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SetSpec } from './set-spec.js';
import { AddressGroups, HostNetwork, NetworkAttachment, SetFirewall, SetIp } from './network.js';
import { VolumePool, VolumeUsage } from './volume.js';
import { LastTermination } from './probe.js';
import { MetricsReport } from './metrics.js';

export const DEFAULT_TENANT = 'default';

export const DesiredState = Type.Union([Type.Literal('running'), Type.Literal('stopped')]);
export type DesiredState = Static<typeof DesiredState>;

/** Desired state of a set, written by the API, read by the scheduler and the agent. */
export const SetObject = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  spec: SetSpec,
  /** Increases whenever the spec changes. */
  generation: Type.Integer(),
  desired: DesiredState,
  /** Containers that started before this instant are restarted (a level-triggered restart). */
  restartRequestedAt: Type.Optional(Type.String()),
  /** The host the scheduler placed the set on. */
  host: Type.Optional(Type.String()),
  /** The host the set was moved away from (drain or host failure), until it runs again. */
  movedFrom: Type.Optional(Type.String()),
  /** Set by delete: the agent removes the containers, then the server forgets the set. */
  deleting: Type.Optional(Type.Boolean()),
  /** Set by the apps controller on scale-in: out of the endpoints now, deleted after the app's drainSeconds. */
  draining: Type.Optional(Type.String({ description: 'ISO time the set started draining' })),
  /** Set by a rollout on a serving set of an app before it changes a container: out of the endpoints for the app's drainSeconds; cleared when the change is written (the set is back once ready). */
  outOfRotation: Type.Optional(Type.String({ description: 'ISO time a rollout took the set out of the endpoints' })),
  /** Platform IPs the IPAM gave the set (primary first); they stay with it across restarts and moves. */
  ips: Type.Optional(Type.Array(SetIp)),
  /**
   * Set by the apps controller on a set of an app's warm pool: its containers are
   * created, started and then paused; it takes no traffic and does not count toward
   * replicas. A scale-out clears it, and the set resumes in milliseconds.
   */
  standby: Type.Optional(Type.Boolean()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type SetObject = Static<typeof SetObject>;

export const SetPhase = Type.Union([
  Type.Literal('pending'), Type.Literal('starting'), Type.Literal('running'), Type.Literal('degraded'),
  Type.Literal('stopping'), Type.Literal('stopped'), Type.Literal('failed'), Type.Literal('deleting'),
  Type.Literal('standby'),
]);
export type SetPhase = Static<typeof SetPhase>;

export const ContainerState = Type.Union([
  Type.Literal('missing'), Type.Literal('created'), Type.Literal('running'), Type.Literal('restarting'),
  Type.Literal('paused'), Type.Literal('exited'), Type.Literal('dead'), Type.Literal('removing'),
]);
export type ContainerState = Static<typeof ContainerState>;

export const ContainerStatus = Type.Object({
  name: Type.String(),
  role: Type.Union([Type.Literal('infra'), Type.Literal('business')]),
  index: Type.Integer(),
  image: Type.String(),
  state: ContainerState,
  containerId: Type.Optional(Type.String()),
  exitCode: Type.Optional(Type.Integer()),
  oomKilled: Type.Optional(Type.Boolean()),
  restartCount: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
  nanoCpus: Type.Optional(Type.Integer()),
  memory: Type.Optional(Type.Integer()),
  /** Readiness: running and (when it has one) passing its readiness probe. */
  ready: Type.Optional(Type.Boolean()),
  /** The liveness probe's verdict while it has one: false after failureThreshold failures in a row. */
  healthy: Type.Optional(Type.Boolean()),
  /** Why it last stopped running (exit code, OOM kill, failed liveness probe). */
  lastTermination: Type.Optional(LastTermination),
  /** When the agent will start it again (back-off after a crash). */
  backOffUntil: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
export type ContainerStatus = Static<typeof ContainerStatus>;

export const SetEvent = Type.Object({
  time: Type.String(),
  type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')]),
  reason: Type.String(),
  message: Type.String(),
  host: Type.Optional(Type.String()),
});
export type SetEvent = Static<typeof SetEvent>;

/** Actual state of a set as its host's agent last reported it. */
export const SetStatus = Type.Object({
  phase: SetPhase,
  observedGeneration: Type.Integer(),
  host: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  /** Host path of the set's volume. */
  volumePath: Type.Optional(Type.String()),
  containers: Type.Array(ContainerStatus),
  /** Every container of the set is ready. */
  ready: Type.Optional(Type.Boolean()),
  updatedAt: Type.String(),
});
export type SetStatus = Static<typeof SetStatus>;

/** What the API serves for a set: desired and actual state side by side. */
export const SetView = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  generation: Type.Integer(),
  observedGeneration: Type.Integer(),
  desired: DesiredState,
  status: SetPhase,
  /** Running at the current generation with every container ready. */
  ready: Type.Boolean(),
  message: Type.Optional(Type.String()),
  host: Type.Optional(Type.String()),
  resources: Type.Object({ cpu: Type.Number(), memory: Type.Integer(), disk: Type.Integer() }),
  /** Platform IPs, primary first. */
  ips: Type.Array(SetIp),
  containers: Type.Array(ContainerStatus),
  spec: SetSpec,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type SetView = Static<typeof SetView>;

export const HostCapacity = Type.Object({
  cpu: Type.Number({ description: 'CPU cores' }),
  memory: Type.Integer({ description: 'bytes' }),
  disk: Type.Integer({ description: 'bytes of the volume pool' }),
  bandwidth: Type.Optional(Type.Number({ description: 'uplink Mbit/s per direction (sets reserve the larger of their egress and ingress limits)' })),
});
export type HostCapacity = Static<typeof HostCapacity>;

/** What an agent says about its host when it registers and on every heartbeat. */
export const HostRegistration = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$' }),
  zone: Type.String(),
  rack: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  capacity: HostCapacity,
  /** Where the server reaches the agent (logs, exec). */
  /** What is actually in use on the host (not what is reserved): CPU cores busy (1-minute load), memory and pool bytes used. */
  used: Type.Optional(HostCapacity),
  agentUrl: Type.String(),
  agentVersion: Type.String(),
  dockerVersion: Type.String(),
  images: Type.Optional(Type.Array(Type.String())),
  /** Platform networks the host reaches, and through which uplink. */
  networks: Type.Optional(Type.Array(HostNetwork)),
  /** The volume pool (its size is capacity.disk less the recycle bin). */
  pool: Type.Optional(VolumePool),
  /** Usage of every set volume on the host. */
  volumes: Type.Optional(Type.Array(VolumeUsage)),
  /** The collector's newest figures, when they are new since the last heartbeat. */
  metrics: Type.Optional(MetricsReport),
});
export type HostRegistration = Static<typeof HostRegistration>;

export const HostState = Type.Union([Type.Literal('ready'), Type.Literal('not-ready'), Type.Literal('cordoned'), Type.Literal('draining')]);
export type HostState = Static<typeof HostState>;

export const Host = Type.Composite([
  HostRegistration,
  Type.Object({
    state: HostState,
    cordoned: Type.Boolean(),
    /** Set by drain: its sets without a volume are moved elsewhere, one at a time. */
    draining: Type.Boolean(),
    /** While draining: sets still on the host, sets that left but do not run elsewhere yet, and those that cannot move (local volume); when the drain began and how many sets the host held then. */
    drain: Type.Optional(Type.Object({
      remaining: Type.Integer(),
      moving: Type.Integer(),
      blocked: Type.Array(Type.String()),
      startedAt: Type.Optional(Type.String()),
      total: Type.Optional(Type.Integer()),
    })),
    lastHeartbeat: Type.String(),
    registeredAt: Type.String(),
    allocated: HostCapacity,
    sets: Type.Integer(),
    /** Networks in effect: `wharf host set` overrides, else what the agent declares. */
    networks: Type.Array(HostNetwork),
    /** Set by `wharf host set`; they win over the agent's own values. */
    overrides: Type.Optional(Type.Object({ networks: Type.Optional(Type.Array(HostNetwork)), bandwidth: Type.Optional(Type.Number()) })),
  }),
]);
export type Host = Static<typeof Host>;

/** The agent's long-poll answer: every set placed on the host, at a store revision. */
export const DesiredSets = Type.Object({
  revision: Type.Integer(),
  sets: Type.Array(SetObject),
  /** The platform networks this host attaches sets to, with its uplink for each. */
  networks: Type.Optional(Type.Array(NetworkAttachment)),
  /** Per set (by `tenant/appkey/id`) with platform IPs: the traffic it accepts. */
  firewall: Type.Optional(Type.Record(Type.String(), SetFirewall)),
  /** The address groups the firewall rules name (a tenant's sets, an app's), each sent once. */
  addressGroups: Type.Optional(AddressGroups),
  /**
   * SHA-256 (lowercase hex) of host certificates revoked before they expire: a removed
   * host's, one revoked by an admin, one a re-join or a renewal replaced. The agent
   * refuses them as callers (another host pulling a volume export).
   */
  revokedCertificates: Type.Optional(Type.Array(Type.String())),
});
export type DesiredSets = Static<typeof DesiredSets>;

/** One set in an agent's status report. `deleted` confirms a deleting set is gone from the host. */
export const SetReport = Type.Object({
  tenant: Type.String(),
  appkey: Type.String(),
  id: Type.String(),
  deleted: Type.Optional(Type.Boolean()),
  status: Type.Optional(Type.Omit(SetStatus, ['updatedAt'])),
  events: Type.Optional(Type.Array(SetEvent)),
});
export type SetReport = Static<typeof SetReport>;

export const StatusReport = Type.Object({
  sets: Type.Array(SetReport),
});
export type StatusReport = Static<typeof StatusReport>;

/** `tenant/appkey/id`: the identity of a set. */
export function setRef(s: { tenant: string; appkey: string; id: string }): string {
  return `${s.tenant}/${s.appkey}/${s.id}`;
}
