/**
 * --wait: follows a set by polling it (every ~200 ms) until the goal of the
 * command is reached, the set fails, or the timeout passes. Takes the client and a
 * clock as parameters so tests drive it with fakes.
 */
import type { WharfClient } from '@wharf/client';
import { WharfError, type SetEvent, type SetView } from '@wharf/types';
import { CliError, plural } from './errors.js';
import { formatDuration } from './duration.js';
import { age } from './format/age.js';
import { readiness } from './format/sets.js';
import type { Progress } from './progress.js';
import { formatRef, type SetRef } from './ref.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type SetSource = Pick<WharfClient, 'getSet' | 'setEvents'>;

/**
 * What "done" means, per command. `since` is the client's clock just before the
 * request was sent.
 * - applied: the agent has seen the latest generation (observedGeneration ≥
 *   generation) and the set is in its desired state (running and ready, or
 *   stopped when the set is desired stopped).
 * - running: the set's status is running and every container is ready.
 * - stopped: the set's status is stopped.
 * - restarted: every container started after `since`, and the set is running.
 * - deleted: the server answers SET_NOT_FOUND.
 * - resized: the agent has seen `generation`, the set is in its desired state, and
 *   every container reports the Docker limits in `limits`.
 */
export type WaitGoal =
  | { kind: 'applied' }
  | { kind: 'running'; since: number }
  | { kind: 'stopped'; since: number }
  | { kind: 'restarted'; since: number }
  | { kind: 'deleted' }
  | { kind: 'resized'; generation: number; limits: ContainerLimits[] };

/** A container's limits as Docker holds them (NanoCpus, Memory in bytes). */
export interface ContainerLimits {
  name: string;
  nanoCpus: number;
  memory: number;
}

