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
 */
import type { ObservedContainer } from './docker/engine.js';
import type { DesiredContainer } from './containers.js';
import { isBefore } from './time.js';

export type Mode = 'running' | 'stopped' | 'deleting';

export type Action =
  | { kind: 'ensureImage'; image: string }
  | { kind: 'stop'; name: string; id: string; why: string }
  | { kind: 'remove'; name: string; id: string; why: string }
  | { kind: 'create'; name: string }
  /** id is undefined when the container is created earlier in the same plan. */
  | { kind: 'start'; name: string; id?: string; restart: boolean; why: string }
  | { kind: 'recycleVolume' };

export type PlannedContainer = Pick<DesiredContainer, 'name' | 'role' | 'index' | 'image' | 'specHash' | 'endpoints'>;

export interface PlanInput {
  mode: Mode;
  /** Infra first, then business by index. Ignored when deleting. */
  desired: PlannedContainer[];
  observed: ObservedContainer[];
  /** Containers started before this instant are restarted (desired running only). */
  restartRequestedAt?: string;
}

type Fate = 'keep' | 'create' | 'recreate' | 'start' | 'restart' | 'wait';

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

function ownFate(d: PlannedContainer, o: ObservedContainer | undefined, restartRequestedAt: string | undefined): Fate {
  if (!o) return 'create';
  if (o.state === 'dead' || o.specHash !== d.specHash || offItsNetworks(d, o)) return 'recreate';
  if (o.state === 'removing' || o.state === 'restarting' || o.state === 'paused') return 'wait';
  if (o.state !== 'running') return 'start';
  if (isBefore(o.startedAt, restartRequestedAt)) return 'restart';
  return 'keep';
}

function businessFate(d: PlannedContainer, o: ObservedContainer | undefined, infraFate: Fate, infra: ObservedContainer | undefined, rra: string | undefined): { fate: Fate; why: string } {
  const own = ownFate(d, o, rra);
  if (!o || own === 'recreate') return { fate: own, why: o ? (o.state === 'dead' ? 'dead' : offItsNetworks(d, o) && o.specHash === d.specHash ? 'not on its networks' : 'spec changed') : 'missing' };
  if (infraFate === 'create' || infraFate === 'recreate') return { fate: 'recreate', why: 'infra container recreated' };
  if (infraFate === 'keep' && infra && o.networkMode !== `container:${infra.id}`) return { fate: 'recreate', why: 'joined another infra container' };
  if (own === 'wait') return { fate: 'wait', why: o.state };
  if (infraFate === 'start' || infraFate === 'restart') {
    return o.state === 'running' ? { fate: 'restart', why: 'infra container restarted' } : { fate: 'start', why: 'not running' };
  }
  if (o.state === 'running' && isBefore(o.startedAt, infra?.startedAt)) return { fate: 'restart', why: 'started before its infra container' };
  if (own === 'restart') return { fate: own, why: 'restart requested' };
  return { fate: own, why: own === 'start' ? 'not running' : '' };
}

function planRunning(input: PlanInput, byName: Map<string, ObservedContainer>, extras: ObservedContainer[]): Action[] {
  const [infraD, ...business] = input.desired;
  if (!infraD) return [];
  const rra = input.restartRequestedAt;
  const infraO = byName.get(infraD.name);
  const infraFate = ownFate(infraD, infraO, rra);
  const fates = business.map((d) => ({ d, o: byName.get(d.name), ...businessFate(d, byName.get(d.name), infraFate, infraO, rra) }));
  // While Docker is restarting or removing the infra container, leave its business containers alone.
  const active = infraFate === 'wait' ? [] : fates;

  const actions: Action[] = [];
  const images = new Set<string>();
  if (infraFate === 'create' || infraFate === 'recreate') images.add(infraD.image);
  for (const f of active) if (f.fate === 'create' || f.fate === 'recreate') images.add(f.d.image);
  for (const image of images) actions.push({ kind: 'ensureImage', image });

  for (const o of stopOrder(extras)) {
    if (isUp(o)) actions.push({ kind: 'stop', name: o.name, id: o.id, why: 'not in the spec' });
    actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'not in the spec' });
  }
  for (const f of [...active].reverse()) {
    if (!f.o) continue;
    if (f.fate === 'recreate') {
      if (isUp(f.o)) actions.push({ kind: 'stop', name: f.d.name, id: f.o.id, why: f.why });
      actions.push({ kind: 'remove', name: f.d.name, id: f.o.id, why: f.why });
    } else if (f.fate === 'restart') {
      actions.push({ kind: 'stop', name: f.d.name, id: f.o.id, why: f.why });
    }
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
      if (infraO) actions.push({ kind: 'stop', name: infraD.name, id: infraO.id, why: infraWhy }, { kind: 'start', name: infraD.name, id: infraO.id, restart: true, why: infraWhy });
      break;
    default:
  }

  for (const f of active) {
    const recreated = f.fate === 'create' || f.fate === 'recreate';
    if (recreated) actions.push({ kind: 'create', name: f.d.name });
    if (recreated || f.fate === 'start' || f.fate === 'restart') {
      actions.push({
        kind: 'start',
        name: f.d.name,
        ...(recreated || !f.o ? {} : { id: f.o.id }),
        restart: f.fate === 'restart',
        why: f.why,
      });
    }
  }
  return actions;
}

function planStopped(byName: Map<string, ObservedContainer>, extras: ObservedContainer[]): Action[] {
  const actions: Action[] = [];
  for (const o of stopOrder(extras)) {
    if (isUp(o)) actions.push({ kind: 'stop', name: o.name, id: o.id, why: 'not in the spec' });
    actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'not in the spec' });
  }
  for (const o of stopOrder([...byName.values()])) {
    if (isUp(o)) actions.push({ kind: 'stop', name: o.name, id: o.id, why: 'desired stopped' });
  }
  return actions;
}

function planDeleting(observed: ObservedContainer[]): Action[] {
  const order = stopOrder(observed);
  const actions: Action[] = [];
  for (const o of order) if (o.role === 'business' && isUp(o)) actions.push({ kind: 'stop', name: o.name, id: o.id, why: 'set deleted' });
  for (const o of order) actions.push({ kind: 'remove', name: o.name, id: o.id, why: 'set deleted' });
  actions.push({ kind: 'recycleVolume' });
  return actions;
}

export function plan(input: PlanInput): Action[] {
  if (input.mode === 'deleting') return planDeleting(input.observed);
  const { byName, extras } = matchObserved(input.desired, input.observed);
  return input.mode === 'running' ? planRunning(input, byName, extras) : planStopped(byName, extras);
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
