/** A state as a coloured word: green when all is well, amber on the way, red when failed (or the `tone` given). */
const GOOD = new Set(['running', 'ready', 'true', 'done', 'completed', 'succeeded']);
const BAD = new Set(['failed', 'degraded', 'not-ready', 'dead', 'exited', 'rolled-back', 'error']);

export function Badge({ state, tone = GOOD.has(state) ? 'good' : BAD.has(state) ? 'bad' : 'busy' }: { state: string; tone?: 'good' | 'busy' | 'bad' }) {
  return <span className={`badge ${tone}`}>{state}</span>;
}
