/**
 * The restart policy of business containers (pure): how an exit is classified, whether
 * the policy starts the container again, and the back-off between restarts.
 */
import type { LastTermination, RestartPolicy, TerminationReason } from '@wharf/types';
import { backoffDelay } from '../backoff.js';

const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
/** A container that ran this long before it exited starts a new streak (back-off from 1 s again). */
export const BACKOFF_RESET_AFTER_MS = 10 * 60_000;

/** The delay before the n-th restart of a streak (n ≥ 1): 1 s, 2 s, 4 s … at most 5 min. */
export function restartDelay(streak: number): number {
  return backoffDelay(streak, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS);
}

/** Why a container that exited by itself stopped: its exit code and Docker's OOM flag. */
export function exitReason(exitCode: number | undefined, oomKilled: boolean): TerminationReason {
  if (oomKilled) return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Exits that count as failures for `on-failure` (a failed liveness probe is one). */
export function isFailure(reason: TerminationReason): boolean {
  return reason === 'Error' || reason === 'OOMKilled' || reason === 'Unhealthy';
}

/** Whether the policy starts a container again after an exit it did not get from the agent. */
export function restartAllowed(policy: RestartPolicy, failed: boolean): boolean {
  return policy === 'always' || (policy === 'on-failure' && failed);
}

/** "web completed (exit code 0; restart policy never)": why a container stays exited. */
export function leftExitedMessage(name: string, t: Pick<LastTermination, 'reason' | 'exitCode'>, policy: RestartPolicy): string {
  const what =
    t.reason === 'Completed' ? 'completed'
    : t.reason === 'OOMKilled' ? 'was killed: out of memory'
    : t.reason === 'Unhealthy' ? 'was killed: liveness probe failed'
    : 'failed';
  return `${name} ${what} (exit code ${t.exitCode}; restart policy ${policy})`;
}

/** "back-off 8s restarting failed container web" */
export function backOffMessage(name: string, delayMs: number): string {
  const s = Math.round(delayMs / 1000);
  return `back-off ${s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`} restarting failed container ${name}`;
}

/** What the status says of an exited container the policy restarts later or never (undefined otherwise). */
export function waitingMessage(
  name: string,
  policy: RestartPolicy,
  r: { byAgent?: boolean; lastTermination?: Pick<LastTermination, 'reason' | 'exitCode'>; backOffUntil?: number; streak: number },
  now: number,
): string | undefined {
  if (r.byAgent || !r.lastTermination) return undefined;
  if (r.backOffUntil !== undefined && r.backOffUntil > now) return backOffMessage(name, restartDelay(r.streak));
  if (!restartAllowed(policy, isFailure(r.lastTermination.reason))) return leftExitedMessage(name, r.lastTermination, policy);
  return undefined;
}
