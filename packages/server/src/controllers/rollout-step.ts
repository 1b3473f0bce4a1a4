/**
 * One step of a rollout, decided from what the store holds (pure): which targets
 * are done or failed, whether the rollout ends, pauses or rolls back, and which
 * sets the next batch changes. The controller writes the result in one
 * transaction, so a step is either wholly applied or looked at again.
 *
 * In an app (`drainMs` > 0), a batch's sets that serve are first taken out of the
 * endpoints (`outOfRotation`, so load balancers drain them) and changed only after
 * drainMs; once changed they are not ready until the agent reports the new
 * generation ready, so they come back into the endpoints by themselves.
 */
import type { KeyValue } from '@wharf/store';
import type { SetEvent, SetObject, SetView } from '@wharf/types';
import type { AppMember } from '../state/apps.js';
import { plural } from './app-scale.js';
import { beginRollback, containerImage, stopDraining, withContainerImage, type StoredRollout, type StoredTarget } from '../state/rollouts.js';

export interface Step {
  rollout: StoredRollout;
  changed: boolean;
  /** New set objects, each to be written over the version in `kv`. */
  writes: { kv: KeyValue<SetObject>; next: SetObject }[];
  events: { set: SetObject; event: SetEvent }[];
}

type Verdict =
  | { kind: 'done' }
  | { kind: 'pending' }
  | { kind: 'failed'; message: string }
  | { kind: 'foreign'; image: string | undefined };

export interface StepOptions {
  /** How long a serving set is out of the endpoints before its change (the app's drainSeconds); 0 or absent: changed at once. */
  drainMs?: number;
}

export function stepRollout(current: StoredRollout, sets: ReadonlyMap<string, AppMember>, now: number, opts: StepOptions = {}): Step {
  const rollout = structuredClone(current);
  const stepper = new Stepper(rollout, sets, now, opts.drainMs ?? 0);
  stepper.run();
  const changed = JSON.stringify(rollout) !== JSON.stringify(current);
  if (changed) rollout.updatedAt = stepper.time;
  return { rollout, changed, writes: [...stepper.writes.values()], events: stepper.events };
}

/** Has the target's set taken `want` and become ready with it (or failed)? */
export function judge(s: AppMember, container: string, want: string, generation: number): Verdict {
  const set = s.kv.value;
  const view = s.view;
  const image = containerImage(set.spec, container);
  if (image !== want) return { kind: 'foreign', image };
  if (view.observedGeneration < generation) return { kind: 'pending' };
  // A stopped set takes the new image when it starts again.
  if (set.desired === 'stopped') return view.status === 'stopped' ? { kind: 'done' } : { kind: 'pending' };
  const reported = view.containers.find((c) => c.role === 'business' && c.name === container)?.image;
  if (view.ready && reported === want) return { kind: 'done' };
  if (view.status === 'failed') return { kind: 'failed', message: view.message ?? 'the set failed' };
  return { kind: 'pending' };
}

/** Why a set is not ready, for messages. */
function notReadyReason(view: SetView): string {
  if (view.message) return view.message;
  if (view.observedGeneration < view.generation) return `its host has not applied generation ${view.generation} yet`;
  return `it is ${view.status}`;
}

function changedBySomeoneElse(container: string, image: string | undefined): string {
  return `${container} was changed to ${image ?? '(no such container)'} by someone else; left as it is`;
}

class Stepper {
  /** By set id: a set changed twice in one step (out of rotation and back) is written once. */
  readonly writes = new Map<string, Step['writes'][number]>();
  readonly events: Step['events'] = [];
  readonly time: string;
  /** Forward targets that failed in this step, as `set ID: why`. */
  private readonly failures: string[] = [];

  constructor(
    private readonly r: StoredRollout,
    private readonly sets: ReadonlyMap<string, AppMember>,
    private readonly now: number,
    private readonly drainMs: number,
  ) {
    this.time = new Date(now).toISOString();
  }