export interface WaitOptions {
  client: SetSource;
  clock: Clock;
  progress: Progress;
  ref: SetRef;
  goal: WaitGoal;
  timeoutMs: number;
  /** Poll interval. Default 200 ms. */
  intervalMs?: number;
  /** The set as returned by the request that started the wait, if any. */
  initial?: SetView;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const POLL_INTERVAL_MS = 200;

export interface Assessment {
  done: boolean;
  /** The set is failed, and the failure is about this request (not left over from before it). */
  failed: boolean;
  /** e.g. `starting — 1/2 containers running` */
  state: string;
}

export interface AssessMemory {
  /** The set was already failed when the request returned. */
  initiallyFailed: boolean;
  /** A poll since then saw it not failed. */
  sawNotFailed: boolean;
}

function startedSince(view: SetView, since: number): number {
  return view.containers.filter((c) => c.startedAt !== undefined && Date.parse(c.startedAt) >= since).length;
}

/** Any container started or finished after `since`: the agent has acted on the request. */
function actedSince(view: SetView, since: number): boolean {
  return view.containers.some((c) => [c.startedAt, c.finishedAt].some((t) => t !== undefined && Date.parse(t) >= since));
}

/** Pure: how far `view` is from `goal`. */
export function assess(view: SetView, goal: WaitGoal, memory: AssessMemory): Assessment {
  const { running, ready, total } = readiness(view);
  const notes: string[] = [];
  // Readiness probes still failing: say so, and a running set is not done yet.
  const notReady = view.status === 'running' && !view.ready;
  const containers = `${running}/${total} containers running${notReady ? `, ${ready}/${total} ready` : ''}`;
  let detail: string;
  let done: boolean;
  let fresh: boolean;

  switch (goal.kind) {
    case 'applied': {
      const seen = view.observedGeneration >= view.generation;
      if (!seen) notes.push(`agent at generation ${view.observedGeneration} of ${view.generation}`);
      detail = containers;
      done = seen && view.status === view.desired && !notReady;
      fresh = seen;
      break;
    }
    case 'running':
    case 'stopped':
      detail = containers;
      done = view.status === goal.kind && !(goal.kind === 'running' && notReady);
      fresh = !memory.initiallyFailed || memory.sawNotFailed || actedSince(view, goal.since);
      break;
    case 'restarted': {
      const restarted = startedSince(view, goal.since);
      const all = view.containers.length;
      detail = `${restarted}/${all} containers restarted`;
      done = view.status === 'running' && all > 0 && restarted === all && !notReady;
      fresh = !memory.initiallyFailed || memory.sawNotFailed || actedSince(view, goal.since);
      break;
    }
    case 'deleted': {
      const left = view.containers.filter((c) => c.state !== 'missing').length;
      detail = `${plural(left, 'container')} left`;
      done = false;
      fresh = false;
      break;
    }
    case 'resized': {
      const seen = view.observedGeneration >= goal.generation;
      if (!seen) notes.push(`agent at generation ${view.observedGeneration} of ${goal.generation}`);
      const applied = goal.limits.filter((l) => view.containers.some((c) => c.name === l.name && c.nanoCpus === l.nanoCpus && c.memory === l.memory)).length;
      detail = view.desired === 'running' ? `${applied}/${goal.limits.length} containers at the new limits` : containers;
      done = seen && view.status === view.desired && !notReady && (view.desired !== 'running' || applied === goal.limits.length);
      fresh = seen;
      break;
    }
  }
  if (view.message && view.status !== 'running') notes.push(view.message);
  const state = `${view.status} — ${detail}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  return { done, failed: !done && view.status === 'failed' && fresh, state };
}

export function goalText(goal: WaitGoal, view: SetView | undefined): string {
  switch (goal.kind) {
    case 'applied':
      return view ? `be ${view.desired} at generation ${view.generation}` : 'be applied';
    case 'running':
      return 'be running';
    case 'stopped':
      return 'be stopped';
    case 'restarted':
      return 'restart (every container started again and the set running)';
    case 'deleted':
      return 'be deleted';
    case 'resized':
      return `run at generation ${goal.generation} with the new limits`;
  }
}

function isSetNotFound(err: unknown): boolean {
  return err instanceof WharfError && err.code === 'SET_NOT_FOUND';
}

/** The most recent Warning event, or undefined (also when events cannot be fetched). */
export async function lastWarning(client: SetSource, ref: SetRef): Promise<SetEvent | undefined> {
  try {
    const events = await client.setEvents(ref.appkey, ref.id);
    return events
      .filter((e) => e.type === 'Warning')
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
      .at(-1);
  } catch {
    return undefined;
  }
}

function warningLines(warning: SetEvent | undefined, now: number): string[] {
  return warning ? [`  last warning (${age(warning.time, now)} ago): ${warning.reason}: ${warning.message}`] : [];
}

/**
 * Polls until the goal is reached; returns the last view (undefined for a deleted set).
 * Throws CliError when the set fails or the timeout passes.
 */
export async function waitForSet(opts: WaitOptions): Promise<SetView | undefined> {
  const { client, clock, progress, ref, goal } = opts;
  const name = formatRef(ref);
  const interval = opts.intervalMs ?? POLL_INTERVAL_MS;
  const deadline = clock.now() + opts.timeoutMs;
  const memory: AssessMemory = { initiallyFailed: opts.initial?.status === 'failed', sawNotFailed: false };
  let last: Assessment | undefined;
  let view: SetView | undefined;

  for (;;) {
    try {
      view = await client.getSet(ref.appkey, ref.id);
    } catch (err) {
      if (!isSetNotFound(err)) throw err;
      if (goal.kind === 'deleted') {
        progress.succeed(`${name}: deleted`);
        return undefined;
      }
      progress.fail(`${name}: deleted`);
      throw new CliError(`set ${name} was deleted while waiting for it to ${goalText(goal, view)}`);
    }
    last = assess(view, goal, memory);
    if (view.status !== 'failed') memory.sawNotFailed = true;
    const text = `${name}: ${last.state}`;
    if (last.done) {
      progress.succeed(text);
      return view;
    }
    if (last.failed) {
      progress.fail(text);
      const warning = await lastWarning(client, ref);
      throw new CliError(`set ${name} failed: ${view.message ?? 'no reason given by the agent'}`, warningLines(warning, clock.now()));
    }
    progress.update(text);
    const now = clock.now();
    if (now >= deadline) {
      progress.fail(text);
      const warning = await lastWarning(client, ref);
      throw new CliError(
        `timed out after ${formatDuration(opts.timeoutMs)} waiting for ${name} to ${goalText(goal, view)}; it is ${last.state}`,
        warningLines(warning, clock.now()),
      );
    }
    await clock.sleep(Math.min(interval, deadline - now));
  }
}
