/**
 * The next 24 hours of an autoscale spec: the replica floor and ceiling the
 * schedules make, as a step chart. Computed in the browser from the (edited)
 * spec with the cron matcher of @wharf/types, the way the autoscaler combines
 * windows: an open window raises the floor to its min and lowers the ceiling to
 * its max; a floor above the ceiling yields to it.
 */
import { cronTimes, isTimeZone, parseCron, parseDurationSeconds, type AutoscaleSpec } from '@wharf/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Windows longer than this are not looked for before `from` (keeps the minute scan short). */
const MAX_LOOKBACK = 31 * DAY;

interface Window {
  start: number;
  end: number;
  min: number | undefined;
  max: number | undefined;
}

export interface Step {
  at: number;
  min: number;
  max: number;
}

function windows(spec: AutoscaleSpec, from: number, to: number): Window[] {
  return (spec.schedules ?? []).flatMap((rule) => {
    const cron = parseCron(rule.cron);
    const ms = parseDurationSeconds(rule.duration) * 1000;
    if (!cron.ok || !(ms > 0) || (rule.timezone !== undefined && !isTimeZone(rule.timezone))) return [];
    return cronTimes(cron.cron, from - Math.min(ms, MAX_LOOKBACK) + 1, to, rule.timezone).map((start) => ({ start, end: start + ms, min: rule.min, max: rule.max }));
  });
}

function boundsAt(spec: AutoscaleSpec, open: Window[]): { min: number; max: number } {
  let { min, max } = spec;
  for (const w of open) {
    if (w.min !== undefined && Number.isFinite(w.min) && w.min > min) min = w.min;
    if (w.max !== undefined && Number.isFinite(w.max) && w.max < max) max = w.max;
  }
  return { min: Math.min(min, max), max };
}

/** Floor and ceiling from `now` for 24 h: one step per change. */
export function nextDay(spec: AutoscaleSpec, now: number): Step[] {
  const end = now + DAY;
  const ws = windows(spec, now, end);
  const cuts = new Set<number>([now]);
  for (const w of ws) for (const t of [w.start, w.end]) if (t > now && t < end) cuts.add(t);
  const steps: Step[] = [];
  for (const at of [...cuts].sort((a, b) => a - b)) {
    const b = boundsAt(spec, ws.filter((w) => w.start <= at && at < w.end));
    const last = steps[steps.length - 1];
    if (!last || last.min !== b.min || last.max !== b.max) steps.push({ at, ...b });
  }
  return steps;
}

const W = 720;
const H = 220;
const M = { l: 40, r: 12, t: 12, b: 28 };

function stepPath(steps: Step[], x: (t: number) => number, y: (n: number) => number, pick: (s: Step) => number, end: number): string {
  return steps.map((s, i) => `${i === 0 ? `M${x(s.at)},${y(pick(s))}` : `V${y(pick(s))}`}H${x(steps[i + 1]?.at ?? end)}`).join('');
}

function hourLabel(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The step chart; `current` is drawn as a dotted line, `follows` says whether replicas sit on the floor. */
export function AutoscaleChart({ spec, current, now = Date.now() }: { spec: AutoscaleSpec; current: number; now?: number }) {
  if (!Number.isFinite(spec.min) || !Number.isFinite(spec.max)) return <p className="muted">Give min and max to see the next 24 hours.</p>;
  const steps = nextDay(spec, now);
  const end = now + DAY;
  const top = Math.max(1, current, ...steps.map((s) => s.max));
  const x = (t: number) => M.l + ((t - now) / DAY) * (W - M.l - M.r);
  const y = (n: number) => M.t + (1 - n / top) * (H - M.t - M.b);
  const floor = stepPath(steps, x, y, (s) => s.min, end);
  const ceiling = stepPath(steps, x, y, (s) => s.max, end);
  const band = `${ceiling}V${y(steps[steps.length - 1]?.min ?? 0)}${[...steps].reverse().map((s, i, r) => `H${x(s.at)}V${y(r[i + 1]?.min ?? s.min)}`).join('')}Z`;
  const firstHour = Math.ceil(now / HOUR) * HOUR;
  const ticks = Array.from({ length: 8 }, (_, i) => firstHour + i * 3 * HOUR).filter((t) => t < end);
  const targets = spec.cpu !== undefined || spec.memory !== undefined || (spec.metrics?.length ?? 0) > 0;
  const floors = steps.map((s) => s.min);
  const summary = `Next 24 hours: floor ${Math.min(...floors)} to ${Math.max(...floors)}, ceiling ${Math.min(...steps.map((s) => s.max))} to ${Math.max(...steps.map((s) => s.max))}, ${steps.length - 1} change${steps.length === 2 ? '' : 's'}.`;
  return (
    <figure className="step-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        {[0, Math.round(top / 2), top].map((n) => (
          <g key={n} className="grid-line">
            <line x1={M.l} x2={W - M.r} y1={y(n)} y2={y(n)} />
            <text x={M.l - 6} y={y(n) + 4} textAnchor="end">
              {n}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <text key={t} className="tick" x={x(t)} y={H - 8} textAnchor="middle">
            {hourLabel(t)}
          </text>
        ))}
        <path className="band" d={band} />
        <path className="ceiling" d={ceiling} />
        <path className="floor" d={floor} />
        <line className="current" x1={M.l} x2={W - M.r} y1={y(current)} y2={y(current)} />
      </svg>
      <figcaption>
        <span className="key floor">{targets ? 'Floor (min)' : 'Floor (min): replicas follow it, no metric targets'}</span>
        <span className="key ceiling">Ceiling (max)</span>
        <span className="key current">Replicas now ({current})</span>
        <br />
        <small>{summary}</small>
      </figcaption>
    </figure>
  );
}
