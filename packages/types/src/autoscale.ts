/**
 * An app's autoscaling: bounds, metric targets, the pacing of changes, and
 * scheduled rules (cron in a time zone) that raise `min` or lower `max` for a
 * window. Also the small 5-field cron matcher the schedules use.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldError } from './errors.js';
import { METRIC_NAME_PATTERN } from './patterns.js';

export const AUTOSCALE_DEFAULTS = {
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
  scaleUpCooldownSeconds: 30,
  scaleDownCooldownSeconds: 120,
  /** Up to double, or 4 sets, whichever is more, per change. */
  maxStepUpPercent: 100,
  maxStepUpSets: 4,
  maxStepDown: 1,
} as const;

const Seconds = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description }));
const Percent = (description: string) => Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, description }));

export const CustomMetricTarget = Type.Object(
  {
    name: Type.String({ pattern: METRIC_NAME_PATTERN, description: 'Name of a metric pushed to POST /v1/apps/{appkey}/metrics' }),
    target: Type.Number({ exclusiveMinimum: 0, description: 'Wanted value per set (the pushed app total divided by the ready sets)' }),
  },
  { additionalProperties: false },
);
export type CustomMetricTarget = Static<typeof CustomMetricTarget>;

export const ScheduleRule = Type.Object(
  {
    cron: Type.String({ description: "When the window opens: 5-field cron (minute hour day-of-month month day-of-week), e.g. '0 11 * * *'" }),
    timezone: Type.Optional(Type.String({ description: 'IANA time zone of the cron fields (default UTC)' })),
    duration: Type.String({ pattern: '^\\d+[smhd]$', description: "How long the window stays open, e.g. '3h', '90m'" }),
    min: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'Floor while the window is open' })),
    max: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'Ceiling while the window is open' })),
  },
  { additionalProperties: false },
);
export type ScheduleRule = Static<typeof ScheduleRule>;

export const AutoscaleSpec = Type.Object(
  {
    min: Type.Integer({ minimum: 0, maximum: 10_000 }),
    max: Type.Integer({ minimum: 0, maximum: 10_000 }),
    cpu: Percent('Target CPU use, percent of the sets\' CPU limit'),
    memory: Percent('Target memory use, percent of the sets\' memory limit'),
    metrics: Type.Optional(Type.Array(CustomMetricTarget, { maxItems: 8 })),
    scaleUpStabilizationSeconds: Seconds('Scale up to the lowest recommendation of this window (default 0)'),
    scaleDownStabilizationSeconds: Seconds('Scale down only to the highest recommendation of this window (default 300)'),
    scaleUpCooldownSeconds: Seconds('Seconds after any change before scaling up again (default 30)'),
    scaleDownCooldownSeconds: Seconds('Seconds after any change before scaling down again (default 120)'),
    maxStepUp: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most sets added per change (default: double, at least 4)' })),
    maxStepDown: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most sets removed per change (default 1)' })),
    schedules: Type.Optional(Type.Array(ScheduleRule, { maxItems: 32 })),
  },
  { additionalProperties: false, description: 'Metric-based and scheduled scaling between min and max' },
);
export type AutoscaleSpec = Static<typeof AutoscaleSpec>;

/** Semantic checks the schema cannot express; paths start at the spec (`schedules[0].cron`). */
export function autoscaleErrors(a: AutoscaleSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (a.min > a.max) errors.push({ path: 'max', message: `must be at least min (${a.min})` });
  (a.schedules ?? []).forEach((s, i) => {
    const at = `schedules[${i}]`;
    const cron = parseCron(s.cron);
    if (!cron.ok) errors.push({ path: `${at}.cron`, message: cron.error });
    if (s.timezone !== undefined && !isTimeZone(s.timezone)) errors.push({ path: `${at}.timezone`, message: `"${s.timezone}" is not an IANA time zone (e.g. Asia/Shanghai)` });
    if (s.min === undefined && s.max === undefined) errors.push({ path: at, message: 'give min, max or both' });
    if (s.min !== undefined && s.max !== undefined && s.min > s.max) errors.push({ path: `${at}.max`, message: `must be at least min (${s.min})` });
    if (parseDurationSeconds(s.duration) === 0) errors.push({ path: `${at}.duration`, message: 'must be longer than 0' });
  });
  const names = (a.metrics ?? []).map((m) => m.name);
  names.forEach((n, i) => names.indexOf(n) !== i && errors.push({ path: `metrics[${i}].name`, message: `"${n}" is listed twice` }));
  return errors;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** '3h' → 10800; NaN when malformed. */
export function parseDurationSeconds(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  return m ? Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number) : NaN;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---- cron ----

export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** Day-of-month and day-of-week restricted both: either matches (as in Vixie cron). */
  eitherDay: boolean;
}

