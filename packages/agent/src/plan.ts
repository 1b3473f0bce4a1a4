/**
 * The planner: observed containers + the desired set → the ordered actions that make
 * them match. Pure (no I/O, no clock), so every rule is covered by table tests; the
 * reconciler executes the actions in order and stops at the first failure.
 *
 * Rules (desired running):
 * - A container whose spec hash differs, or that is dead, is recreated. Business
 *   containers join the infra container's namespaces by ID, so recreating the infra
 *   container recreates them all, and one that points at another infra ID is recreated.
 * - (Re)starting the infra container gives it a new network namespace: running
 *   business containers are stopped first and started after it. One found running
 *   but started before the infra container is in a stale namespace: it is restarted.
 * - Stops go in reverse index order, starts in index order, infra in between.
 * - Images are ensured before anything is stopped or removed, so a bad image never
 *   takes a working container down.
 * - An exited business container is started again per its restart policy (always,
 *   on-failure, never) once its back-off has passed; one the agent stopped itself, or
 *   that exited before a requested restart, is started whatever its policy. A
 *   liveness kill stops it (the policy and back-off then decide its start).
 * - CPU and memory limits are not in the hash: a business container that is kept
 *   (running or not) but whose limits differ from the spec is updated in place, after
 *   the stops (a container being restarted gets its new limits while it is down).
 * - Standby (a set of an app's warm pool): as running, then its business containers
 *   are paused. Desired running, a paused container is unpaused. A paused container is
 *   unpaused before it is stopped (a frozen process cannot take its stop signal).
 */
import type { ObservedContainer } from './docker/engine.js';
import type { DesiredContainer } from './containers.js';
import { restartAllowed } from './health/restart-policy.js';
import { isBefore } from './time.js';

export type Mode = 'running' | 'standby' | 'stopped' | 'deleting';

export type Action =
  | { kind: 'ensureImage'; image: string }
  /** unhealthy: a liveness kill (recorded as such; the policy decides the restart). */
  | { kind: 'stop'; name: string; id: string; why: string; unhealthy?: true }
  | { kind: 'remove'; name: string; id: string; why: string }
  | { kind: 'create'; name: string }
  /**
   * id is undefined when the container is created earlier in the same plan. `afterExit`:
   * the restart policy starts a container that exited by itself (counted as a restart).
   */
  | { kind: 'start'; name: string; id?: string; restart: boolean; why: string; afterExit?: true }
  | { kind: 'update'; name: string; id: string; nanoCpus: number; memory: number; why: string }
  /** id is undefined when the container is created earlier in the same plan. */
  | { kind: 'pause'; name: string; id?: string }
  | { kind: 'unpause'; name: string; id: string; why: string }
  | { kind: 'recycleVolume' };

export type PlannedContainer = Pick<DesiredContainer, 'name' | 'role' | 'index' | 'image' | 'specHash' | 'endpoints' | 'limits' | 'health'>;

/** What the agent knows of a business container's last exit (see health/book.ts). */
export interface ExitFacts {
  /** The agent stopped it itself: started again whatever its policy. */
  byAgent?: boolean;
  /** It ended in a failure (exit code ≠ 0, OOM kill, failed liveness probe). Default: from its exit code. */
  failed?: boolean;
  /** Back-off: the policy's restart waits until then (ms since the epoch). */
  notBefore?: number;
}

export interface PlanInput {
  mode: Mode;
  /** Infra first, then business by index. Ignored when deleting. */
  desired: PlannedContainer[];
  observed: ObservedContainer[];
  /** Containers started before this instant are restarted (desired running only). */
  restartRequestedAt?: string;
  /** By business container name. */
  exits?: Record<string, ExitFacts>;
  /** Running business containers whose liveness probe failed: name → why. */
  kills?: Record<string, string>;
  /** For the back-off (ms since the epoch); default: no back-off applies. */
  now?: number;
}

type Fate = 'keep' | 'create' | 'recreate' | 'start' | 'restart' | 'unpause' | 'wait' | 'hold' | 'kill';

/** Running, or about to be (Docker's restart policy is on it): stopping it means something. */
export function isUp(c: ObservedContainer): boolean {
  return c.state === 'running' || c.state === 'restarting' || c.state === 'paused';
}

