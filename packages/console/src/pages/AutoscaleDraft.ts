/**
 * The autoscale editor's state: the spec's fields as the texts of their inputs,
 * and back. Empty optional fields are left out of the spec; what is not a number
 * is sent as it is, so the server names the field.
 */
import { AUTOSCALE_DEFAULTS, type AutoscaleSpec, type ScheduleRule } from '@wharf/types';
import { numText, textNum } from './AppFields.js';

export const PACING = [
  ['scaleUpStabilizationSeconds', 'Scale-up stabilization (s)', AUTOSCALE_DEFAULTS.scaleUpStabilizationSeconds],
  ['scaleDownStabilizationSeconds', 'Scale-down stabilization (s)', AUTOSCALE_DEFAULTS.scaleDownStabilizationSeconds],
  ['scaleUpCooldownSeconds', 'Scale-up cooldown (s)', AUTOSCALE_DEFAULTS.scaleUpCooldownSeconds],
  ['scaleDownCooldownSeconds', 'Scale-down cooldown (s)', AUTOSCALE_DEFAULTS.scaleDownCooldownSeconds],
  ['maxStepUp', 'Most sets added per change', 'double, at least 4'],
  ['maxStepDown', 'Most sets removed per change', AUTOSCALE_DEFAULTS.maxStepDown],
] as const;

export type PacingKey = (typeof PACING)[number][0];

export interface ScheduleDraft {
  cron: string;
  timezone: string;
  duration: string;
  min: string;
  max: string;
}

export interface MetricDraft {
  name: string;
  target: string;
}

export interface Draft {
  min: string;
  max: string;
  cpu: string;
  memory: string;
  pacing: Record<PacingKey, string>;
  metrics: MetricDraft[];
  schedules: ScheduleDraft[];
}

export const NEW_SCHEDULE: ScheduleDraft = { cron: '0 9 * * 1-5', timezone: 'UTC', duration: '8h', min: '', max: '' };
export const NEW_METRIC: MetricDraft = { name: '', target: '' };

export function toDraft(spec: AutoscaleSpec): Draft {
  return {
    min: numText(spec.min),
    max: numText(spec.max),
    cpu: numText(spec.cpu),
    memory: numText(spec.memory),
    pacing: Object.fromEntries(PACING.map(([k]) => [k, numText(spec[k])])) as Record<PacingKey, string>,
    metrics: (spec.metrics ?? []).map((m) => ({ name: m.name, target: numText(m.target) })),
    schedules: (spec.schedules ?? []).map((s) => ({ cron: s.cron, timezone: s.timezone ?? '', duration: s.duration, min: numText(s.min), max: numText(s.max) })),
  };
}

/** Only the keys whose value is given. */
function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** A required number: NaN (sent as null) when empty, so the server names the field. */
function required(s: string): number {
  return textNum(s) ?? NaN;
}

export function toSpec(d: Draft): AutoscaleSpec {
  const schedules = d.schedules.map((s): ScheduleRule => ({
    cron: s.cron.trim(),
    duration: s.duration.trim(),
    ...given({ timezone: s.timezone.trim(), min: textNum(s.min), max: textNum(s.max) }),
  }));
  return {
    min: required(d.min),
    max: required(d.max),
    ...given({ cpu: textNum(d.cpu), memory: textNum(d.memory) }),
    ...given(Object.fromEntries(PACING.map(([k]) => [k, textNum(d.pacing[k])]))),
    ...(d.metrics.length > 0 ? { metrics: d.metrics.map((m) => ({ name: m.name.trim(), target: required(m.target) })) } : {}),
    ...(schedules.length > 0 ? { schedules } : {}),
  };
}

/** A first spec for an app without autoscaling: its replicas up to double, CPU at 70 %. */
export function starterSpec(replicas: number): AutoscaleSpec {
  return { min: Math.max(1, replicas), max: Math.max(2, replicas * 2), cpu: 70 };
}