  run(): void {
    this.advance();
    this.backIntoRotation();
  }

  private advance(): void {
    this.skipDeleted();
    this.watchInFlight();
    this.endDrain();
    if (this.failures.length > 0) this.fail(`batch ${this.r.batch}/${this.r.batches} failed: ${this.failures.join('; ')}`);
    if (this.inFlight().length > 0) return;
    if (this.r.state === 'rolling-back') this.nextRollbackBatch();
    else if (this.r.state === 'running') this.nextBatch();
  }

  /** Targets whose change is under way and watched: forward ones stop being watched once a rollback takes over. */
  private inFlight(): StoredTarget[] {
    return this.r.targets.filter((t) => t.state === 'rolling-back' || (t.state === 'updating' && this.r.state !== 'rolling-back'));
  }

  private skipDeleted(): void {
    for (const t of this.r.targets) {
      const open = t.state === 'waiting' || t.state === 'updating' || t.state === 'rolling-back' || t.restore;
      if (t.skipped || !open) continue;
      const s = this.sets.get(t.id);
      if (s && !s.kv.value.deleting) continue;
      t.state = 'failed';
      t.skipped = true;
      t.message = 'skipped: the set was deleted during the rollout';
      delete t.restore;
      delete t.draining;
    }
  }

  private watchInFlight(): void {
    const pending: StoredTarget[] = [];
    for (const t of this.inFlight()) {
      const s = this.sets.get(t.id);
      if (!s || t.draining) continue;
      const back = t.state === 'rolling-back';
      const want = back ? t.from : this.r.image;
      const verdict = judge(s, this.r.container, want, t.generation ?? 0);
      switch (verdict.kind) {
        case 'done':
          t.state = back ? 'rolled-back' : 'updated';
          delete t.message;
          break;
        case 'pending':
          pending.push(t);
          break;
        case 'failed':
          this.targetFailed(t, back ? `did not become ready again on ${t.from}: ${verdict.message}` : verdict.message);
          break;
        case 'foreign':
          t.foreign = true;
          this.targetFailed(t, changedBySomeoneElse(this.r.container, verdict.image));
          break;
      }
    }
    // A batch's timeout counts from the end of its drain.
    if (pending.length === 0 || !this.timedOut(this.r.drainUntil ?? this.r.batchStartedAt)) return;
    for (const t of pending) {
      const view = this.sets.get(t.id)?.view;
      const why = view ? notReadyReason(view) : 'unknown';
      const what = t.state === 'rolling-back' ? `not ready again on ${t.from}` : 'not ready';
      this.targetFailed(t, `${what} after ${this.r.timeoutSeconds}s: ${why}`);
    }
  }

  private timedOut(since: string | undefined): boolean {
    return since !== undefined && this.now - Date.parse(since) > this.r.timeoutSeconds * 1000;
  }

  private targetFailed(t: StoredTarget, message: string): void {
    const back = t.state === 'rolling-back';
    t.state = 'failed';
    t.message = message;
    delete t.restore;
    if (back) t.rollbackFailed = true;
    else this.failures.push(`set ${t.id}: ${message}`);
    const set = this.sets.get(t.id)?.kv.value;
    if (set) this.event(set, 'Warning', back ? 'RollbackFailed' : 'RolloutFailed', `rollout ${this.r.number}: ${message}`);
  }

  /** The rollout stops; with autoRollback it rolls back. A rollout that already ended keeps its result. */
  private fail(cause: string): void {
    const r = this.r;
    if (r.state !== 'running' && r.state !== 'paused') return;
    if (r.autoRollback) {
      beginRollback(r, cause);
      return;
    }
    stopDraining(r);
    r.state = 'failed';
    r.message = cause;
    r.finishedAt = this.time;
    delete r.blockedSince;
  }