/** Pairs desired names with observed containers; the rest of the observed ones are extras. */
export function matchObserved(desired: PlannedContainer[], observed: ObservedContainer[]) {
  const hashes = new Map(desired.map((d) => [d.name, d.specHash]));
  const byName = new Map<string, ObservedContainer>();
  const extras: ObservedContainer[] = [];
  // Two containers with the same labels only exist if someone made one by hand: keep the matching one.
  const matches = (o: ObservedContainer): number => (hashes.get(o.name) === o.specHash ? 0 : 1);
  for (const o of [...observed].sort((a, b) => matches(a) - matches(b))) {
    if (hashes.has(o.name) && !byName.has(o.name)) byName.set(o.name, o);
    else extras.push(o);
  }
  return { byName, extras };
}

/** What stops a container that is up: a paused one is unpaused first. */
function stopping(o: ObservedContainer, why: string, extra: { unhealthy?: true } = {}): Action[] {
  return [
    ...(o.state === 'paused' ? [{ kind: 'unpause' as const, name: o.name, id: o.id, why }] : []),
    { kind: 'stop', name: o.name, id: o.id, why, ...extra },
  ];
}

/** Business containers by descending index, then infra: the stop order. */
function stopOrder(cs: ObservedContainer[]): ObservedContainer[] {
  return [...cs].sort((a, b) => (a.role === b.role ? b.index - a.index : a.role === 'infra' ? 1 : -1));
}

/**
 * A container that should sit on Docker networks with fixed addresses but does not
 * (a connect lost half-way, a `docker network disconnect` by hand). Unknown (an engine
 * that does not report endpoints) counts as fine.
 */
export function offItsNetworks(d: PlannedContainer, o: ObservedContainer): boolean {
  if (!d.endpoints || !o.endpoints) return false;
  return Object.entries(d.endpoints).some(([network, ip]) => o.endpoints?.[network] !== ip);
}

/** The update that gives a kept container the limits of its spec; undefined when they match. */
function limitsUpdate(d: PlannedContainer, o: ObservedContainer): Action | undefined {
  if (!d.limits) return undefined;
  const { nanoCpus, memory } = d.limits;
  const changed = [o.nanoCpus !== nanoCpus ? 'cpu' : '', o.memory !== memory ? 'memory' : ''].filter(Boolean);
  if (changed.length === 0) return undefined;
  return { kind: 'update', name: d.name, id: o.id, nanoCpus, memory, why: `${changed.join(' and ')} limit changed` };
}

function ownFate(d: PlannedContainer, o: ObservedContainer | undefined, restartRequestedAt: string | undefined, mode: Mode): Fate {
  if (!o) return 'create';
  if (o.state === 'dead' || o.specHash !== d.specHash || offItsNetworks(d, o)) return 'recreate';
  if (o.state === 'paused') {
    if (mode === 'standby' && d.role === 'business') return 'keep';
    return isBefore(o.startedAt, restartRequestedAt) ? 'restart' : 'unpause';
  }
  if (o.state === 'removing' || o.state === 'restarting') return 'wait';
  if (o.state !== 'running') return 'start';
  if (isBefore(o.startedAt, restartRequestedAt)) return 'restart';
  return 'keep';
}

/**
 * An exited business container that would be started: does its restart policy (and
 * back-off) let it? `start` with afterExit when the policy restarts it, `hold` when not now.
 */
function policyFate(d: PlannedContainer, o: ObservedContainer, input: PlanInput): { fate: Fate; why: string; afterExit?: true } {
  if (o.state !== 'exited') return { fate: 'start', why: 'not running' };
  const facts = input.exits?.[d.name] ?? {};
  if (facts.byAgent) return { fate: 'start', why: 'not running' };
  if (input.restartRequestedAt && isBefore(o.finishedAt, input.restartRequestedAt)) return { fate: 'start', why: 'restart requested' };
  const policy = d.health?.restartPolicy ?? 'always';
  const failed = facts.failed ?? (o.oomKilled || o.exitCode !== 0);
  if (!restartAllowed(policy, failed)) return { fate: 'hold', why: `restart policy ${policy}` };
  if (facts.notBefore !== undefined && input.now !== undefined && input.now < facts.notBefore) return { fate: 'hold', why: 'back-off' };
  return { fate: 'start', why: `restart policy ${policy}`, afterExit: true };
}

