/** Phase and container status of a set, derived from what Docker reports. */
import type { ContainerStatus, SetPhase } from '@wharf/types';
import type { ObservedContainer } from './docker/engine.js';
import type { PlannedContainer, Mode } from './plan.js';

export interface PhaseInput {
  mode: Mode;
  containers: Pick<ContainerStatus, 'name' | 'state' | 'exitCode'>[];
  /** The reconcile is still bringing containers up or down. */
  inProgress: boolean;
  /** The reconcile stopped on an error that needs a change (missing image, bad config). */
  failed: boolean;
}

export function derivePhase(p: PhaseInput): SetPhase {
  if (p.mode === 'deleting') return 'deleting';
  if (p.mode === 'stopped') {
    if (p.failed) return 'failed';
    return p.containers.some((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused') ? 'stopping' : 'stopped';
  }
  if (p.failed) return 'failed';
  if (p.inProgress) return 'starting';
  return p.containers.length > 0 && p.containers.every((c) => c.state === 'running') ? 'running' : 'degraded';
}

/** Why a set desired running is not all up: "web is exited (exit code 1)". */
export function degradedMessage(containers: Pick<ContainerStatus, 'name' | 'state' | 'exitCode'>[]): string | undefined {
  const down = containers
    .filter((c) => c.state !== 'running')
    .map((c) => `${c.name} is ${c.state}${c.state === 'exited' && c.exitCode !== undefined ? ` (exit code ${c.exitCode})` : ''}`);
  return down.length > 0 ? down.join('; ') : undefined;
}

export function containerStatus(d: Pick<PlannedContainer, 'name' | 'role' | 'index' | 'image'>, o: ObservedContainer | undefined, message?: string): ContainerStatus {
  const msg = message ?? o?.error;
  if (!o) return { name: d.name, role: d.role, index: d.index, image: d.image, state: 'missing', restartCount: 0, ...(msg ? { message: msg } : {}) };
  const s: ContainerStatus = {
    name: d.name,
    role: d.role,
    index: d.index,
    image: o.image,
    state: o.state,
    containerId: o.id,
    oomKilled: o.oomKilled,
    restartCount: o.restartCount,
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