  private nextBatch(): void {
    const r = this.r;
    const waiting = r.targets.filter((t) => t.state === 'waiting');
    for (const t of waiting) {
      const foreign = this.foreignChange(t);
      if (foreign) {
        t.foreign = true;
        this.targetFailed(t, foreign);
      }
    }
    if (this.failures.length > 0) return this.fail(`stopped before batch ${r.batch + 1}: ${this.failures.join('; ')}`);
    if (waiting.length === 0) return this.succeed();
    if (r.pauseAfterFirst && r.batch >= 1 && !r.pausedAfterFirst) {
      r.state = 'paused';
      r.pausedAfterFirst = true;
      r.message = 'paused after the first batch; resume to go on';
      return;
    }
    const notReady = [...this.sets.values()].filter((s) => !s.kv.value.deleting && s.kv.value.desired === 'running' && !s.view.ready);
    const size = Math.min(r.batchSize, waiting.length, r.maxUnavailable - notReady.length);
    if (size < 1) return this.blocked(notReady);
    r.batch += 1;
    r.batches = r.batch + Math.ceil((waiting.length - size) / r.batchSize);
    r.batchStartedAt = this.time;
    delete r.blockedSince;
    delete r.drainUntil;
    delete r.message;
    for (const t of waiting.slice(0, size)) {
      t.batch = r.batch;
      this.begin(t, false);
    }
  }

  /** Too many sets of the app are not ready to start the next batch: wait, but not longer than the batch timeout. */
  private blocked(notReady: AppMember[]): void {
    const r = this.r;
    r.blockedSince ??= this.time;
    const ids = notReady.map((s) => s.kv.value.id).join(', ');
    const why = `${plural(notReady.length, 'set')} of the app ${notReady.length === 1 ? 'is' : 'are'} not ready (${ids}) and at most ${r.maxUnavailable} may be`;
    if (this.timedOut(r.blockedSince)) return this.fail(`batch ${r.batch + 1} could not start within ${r.timeoutSeconds}s: ${why}`);
    r.message = `batch ${r.batch + 1} waits: ${why}`;
  }

  private succeed(): void {
    const r = this.r;
    const updated = r.targets.filter((t) => t.state === 'updated').length;
    const skipped = r.targets.filter((t) => t.skipped).map((t) => t.id);
    r.state = 'succeeded';
    r.finishedAt = this.time;
    r.message = `${plural(updated, 'set')} run${updated === 1 ? 's' : ''} ${r.image}${skipped.length > 0 ? `; skipped ${skipped.join(', ')} (deleted during the rollout)` : ''}`;
  }

  private nextRollbackBatch(): void {
    const r = this.r;
    const queue = r.targets.filter((t) => t.restore);
    if (queue.length === 0) return this.rolledBack();
    const size = Math.min(r.batchSize, queue.length);
    r.batch += 1;
    r.batches = r.batch + Math.ceil((queue.length - size) / r.batchSize);
    r.batchStartedAt = this.time;
    delete r.drainUntil;
    for (const t of queue.slice(0, size)) {
      delete t.restore;
      const foreign = this.foreignChange(t);
      if (foreign) {
        t.foreign = true;
        t.state = 'failed';
        t.message = foreign;
        continue;
      }
      this.begin(t, true);
    }
  }

  private rolledBack(): void {
    const r = this.r;
    const restored = r.targets.filter((t) => t.state === 'rolled-back').length;
    const stuck = r.targets.filter((t) => t.rollbackFailed).map((t) => `${t.id} (${t.message ?? 'not ready'})`);
    r.state = 'rolled-back';
    r.finishedAt = this.time;
    const done = `rolled back ${plural(restored, 'set')} to the previous image`;
    const notReady = stuck.length > 0 ? `; ${stuck.length} did not become ready again: ${stuck.join('; ')}` : '';
    r.message = `${r.cause ? `${r.cause}; ` : ''}${done}${notReady}`;
  }

