/** `wharf autoscale status`: effective bounds, signals, schedule windows and recent decisions. */
import type { AutoscaleSpec, AutoscaleStatus, ScheduleWindow } from '@wharf/types';
import { age } from './age.js';
import { fields } from './fields.js';
import { renderTable } from './table.js';

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 0);
}

export function targetsText(spec: AutoscaleSpec): string {
  const parts = [
    ...(spec.cpu !== undefined ? [`cpu ${spec.cpu}%`] : []),
    ...(spec.memory !== undefined ? [`memory ${spec.memory}%`] : []),
    ...(spec.metrics ?? []).map((m) => `${m.name} ${m.target} per set`),
  ];
  return parts.length > 0 ? parts.join(', ') : 'none (scheduled scaling only: replicas follow min)';
}

function bound(w: ScheduleWindow): string {
  return [...(w.min !== undefined ? [`min=${w.min}`] : []), ...(w.max !== undefined ? [`max=${w.max}`] : [])].join(' ');
}

function windowRows(windows: ScheduleWindow[]): string[][] {
  return windows.map((w) => [w.start, w.end, `'${w.cron}'`, w.timezone, bound(w)]);
}

export function describeAutoscale(s: AutoscaleStatus, now: number): string {
  if (!s.spec) return `app ${s.appkey}: autoscaling is off (${s.current} replicas)`;
  const spec = s.spec;
  const lines = [
    fields([
      ['App', s.appkey],
      ['Replicas', `${s.current} now, ${s.desired} wanted by the metrics and bounds`],
      ['Bounds', `min ${s.min}${s.min !== spec.min ? ` (base ${spec.min})` : ''}, max ${s.max}${s.max !== spec.max ? ` (base ${spec.max})` : ''}`],
      ['Targets', targetsText(spec)],
      ['Signals', s.signals.length > 0 ? s.signals.map((g) => `${g.name} ${num(g.observed)}${g.unit === '%' ? '% of limit' : ' per set'} over ${g.sets} sets (target ${num(g.target)}${g.unit})`).join('\n') : 'no data'],
      ['Active', s.active.length > 0 ? s.active.map((w) => `'${w.cron}' (${w.timezone}) ${bound(w)} until ${w.end}`).join('\n') : 'no schedule window open'],
    ]),
  ];
  lines.push('', 'Schedule windows in the next 24 h:');
  lines.push(s.upcoming.length > 0 ? renderTable(['START', 'END', 'CRON', 'ZONE', 'BOUNDS'], windowRows(s.upcoming), { indent: '  ' }) : '  none');
  lines.push('', 'Recent decisions:');
  lines.push(s.decisions.length > 0 ? renderTable(['AGE', 'DECISION'], s.decisions.map((d) => [age(d.time, now), d.message]), { indent: '  ' }) : '  none');
  return lines.join('\n');
}