function businessFate(d: PlannedContainer, o: ObservedContainer | undefined, infraFate: Fate, infra: ObservedContainer | undefined, input: PlanInput): { fate: Fate; why: string; afterExit?: true } {
  const rra = input.restartRequestedAt;
  const own = ownFate(d, o, rra, input.mode);
  if (!o || own === 'recreate') return { fate: own, why: o ? (o.state === 'dead' ? 'dead' : offItsNetworks(d, o) && o.specHash === d.specHash ? 'not on its networks' : 'spec changed') : 'missing' };
  if (infraFate === 'create' || infraFate === 'recreate') return { fate: 'recreate', why: 'infra container recreated' };
  if (infraFate === 'keep' && infra && o.networkMode !== `container:${infra.id}`) return { fate: 'recreate', why: 'joined another infra container' };
  if (own === 'wait') return { fate: 'wait', why: o.state };
  if (infraFate === 'start' || infraFate === 'restart') {
    return o.state === 'running' || o.state === 'paused' ? { fate: 'restart', why: 'infra container restarted' } : policyFate(d, o, input);
  }
  if (o.state === 'running' && isBefore(o.startedAt, infra?.startedAt)) return { fate: 'restart', why: 'started before its infra container' };
  if (own === 'restart') return { fate: own, why: 'restart requested' };
  if (own === 'unpause') return { fate: own, why: input.mode === 'running' ? 'desired running' : 'paused' };
  const kill = input.kills?.[d.name];
  if (own === 'keep' && kill) return { fate: 'kill', why: kill };
  if (own === 'start') return policyFate(d, o, input);
  return { fate: own, why: '' };
}

