/**
 * The autoscaler's decision, pure: effective bounds from the base min/max and the
 * open schedule windows, a recommendation per signal (Kubernetes HPA:
 * ceil(current × observed / target), none inside ±10 %), the highest of them,
 * stabilized over a window of past recommendations, limited to a max step and
 * paced by cooldowns, then clamped to the bounds. Bounds always apply at once.
 */
import { AUTOSCALE_DEFAULTS as D, parseCron, parseDurationSeconds, cronTimes, type AutoscaleSpec, type ScheduleRule } from '@wharf/types';

export const TOLERANCE = 0.1;

/** One measured signal: `observed` and `target` in the same unit (percent of limit, or per set). */
export interface Signal {
  name: string;
  observed: number;
  target: number;
  /** `%` for utilization, '' for a custom value per set. */
  unit: string;
  sets: number;
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface ActiveSchedule {
  rule: ScheduleRule;
  start: number;
  end: number;
}

export interface Bounds {
  min: number;
  max: number;
  active: ActiveSchedule[];
  /** Why the floor and the ceiling are what they are. */
  minWhy: string;
  maxWhy: string;
}

export interface DecisionInput {
  spec: AutoscaleSpec;
  current: number;
  now: number;
  signals: Signal[];
  /** Earlier recommendations (any age: the stabilization windows pick theirs). */
  history: Recommendation[];
  lastChangeAt?: number;
}

export interface Decision {
  replicas: number;
  /** Set when replicas differs from current: the event's message. */
  reason?: string;
  /** Set when a change was wanted but held back (cooldown, stabilization). */
  held?: string;
  /** The unstabilized metric recommendation, to be kept in the history. */
  recommendation: number;
  bounds: Bounds;
}

function describeRule(r: ScheduleRule): string {
  return `schedule '${r.cron}' (${r.timezone ?? 'UTC'})`;
}

/** Windows of the rule that overlap [from, to): each opens at a cron time and lasts its duration. */
export function scheduleWindows(rule: ScheduleRule, from: number, to: number): ActiveSchedule[] {
  const cron = parseCron(rule.cron);
  const ms = parseDurationSeconds(rule.duration) * 1000;
  if (!cron.ok || !(ms > 0)) return [];
  return cronTimes(cron.cron, from - ms + 1, to, rule.timezone).map((start) => ({ rule, start, end: start + ms }));
}

/** The base bounds raised (min) and lowered (max) by the open windows; min never exceeds max. */
export function effectiveBounds(spec: AutoscaleSpec, now: number): Bounds {
  let min = spec.min;
  let max = spec.max;
  let minWhy = `min ${spec.min}`;
  let maxWhy = `max ${spec.max}`;
  const active: ActiveSchedule[] = [];
  for (const rule of spec.schedules ?? []) {
    const open = scheduleWindows(rule, now, now + 1).filter((w) => w.start <= now && now < w.end);
    const window = open[open.length - 1];
    if (!window) continue;
    active.push(window);
    if (rule.min !== undefined && rule.min > min) {
      min = rule.min;
      minWhy = `${describeRule(rule)} raises min to ${rule.min}`;
    }
    if (rule.max !== undefined && rule.max < max) {
      max = rule.max;
      maxWhy = `${describeRule(rule)} lowers max to ${rule.max}`;
    }
  }
  // A floor above the ceiling: the ceiling wins (the safer side for capacity is unknown; the cap is explicit).
  if (min > max) min = max;
  return { min, max, active, minWhy, maxWhy };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 0);
}

function describeSignal(s: Signal): string {
  const cmp = s.observed > s.target ? '>' : '<';
  const what = s.unit === '%' ? `${s.name} ${fmt(s.observed)}% of limit` : `${s.name} ${fmt(s.observed)} per set`;
  return `${what} ${cmp} target ${fmt(s.target)}${s.unit} over ${s.sets} set${s.sets === 1 ? '' : 's'}`;
}

/** The HPA recommendation of one signal: unchanged inside the tolerance. */
export function recommend(current: number, s: Signal): number {
  const ratio = s.observed / s.target;
  if (Math.abs(ratio - 1) <= TOLERANCE) return current;
  return Math.ceil(current * ratio);
}

