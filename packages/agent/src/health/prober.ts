/**
 * Runs the liveness and readiness probes of running business containers.
 *
 * The reconciler hands over, after every reconcile of a set, which containers run
 * with which probes (`sync`); a container that stops, is recreated or restarted (a
 * new start time), or whose probes change gets a fresh watch. Each probe has its own
 * timer: the first run `initialDelaySeconds` after the container's StartedAt, then
 * every `periodSeconds` after the previous run began, never two at once; runs across
 * all sets share a concurrency limit.
 *
 * Verdicts: readiness starts failing and passes after successThreshold successes in a
 * row; liveness starts passing; either fails after failureThreshold failures in a
 * row. A change calls `onChange`; a failing liveness probe calls `onLivenessFailure`
 * (the agent kills the container). A container that already ran past its initial
 * delay before this prober existed (the agent restarted) is probed at once, and one
 * success is enough, so its verdicts do not flap; `firstResults` waits for those.
 */
import type { Logger } from 'pino';
import type { ResolvedProbe } from '@wharf/types';
import type { Engine } from '../docker/engine.js';
import { systemClock, type Clock } from './clock.js';
import { Limiter } from './limiter.js';
import { runProbe, type ProbeOutcome } from './probes.js';

export interface ProbeTarget {
  name: string;
  id: string;
  startedAt: string;
  liveness?: ResolvedProbe;
  readiness?: ResolvedProbe;
}

/** The probes' word on a container: a field only for the probes it has. */
export interface HealthVerdict {
  ready?: boolean;
  healthy?: boolean;
}

export interface LivenessFailure {
  name: string;
  id: string;
  startedAt: string;
  /** "liveness probe failed 3 times: <output>" */
  message: string;
}

export interface ProberOptions {
  engine: Engine;
  log: Logger;
  clock?: Clock;
  /** Probe runs at once, across all sets. Default 8. */
  concurrency?: number;
  /** A container's ready or healthy verdict changed. */
  onChange(ref: string): void;
  onLivenessFailure(ref: string, failure: LivenessFailure): void;
}

type Kind = 'liveness' | 'readiness';

interface ProbeState {
  kind: Kind;
  spec: ResolvedProbe;
  passing: boolean;
  successes: number;
  failures: number;
  /** A result came in (or the wait for it gave up). */
  answered: boolean;
  /** Its first result is awaited before the set's first report (adopted, past its initial delay). */
  awaited: boolean;
  running: boolean;
  timer?: unknown;
}

interface Watch {
  ref: string;
  name: string;
  id: string;
  startedAt: string;
  /** The probes' specs: a change starts a new watch. */
  specKey: string;
  /** It ran before this prober existed. */
  adopted: boolean;
  probes: ProbeState[];
  stopped: boolean;
}

interface SetProbes {
  infraId?: string;
  watches: Map<string, Watch>;
  waiters: (() => void)[];
}

/** Waiting for first results never takes longer than the slowest probe's timeout and this. */
const FIRST_RESULT_MARGIN_MS = 1_000;

export class Prober {
  private readonly sets = new Map<string, SetProbes>();
  private readonly clock: Clock;
  private readonly limiter: Limiter;
  private readonly bornAt: number;
  private closed = false;

  constructor(private readonly opts: ProberOptions) {
    this.clock = opts.clock ?? systemClock;
    this.limiter = new Limiter(opts.concurrency ?? 8);
    this.bornAt = this.clock.now();
  }

  /** The running business containers of a set that have probes, and its infra container. */
  sync(ref: string, infraId: string | undefined, targets: ProbeTarget[]): void {
    if (this.closed) return;
    let set = this.sets.get(ref);
    if (!set) {
      if (targets.length === 0) return;
      set = { watches: new Map(), waiters: [] };
      this.sets.set(ref, set);
    }
    set.infraId = infraId;
    const wanted = new Map(targets.filter((t) => t.liveness || t.readiness).map((t) => [t.name, t]));
    for (const [name, w] of set.watches) {
      const t = wanted.get(name);
      if (!t || t.id !== w.id || t.startedAt !== w.startedAt || specKey(t) !== w.specKey) {
        this.stopWatch(w);
        set.watches.delete(name);
      }
    }
    for (const t of wanted.values()) if (!set.watches.has(t.name)) set.watches.set(t.name, this.watch(ref, t));
    if (set.watches.size === 0) {
      this.sets.delete(ref);
      for (const w of set.waiters.splice(0)) w();
    }
  }

  /** undefined for a container this prober does not watch (in this run of it). */
  verdict(id: string, startedAt: string | undefined): HealthVerdict | undefined {
    for (const set of this.sets.values()) {
      for (const w of set.watches.values()) {
        if (w.id !== id || w.startedAt !== startedAt) continue;
        const v: HealthVerdict = {};
        for (const p of w.probes) v[p.kind === 'readiness' ? 'ready' : 'healthy'] = p.passing;
        return v;
      }
    }
    return undefined;
  }

