/**
 * One step of a rollout, decided from what the store holds (pure): which targets
 * are done or failed, whether the rollout ends, pauses or rolls back, and which
 * sets the next batch changes. The controller writes the result in one
 * transaction, so a step is either wholly applied or looked at again.
 */
import type { KeyValue } from '@wharf/store';
import type { SetEvent, SetObject, SetView } from '@wharf/types';
import type { AppMember } from '../state/apps.js';
import { beginRollback, containerImage, withContainerImage, type StoredRollout, type StoredTarget } from '../state/rollouts.js';

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

export function stepRollout(current: StoredRollout, sets: ReadonlyMap<string, AppMember>, now: number): Step {
  const rollout = structuredClone(current);
  const stepper = new Stepper(rollout, sets, now);
  stepper.run();
  const changed = JSON.stringify(rollout) !== JSON.stringify(current);
  if (changed) rollout.updatedAt = stepper.time;
  return { rollout, changed, writes: stepper.writes, events: stepper.events };
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

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

class Stepper {
  readonly writes: Step['writes'] = [];
  readonly events: Step['events'] = [];
  readonly time: string;
  /** Forward targets that failed in this step, as `set ID: why`. */
  private readonly failures: string[] = [];

  constructor(
    private readonly r: StoredRollout,
    private readonly sets: ReadonlyMap<string, AppMember>,
    private readonly now: number,
  ) {
    this.time = new Date(now).toISOString();
  }

  run(): void {
    this.skipDeleted();
    this.watchInFlight();
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
    }
  }

  private watchInFlight(): void {
    const pending: StoredTarget[] = [];
    for (const t of this.inFlight()) {
      const s = this.sets.get(t.id);
      if (!s) continue;
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
          this.targetFailed(t, `${this.r.container} was changed to ${verdict.image ?? '(no such container)'} by someone else; left as it is`);
          break;
      }
    }
    if (pending.length === 0 || !this.timedOut(this.r.batchStartedAt)) return;
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
    r.state = 'failed';
    r.message = cause;
    r.finishedAt = this.time;
    delete r.blockedSince;
  }

  private nextBatch(): void {
    const r = this.r;
    const waiting = r.targets.filter((t) => t.state === 'waiting');
    for (const t of waiting) {
      const set = this.sets.get(t.id)?.kv.value;
      const image = set ? containerImage(set.spec, r.container) : undefined;
      if (image !== t.from && image !== r.image) {
        t.foreign = true;
        this.targetFailed(t, `${r.container} was changed to ${image ?? '(no such container)'} by someone else; left as it is`);
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
    delete r.message;
    for (const t of waiting.slice(0, size)) {
      t.batch = r.batch;
      this.start(t, r.image, 'updating', 'RolloutUpdating', `rollout ${r.number}: ${r.container} → ${r.image} (batch ${r.batch}/${r.batches})`);
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
    for (const t of queue.slice(0, size)) {
      delete t.restore;
      const set = this.sets.get(t.id)?.kv.value;
      const image = set ? containerImage(set.spec, r.container) : undefined;
      if (image !== t.from && image !== r.image) {
        t.foreign = true;
        t.state = 'failed';
        t.message = `${r.container} was changed to ${image ?? '(no such container)'} by someone else; left as it is`;
        continue;
      }
      this.start(t, t.from, 'rolling-back', 'RolloutRollingBack', `rollout ${r.number}: ${r.container} → ${t.from} (rolling back, batch ${r.batch}/${r.batches})`);
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

  /** Gives the target's container `image` (a new generation of its set), unless the spec already has it. */
  private start(t: StoredTarget, image: string, state: 'updating' | 'rolling-back', reason: string, message: string): void {
    const s = this.sets.get(t.id);
    if (!s) return;
    const set = s.kv.value;
    t.state = state;
    delete t.message;
    if (containerImage(set.spec, this.r.container) === image) {
      t.generation = set.generation;
      return;
    }
    const next: SetObject = { ...set, spec: withContainerImage(set.spec, this.r.container, image), generation: set.generation + 1, updatedAt: this.time };
    t.generation = next.generation;
    this.writes.push({ kv: s.kv, next });
    this.event(set, 'Normal', reason, message);
  }

  private event(set: SetObject, type: SetEvent['type'], reason: string, message: string): void {
    this.events.push({ set, event: { time: this.time, type, reason, message } });
  }
}