function planRunning(input: PlanInput, byName: Map<string, ObservedContainer>, extras: ObservedContainer[]): Action[] {
  const [infraD, ...business] = input.desired;
  if (!infraD) return [];
  const infraO = byName.get(infraD.name);
  const infraFate = ownFate(infraD, infraO, input.restartRequestedAt, input.mode);
  const fates = business.map((d) => ({ d, o: byName.get(d.name), ...businessFate(d, byName.get(d.name), infraFate, infraO, input) }));
  // While Docker is restarting or removing the infra container, leave its business containers alone.
  const active = infraFate === 'wait' ? [] : fates;

  const actions: Action[] = [];
  const images = new Set<string>();
  if (infraFate === 'create' || infraFate === 'recreate') images.add(infraD.image);
  for (const f of active) if (f.fate === 'create' || f.fate === 'recreate') images.add(f.d.image);
  for (const image of images) actions.push({ kind: 'ensureImage', image });

  for (const o of stopOrder(extras)) {
    if (isUp(o)) actions.push(...stopping(o, 'not in the spec'));
    actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'not in the spec' });
  }
  for (const f of [...active].reverse()) {
    if (!f.o) continue;
    if (f.fate === 'recreate') {
      if (isUp(f.o)) actions.push(...stopping(f.o, f.why));
      actions.push({ kind: 'remove', name: f.d.name, id: f.o.id, why: f.why });
    } else if (f.fate === 'restart') {
      actions.push(...stopping(f.o, f.why));
    } else if (f.fate === 'kill') {
      actions.push(...stopping(f.o, f.why, { unhealthy: true }));
    }
  }

  for (const f of active) {
    const kept = f.fate === 'keep' || f.fate === 'start' || f.fate === 'restart' || f.fate === 'unpause' || f.fate === 'hold' || f.fate === 'kill';
    const update = f.o && kept ? limitsUpdate(f.d, f.o) : undefined;
    if (update) actions.push(update);
  }

  const infraWhy =
    infraFate === 'restart' ? 'restart requested'
    : infraO?.state === 'dead' ? 'dead'
    : infraO && infraO.specHash === infraD.specHash && offItsNetworks(infraD, infraO) ? 'not on its networks'
    : infraO ? 'spec changed'
    : 'missing';
  switch (infraFate) {
    case 'recreate':
      if (infraO && isUp(infraO)) actions.push({ kind: 'stop', name: infraD.name, id: infraO.id, why: infraWhy });
      if (infraO) actions.push({ kind: 'remove', name: infraD.name, id: infraO.id, why: infraWhy });
      actions.push({ kind: 'create', name: infraD.name }, { kind: 'start', name: infraD.name, restart: false, why: infraWhy });
      break;
    case 'create':
      actions.push({ kind: 'create', name: infraD.name }, { kind: 'start', name: infraD.name, restart: false, why: infraWhy });
      break;
    case 'start':
      if (infraO) actions.push({ kind: 'start', name: infraD.name, id: infraO.id, restart: false, why: 'not running' });
      break;
    case 'restart':
      if (infraO) actions.push(...stopping(infraO, infraWhy), { kind: 'start', name: infraD.name, id: infraO.id, restart: true, why: infraWhy });
      break;
    case 'unpause':
      if (infraO) actions.push({ kind: 'unpause', name: infraD.name, id: infraO.id, why: 'desired running' });
      break;
    default:
  }

  for (const f of active) {
    const recreated = f.fate === 'create' || f.fate === 'recreate';
    if (f.fate === 'unpause' && f.o) actions.push({ kind: 'unpause', name: f.d.name, id: f.o.id, why: f.why });
    if (recreated) actions.push({ kind: 'create', name: f.d.name });
    if (recreated || f.fate === 'start' || f.fate === 'restart') {
      actions.push({
        kind: 'start',
        name: f.d.name,
        ...(recreated || !f.o ? {} : { id: f.o.id }),
        restart: f.fate === 'restart',
        why: f.why,
        ...(f.afterExit ? { afterExit: true as const } : {}),
      });
    }
  }
  // Standby: paused once all are up, so the set started as it would (its processes warm).
  if (input.mode === 'standby') {
    for (const f of active) {
      const up = f.fate === 'create' || f.fate === 'recreate' || f.fate === 'start' || f.fate === 'restart' || f.fate === 'unpause' || (f.fate === 'keep' && f.o?.state === 'running');
      if (!up) continue;
      const sameId = f.o && f.fate !== 'create' && f.fate !== 'recreate';
      actions.push({ kind: 'pause', name: f.d.name, ...(sameId && f.o ? { id: f.o.id } : {}) });
    }
  }
  return actions;
}

function planStopped(desired: PlannedContainer[], byName: Map<string, ObservedContainer>, extras: ObservedContainer[]): Action[] {
  const actions: Action[] = [];
  for (const o of stopOrder(extras)) {
    if (isUp(o)) actions.push(...stopping(o, 'not in the spec'));
    actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'not in the spec' });
  }
  for (const o of stopOrder([...byName.values()])) {
    if (isUp(o)) actions.push(...stopping(o, 'desired stopped'));
  }
  for (const d of desired) {
    const o = byName.get(d.name);
    const update = o && o.specHash === d.specHash && o.state !== 'dead' ? limitsUpdate(d, o) : undefined;
    if (update) actions.push(update);
  }
  return actions;
}

function planDeleting(observed: ObservedContainer[]): Action[] {
  const order = stopOrder(observed);
  const actions: Action[] = [];
  for (const o of order) if (o.role === 'business' && isUp(o)) actions.push(...stopping(o, 'set deleted'));
  for (const o of order) actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'set deleted' });
  actions.push({ kind: 'recycleVolume' });
  return actions;
}

export function plan(input: PlanInput): Action[] {
  if (input.mode === 'deleting') return planDeleting(input.observed);
  const { byName, extras } = matchObserved(input.desired, input.observed);
  return input.mode === 'stopped' ? planStopped(input.desired, byName, extras) : planRunning(input, byName, extras);
}

/** "create web", "stop infra": compact form for logs and tests. */
export function describe(a: Action): string {
  switch (a.kind) {
    case 'ensureImage':
      return `ensureImage ${a.image}`;
    case 'recycleVolume':
      return 'recycleVolume';
    case 'start':
      return `${a.restart ? 'restart' : 'start'} ${a.name}`;
    default:
      return `${a.kind} ${a.name}`;
  }
}