  /** Some adopted container of the set still waits for its first probe results. */
  awaiting(ref: string): boolean {
    const set = this.sets.get(ref);
    return !!set && [...set.watches.values()].some((w) => w.probes.some((p) => p.awaited && !p.answered));
  }

  /**
   * Resolves once the first results of the set's adopted containers are in, at most
   * the slowest of their probes' timeouts (and a second) from now.
   */
  firstResults(ref: string): Promise<void> {
    const set = this.sets.get(ref);
    const awaited = set ? [...set.watches.values()].flatMap((w) => w.probes.filter((p) => p.awaited && !p.answered)) : [];
    if (!set || awaited.length === 0) return Promise.resolve();
    const limit = Math.max(...awaited.map((p) => p.spec.timeoutSeconds)) * 1000 + FIRST_RESULT_MARGIN_MS;
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        for (const p of awaited) p.answered = true;
        resolve();
      }, limit);
      set.waiters.push(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  forget(ref: string): void {
    const set = this.sets.get(ref);
    if (!set) return;
    for (const w of set.watches.values()) this.stopWatch(w);
    this.sets.delete(ref);
    for (const w of set.waiters.splice(0)) w();
  }

  close(): void {
    this.closed = true;
    for (const ref of [...this.sets.keys()]) this.forget(ref);
  }

  private watch(ref: string, t: ProbeTarget): Watch {
    const now = this.clock.now();
    const started = Date.parse(t.startedAt);
    const adopted = started < this.bornAt;
    const probes: ProbeState[] = [];
    for (const [kind, spec] of [['liveness', t.liveness], ['readiness', t.readiness]] as const) {
      if (!spec) continue;
      const firstAt = started + spec.initialDelaySeconds * 1000;
      probes.push({ kind, spec, passing: kind === 'liveness', successes: 0, failures: 0, answered: false, awaited: adopted && firstAt <= now, running: false });
    }
    const w: Watch = { ref, name: t.name, id: t.id, startedAt: t.startedAt, specKey: specKey(t), adopted, probes, stopped: false };
    for (const p of probes) this.schedule(w, p, started + p.spec.initialDelaySeconds * 1000 - now);
    return w;
  }

  private stopWatch(w: Watch): void {
    w.stopped = true;
    for (const p of w.probes) if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
  }

  private schedule(w: Watch, p: ProbeState, inMs: number): void {
    if (w.stopped) return;
    p.timer = this.clock.setTimeout(() => {
      p.timer = undefined;
      void this.run(w, p);
    }, Math.max(0, inMs));
  }

  private async run(w: Watch, p: ProbeState): Promise<void> {
    if (w.stopped || p.running) return;
    p.running = true;
    const began = this.clock.now();
    let outcome: ProbeOutcome | undefined;
    try {
      outcome = await this.limiter.run(() => (w.stopped ? Promise.resolve(undefined) : runProbe(this.opts.engine, p.spec, w.id, this.sets.get(w.ref)?.infraId)));
    } catch (err) {
      this.opts.log.debug({ set: w.ref, container: w.name, probe: p.kind, err: String(err) }, 'probe did not run');
    } finally {
      p.running = false;
    }
    if (w.stopped) return;
    if (outcome) this.record(w, p, outcome);
    this.schedule(w, p, began + p.spec.periodSeconds * 1000 - this.clock.now());
  }

  private record(w: Watch, p: ProbeState, outcome: ProbeOutcome): void {
    const before = p.passing;
    const first = !p.answered;
    p.answered = true;
    if (outcome.ok) {
      p.successes++;
      p.failures = 0;
      // An adopted container's first success stands for the streak it surely had before.
      if (!p.passing && (p.successes >= p.spec.successThreshold || (first && w.adopted))) p.passing = true;
    } else {
      p.failures++;
      p.successes = 0;
      this.opts.log.debug({ set: w.ref, container: w.name, probe: p.kind, failures: p.failures, output: outcome.output }, 'probe failed');
      if (p.failures >= p.spec.failureThreshold) {
        p.passing = false;
        if (p.kind === 'liveness') {
          const message = `liveness probe failed ${p.failures} times: ${outcome.output}`;
          p.failures = 0;
          this.opts.onLivenessFailure(w.ref, { name: w.name, id: w.id, startedAt: w.startedAt, message });
        }
      }
    }
    if (p.passing !== before) {
      this.opts.log.info({ set: w.ref, container: w.name, probe: p.kind, passing: p.passing }, `${p.kind} probe ${p.passing ? 'passes' : 'fails'}`);
      this.opts.onChange(w.ref);
    }
    if (first) this.wakeWaiters(w.ref);
  }

  private wakeWaiters(ref: string): void {
    const set = this.sets.get(ref);
    if (!set || set.waiters.length === 0) return;
    if (!this.awaiting(ref)) for (const w of set.waiters.splice(0)) w();
  }
}

function specKey(t: ProbeTarget): string {
  return JSON.stringify([t.liveness ?? null, t.readiness ?? null]);
}
