import { percent } from '../format.js';

/** A labelled progress bar with its figures as text ("3/3 ready"), for rollouts, scaling and drains. */
export function Progress({ label, now, max, text }: { label: string; now: number; max: number; text: string }) {
  return (
    <div className="app-progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={now} aria-valuetext={text}>
      <div className="progress">
        <span style={{ width: `${max === 0 ? 100 : percent(now, max)}%` }} />
      </div>
      <span className="app-progress-text">{text}</span>
    </div>
  );
}
