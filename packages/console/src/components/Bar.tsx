import type { VolumeView } from '@wharf/types';
import { bytes, percent } from '../format.js';

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

/** A volume's use of its limit, from its host's last heartbeat. */
export function VolumeUsageBar({ v }: { v: VolumeView }) {
  if (v.used === undefined) return <span className="muted">not reported yet</span>;
  return <Bar label="Used" used={v.used} total={v.quota ?? v.size} format={bytes} />;
}