  /** Why the target's set is left alone: someone else gave its container an image neither before nor after the rollout. */
  private foreignChange(t: StoredTarget): string | undefined {
    const set = this.sets.get(t.id)?.kv.value;
    const image = set ? containerImage(set.spec, this.r.container) : undefined;
    return image === t.from || image === this.r.image ? undefined : changedBySomeoneElse(this.r.container, image);
  }

  /**
   * The target's part of a batch just started (forward, or `back` to its `from`
   * image). A set of an app that serves leaves the endpoints first and is changed
   * once drained (endDrain); any other set is changed at once.
   */
  private begin(t: StoredTarget, back: boolean): void {
    const s = this.sets.get(t.id);
    if (!s) return;
    const r = this.r;
    t.state = back ? 'rolling-back' : 'updating';
    delete t.message;
    const image = back ? t.from : r.image;
    const serving = s.view.ready && !s.kv.value.draining;
    if (this.drainMs <= 0 || !serving || containerImage(s.kv.value.spec, r.container) === image) return this.change(t, back);
    const seconds = this.drainMs / 1000;
    t.draining = true;
    t.message = `out of the endpoints for ${seconds}s before ${r.container} → ${image}`;
    r.drainUntil = new Date(this.now + this.drainMs).toISOString();
    this.write(s, (set) => ({ ...set, outOfRotation: this.time, updatedAt: this.time }));
    this.event(s.kv.value, 'Normal', 'RolloutDraining', `rollout ${r.number}: ${t.message}`);
  }

  /** Once the batch's drain time is over, its drained targets are changed. */
  private endDrain(): void {
    const r = this.r;
    if (r.drainUntil === undefined || this.now < Date.parse(r.drainUntil)) return;
    for (const t of r.targets) {
      if (!t.draining) continue;
      delete t.draining;
      delete t.message;
      const foreign = this.foreignChange(t);
      if (!foreign) {
        this.change(t, t.state === 'rolling-back');
        continue;
      }
      t.foreign = true;
      this.targetFailed(t, foreign);
    }
  }

  /** Gives the target's container its image (a new generation of its set), unless the spec already has it. */
  private change(t: StoredTarget, back: boolean): void {
    const s = this.sets.get(t.id);
    if (!s) return;
    const r = this.r;
    const set = s.kv.value;
    const image = back ? t.from : r.image;
    if (containerImage(set.spec, r.container) === image) {
      t.generation = set.generation;
      return;
    }
    t.generation = set.generation + 1;
    this.write(s, (next) => ({ ...next, spec: withContainerImage(next.spec, r.container, image), generation: set.generation + 1, updatedAt: this.time }));
    const what = back ? `${r.container} → ${t.from} (rolling back, batch ${r.batch}/${r.batches})` : `${r.container} → ${r.image} (batch ${r.batch}/${r.batches})`;
    this.event(set, 'Normal', back ? 'RolloutRollingBack' : 'RolloutUpdating', `rollout ${r.number}: ${what}`);
  }

  /**
   * A set that a rollout took out of the endpoints and no longer drains (changed,
   * or the rollout stopped) loses the mark: it serves again once ready.
   */
  private backIntoRotation(): void {
    for (const t of this.r.targets) {
      const s = this.sets.get(t.id);
      if (t.draining || !s?.kv.value.outOfRotation || s.kv.value.deleting) continue;
      this.write(s, ({ outOfRotation: _back, ...rest }) => ({ ...rest, updatedAt: this.time }));
    }
  }

  /** Adds `change` to what this step writes over the set. */
  private write(s: AppMember, change: (set: SetObject) => SetObject): void {
    const id = s.kv.value.id;
    this.writes.set(id, { kv: s.kv, next: change(this.writes.get(id)?.next ?? s.kv.value) });
  }

  private event(set: SetObject, type: SetEvent['type'], reason: string, message: string): void {
    this.events.push({ set, event: { time: this.time, type, reason, message } });
  }
}