function hasTargets(spec: AutoscaleSpec): boolean {
  return spec.cpu !== undefined || spec.memory !== undefined || (spec.metrics?.length ?? 0) > 0;
}

export function decide(input: DecisionInput): Decision {
  const { spec, current, now, signals } = input;
  const bounds = effectiveBounds(spec, now);
  const clampToBounds = (n: number) => Math.min(bounds.max, Math.max(bounds.min, n));
  let recommendation = current;

  if (!hasTargets(spec)) {
    // Scheduled scaling only: replicas follow the floor.
    const replicas = clampToBounds(bounds.min);
    recommendation = replicas;
    return finish(replicas, replicas > current ? bounds.minWhy : bounds.max < current ? bounds.maxWhy : `back to ${bounds.minWhy}`);
  }

  let winner: Signal | undefined;
  for (const s of signals) {
    const r = recommend(current, s);
    if (winner === undefined || r > recommendation) {
      recommendation = r;
      winner = s;
    }
  }
  if (signals.length === 0) {
    const replicas = clampToBounds(current);
    return finish(replicas, replicas > current ? bounds.minWhy : bounds.maxWhy);
  }

  // Stabilization (HPA): up to the lowest recommendation of the up window, down to the highest of the down window.
  const upMs = (spec.scaleUpStabilizationSeconds ?? D.scaleUpStabilizationSeconds) * 1000;
  const downMs = (spec.scaleDownStabilizationSeconds ?? D.scaleDownStabilizationSeconds) * 1000;
  const recent = (ms: number) => [...input.history.filter((h) => h.at > now - ms && h.at <= now).map((h) => h.replicas), recommendation];
  const upTo = Math.min(...recent(upMs));
  const downTo = Math.max(...recent(downMs));
  let wanted = current;
  let held: string | undefined;
  if (upTo > current) wanted = upTo;
  else if (downTo < current) wanted = downTo;
  else if (recommendation !== current) held = `recommendation ${recommendation} held by the ${recommendation > current ? 'scale-up' : 'scale-down'} stabilization window`;

  let note = '';
  if (wanted > current) {
    const step = spec.maxStepUp ?? Math.max(D.maxStepUpSets, Math.ceil((current * D.maxStepUpPercent) / 100));
    if (wanted > current + step) {
      wanted = current + step;
      note = ` (max step up ${step})`;
    }
  } else if (wanted < current) {
    const step = spec.maxStepDown ?? D.maxStepDown;
    if (wanted < current - step) {
      wanted = current - step;
      note = ` (max step down ${step})`;
    }
  }

  if (wanted !== current && input.lastChangeAt !== undefined) {
    const cooldownS = wanted > current ? (spec.scaleUpCooldownSeconds ?? D.scaleUpCooldownSeconds) : (spec.scaleDownCooldownSeconds ?? D.scaleDownCooldownSeconds);
    const left = input.lastChangeAt + cooldownS * 1000 - now;
    if (left > 0) {
      held = `${current} → ${wanted} held: cooldown ${cooldownS}s, ${Math.ceil(left / 1000)}s left`;
      wanted = current;
    }
  }

  const replicas = clampToBounds(wanted);
  if (replicas !== wanted) {
    const bound = replicas > wanted ? bounds.minWhy : bounds.maxWhy;
    // Capped on the way the signal pushes: say both what pushed and what stopped it.
    const pushed = winner && Math.sign(replicas - current) === Math.sign(wanted - current) ? `${describeSignal(winner)}, capped by ${bound}` : bound;
    return { ...finish(replicas, pushed), ...(held ? { held } : {}) };
  }
  const reason = replicas !== current && winner ? `${describeSignal(winner)}${note}` : '';
  return { ...finish(replicas, reason), ...(held ? { held } : {}) };

  function finish(replicas: number, why: string): Decision {
    return { replicas, recommendation, bounds, ...(replicas !== current ? { reason: `${why}: ${current} → ${replicas}` } : {}) };
  }
}
