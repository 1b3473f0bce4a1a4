import { percent } from '../format.js';

/** An allocation bar: `used` of `total`, with the figures as text. */
export function Bar({ label, used, total, format }: { label: string; used: number; total: number; format: (n: number) => string }) {
  const p = percent(used, total);
  return (
    <div className="bar" title={`${label}: ${format(used)} of ${format(total)} (${p}%)`}>
      <span className="bar-label">{label}</span>
      <span className="bar-track" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={total} aria-valuenow={used}>
        <span className={`bar-fill${p >= 90 ? ' hot' : p >= 70 ? ' warm' : ''}`} style={{ width: `${p}%` }} />
      </span>
      <span className="bar-text">
        {format(used)} / {format(total)}
      </span>
    </div>
  );
}
