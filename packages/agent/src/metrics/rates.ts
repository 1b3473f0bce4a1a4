/**
 * Cumulative counters → per-second rates, per thing measured (a container, a set's
 * network namespace). A restart — a new incarnation (container ID + start time) or
 * counters going backwards — never yields a negative or huge rate: the new
 * incarnation is measured from its start (its counters were 0 then) when it began
 * after the previous collection, else it starts fresh and has no rate this time.
 */

export type Counters = Record<string, number>;

/** One reading of both clocks (not the timers of health/clock.ts). */
export interface Instant {
  /** Monotonic milliseconds (performance.now), for intervals. */
  mono: number;
  /** Milliseconds since the epoch, to compare with start times. */
  wall: number;
}

export interface CounterSample {
  /** Changes when the thing restarts: container ID + start time. */
  incarnation: string;
  /** When this incarnation started (ms since the epoch), if known. */
  startedAt?: number;
  values: Counters;
}

export type RateResult =
  | { kind: 'rates'; rates: Counters }
  /** No rate this time. `wentBackwards`: a restart nobody told us about; look the container up again. */
  | { kind: 'fresh'; wentBackwards: boolean };

/** Started at most this long before the previous collection still counts as "after it" (list and start race). */
const START_SLACK_MS = 5_000;
/** A rate over less than this is mostly noise. */
const MIN_SPAN_MS = 1_000;

function perSecond(cur: Counters, base: Counters | undefined, seconds: number): Counters {
  const out: Counters = {};
  for (const k in cur) {
    const b = base === undefined ? 0 : base[k];
    if (b !== undefined) out[k] = ((cur[k] as number) - b) / seconds;
  }
  return out;
}

/** Whether any counter is lower now than before. */
function decreased(before: Counters, now: Counters): boolean {
  for (const k in now) {
    const b = before[k];
    if (b !== undefined && (now[k] as number) < b) return true;
  }
  return false;
}

export class RateKeeper {
  private readonly prev = new Map<string, { incarnation: string; mono: number; values: Counters }>();

  /**
   * `since`: wall-clock time of the previous collection (undefined on the first,
   * when no start can be told to be recent).
   */
  rate(key: string, sample: CounterSample, now: Instant, since: number | undefined): RateResult {
    const p = this.prev.get(key);
    this.prev.set(key, { incarnation: sample.incarnation, mono: now.mono, values: sample.values });
    let wentBackwards = false;
    if (p && p.incarnation === sample.incarnation) {
      const seconds = (now.mono - p.mono) / 1000;
      wentBackwards = decreased(p.values, sample.values);
      if (!wentBackwards && seconds > 0) return { kind: 'rates', rates: perSecond(sample.values, p.values, seconds) };
      if (!wentBackwards) return { kind: 'fresh', wentBackwards };
    }
    const { startedAt } = sample;
    const span = startedAt === undefined ? 0 : now.wall - startedAt;
    const recent = startedAt !== undefined && since !== undefined && startedAt >= since - START_SLACK_MS;
    if (!wentBackwards && recent && span >= MIN_SPAN_MS) return { kind: 'rates', rates: perSecond(sample.values, undefined, span / 1000) };
    return { kind: 'fresh', wentBackwards };
  }

  /** Forgets everything not in `keys` (containers and sets that are gone). */
  retain(keys: Set<string>): void {
    for (const k of this.prev.keys()) if (!keys.has(k)) this.prev.delete(k);
  }
}
