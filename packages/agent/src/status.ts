/** Phase and container status of a set, derived from what Docker reports and the probes say. */
import type { ContainerStatus, LastTermination, SetPhase } from '@wharf/types';
import type { ObservedContainer } from './docker/engine.js';
import type { HealthVerdict } from './health/prober.js';
import type { PlannedContainer, Mode } from './plan.js';

export interface PhaseInput {
  mode: Mode;
  containers: (Pick<ContainerStatus, 'name' | 'state' | 'exitCode'> & Partial<Pick<ContainerStatus, 'role'>>)[];
  /** The reconcile is still bringing containers up or down. */
  inProgress: boolean;
  /** The reconcile stopped on an error that needs a change (missing image, bad config). */
  failed: boolean;
}

/**
 * The phase follows the containers' states only: a running container that is not
 * ready (readiness) or not healthy (liveness) shows in `ready` and `healthy`.
 */
export function derivePhase(p: PhaseInput): SetPhase {
  if (p.mode === 'deleting') return 'deleting';
  if (p.mode === 'stopped') {
    if (p.failed) return 'failed';
    return p.containers.some((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused') ? 'stopping' : 'stopped';
  }
  if (p.failed) return 'failed';
  if (p.inProgress) return 'starting';
  if (p.mode === 'standby') {
    // Infra running, every business container paused: ready to resume.
    const business = p.containers.filter((c) => c.role !== 'infra');
    return business.length > 0 && business.every((c) => c.state === 'paused') && p.containers.every((c) => c.state === 'paused' || c.state === 'running') ? 'standby' : 'degraded';
  }
  return p.containers.length > 0 && p.containers.every((c) => c.state === 'running') ? 'running' : 'degraded';
}

/**
 * Why a set desired running is not all up: the containers' own messages ("back-off
 * 8s restarting failed container web"), else "web is exited (exit code 1)".
 */
export function degradedMessage(containers: Pick<ContainerStatus, 'name' | 'state' | 'exitCode' | 'message'>[]): string | undefined {
  const down = containers
    .filter((c) => c.state !== 'running')
    .map((c) => c.message ?? `${c.name} is ${c.state}${c.state === 'exited' && c.exitCode !== undefined ? ` (exit code ${c.exitCode})` : ''}`);
  return down.length > 0 ? down.join('; ') : undefined;
}

/** What the agent knows about a container beyond Docker: its probes and its restart record. */
export interface ContainerHealth {
  /** Which probes it has. */
  liveness?: boolean;
  readiness?: boolean;
  /** The probes' current word on this run of it (undefined: no result yet). */
  verdict?: HealthVerdict;
  /** Restarts the agent made. */
  restarts?: number;
  lastTermination?: LastTermination;
  /** ISO time; only while it waits for a restart. */
  backOffUntil?: string;
}

/**
 * `ready` and `healthy` of a container: only a running one is ready, once its readiness
 * probe (if any) passes; `healthy` only for a running one with a liveness probe (true until it fails).
 */
function probeVerdict(running: boolean, probes: Pick<ContainerHealth, 'liveness' | 'readiness'>, v: HealthVerdict | undefined): Pick<ContainerStatus, 'ready' | 'healthy'> {
  return {
    ready: running && (!probes.readiness || v?.ready === true),
    ...(running && probes.liveness ? { healthy: v?.healthy ?? true } : {}),
  };
}

export function containerStatus(d: Pick<PlannedContainer, 'name' | 'role' | 'index' | 'image'>, o: ObservedContainer | undefined, message?: string, health: ContainerHealth = {}): ContainerStatus {
  const msg = message ?? o?.error;
  const extra = {
    ...(health.lastTermination ? { lastTermination: health.lastTermination } : {}),
    ...(health.backOffUntil && o?.state !== 'running' ? { backOffUntil: health.backOffUntil } : {}),
  };
  if (!o) return { name: d.name, role: d.role, index: d.index, image: d.image, state: 'missing', restartCount: health.restarts ?? 0, ready: false, ...extra, ...(msg ? { message: msg } : {}) };
  const running = o.state === 'running';
  const s: ContainerStatus = {
    name: d.name,
    role: d.role,
    index: d.index,
    image: o.image,
    state: o.state,
    containerId: o.id,
    oomKilled: o.oomKilled,
    restartCount: o.restartCount + (health.restarts ?? 0),
    ...probeVerdict(running, health, health.verdict),
    ...extra,
  };
  // A running container's exit code is the previous run's (or 0): only show it once it has exited.
  if (o.exitCode !== undefined && o.state !== 'running' && o.state !== 'created') s.exitCode = o.exitCode;
  if (o.startedAt) s.startedAt = o.startedAt;
  if (o.finishedAt) s.finishedAt = o.finishedAt;
  if (o.nanoCpus !== undefined) s.nanoCpus = o.nanoCpus;
  if (o.memory !== undefined) s.memory = o.memory;
  if (msg) s.message = msg;
  return s;
}

/** A set is ready when every container (infra included) is. */
export function setReady(containers: Pick<ContainerStatus, 'ready'>[]): boolean {
  return containers.length > 0 && containers.every((c) => c.ready === true);
}

/**
 * The same containers with the probes' current verdicts (after a probe result changed
 * one), and the set's `ready` again. Containers the prober does not watch are kept as they are.
 */
export function withVerdicts<S extends { containers: ContainerStatus[]; ready?: boolean }>(status: S, verdict: (id: string, startedAt: string | undefined) => HealthVerdict | undefined): S {
  const containers = status.containers.map((c) => {
    const v = c.containerId ? verdict(c.containerId, c.startedAt) : undefined;
    if (!v) return c;
    // The verdict has a field for each probe the container has.
    return { ...c, ...probeVerdict(c.state === 'running', { readiness: v.ready !== undefined, liveness: v.healthy !== undefined }, v) };
  });
  return { ...status, containers, ready: setReady(containers) };
}