const FIELDS = [
  { name: 'minute', lo: 0, hi: 59 },
  { name: 'hour', lo: 0, hi: 23 },
  { name: 'day-of-month', lo: 1, hi: 31 },
  { name: 'month', lo: 1, hi: 12 },
  { name: 'day-of-week', lo: 0, hi: 7 },
] as const;

function parseField(text: string, lo: number, hi: number): Set<number> | string {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `"${part}" is not a number, range, list or step`;
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to) return `"${part}" is outside ${lo}-${hi}`;
    if (step < 1) return `"${part}": the step must be at least 1`;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** Parses `minute hour day-of-month month day-of-week` (numbers, `*`, lists, ranges, steps; Sunday is 0 or 7). */
export function parseCron(text: string): { ok: true; cron: Cron } | { ok: false; error: string } {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) return { ok: false, error: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}` };
  const sets: Set<number>[] = [];
  for (const [i, f] of FIELDS.entries()) {
    const r = parseField(parts[i] as string, f.lo, f.hi);
    if (typeof r === 'string') return { ok: false, error: `${f.name}: ${r}` };
    sets.push(r);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (dayOfWeek.has(7)) dayOfWeek.add(0);
  return { ok: true, cron: { minute, hour, dayOfMonth, month, dayOfWeek, eitherDay: parts[2] !== '*' && parts[4] !== '*' } };
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `ms` in time zone `tz`. */
function zonedFields(ms: number, tz: string): { minute: number; hour: number; day: number; month: number; weekday: number } {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', minute: 'numeric', hour: 'numeric', day: 'numeric', month: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday: WEEKDAYS[p.weekday as string] ?? 0 };
}

/** Whether the minute containing `ms` matches the cron in `tz`. */
export function cronMatches(cron: Cron, ms: number, tz = 'UTC'): boolean {
  const t = zonedFields(ms, tz);
  if (!cron.minute.has(t.minute) || !cron.hour.has(t.hour) || !cron.month.has(t.month)) return false;
  const dom = cron.dayOfMonth.has(t.day);
  const dow = cron.dayOfWeek.has(t.weekday);
  return cron.eitherDay ? dom || dow : dom && dow;
}

/** Start times (whole minutes, ms) matching the cron in [from, to). */
export function cronTimes(cron: Cron, from: number, to: number, tz = 'UTC'): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / 60_000) * 60_000; t < to; t += 60_000) if (cronMatches(cron, t, tz)) out.push(t);
  return out;
}

// ---- the API's view ----

export const MetricSample = Type.Object(
  {
    name: Type.String({ pattern: METRIC_NAME_PATTERN }),
    value: Type.Number({ minimum: 0, description: "The app's total (e.g. requests per second over all its sets); the autoscaler divides by the ready sets" }),
    time: Type.Optional(Type.String({ format: 'date-time', description: 'When it was measured (default: when received)' })),
  },
  { additionalProperties: false },
);
export type MetricSample = Static<typeof MetricSample>;

export const ScheduleWindow = Type.Object({
  cron: Type.String(),
  timezone: Type.String(),
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
  start: Type.String(),
  end: Type.String(),
});
export type ScheduleWindow = Static<typeof ScheduleWindow>;

export const AutoscaleSignal = Type.Object({
  name: Type.String(),
  observed: Type.Number(),
  target: Type.Number(),
  unit: Type.String({ description: "'%' of the sets' limit, or '' for a value per set" }),
  sets: Type.Integer(),
});
export type AutoscaleSignal = Static<typeof AutoscaleSignal>;

export const AutoscaleStatus = Type.Object({
  appkey: Type.String(),
  spec: Type.Optional(AutoscaleSpec),
  /** Replicas now. */
  current: Type.Integer(),
  /** What the metrics and bounds ask for now, before stabilization and cooldowns. */
  desired: Type.Integer(),
  min: Type.Integer({ description: 'Effective floor (base min raised by open schedule windows)' }),
  max: Type.Integer({ description: 'Effective ceiling (base max lowered by open schedule windows)' }),
  active: Type.Array(ScheduleWindow),
  signals: Type.Array(AutoscaleSignal),
  /** The autoscaler's recent changes, oldest first. */
  decisions: Type.Array(Type.Object({ time: Type.String(), message: Type.String() })),
  /** Schedule windows opening in the next 24 hours. */
  upcoming: Type.Array(ScheduleWindow),
});
export type AutoscaleStatus = Static<typeof AutoscaleStatus>;
