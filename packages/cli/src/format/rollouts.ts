/** Views of rollouts: the status page, the history table and the progress line of `--wait`/`--watch`. */
import type { Rollout } from '@wharf/types';
import { formatDuration } from '../duration.js';
import { plural } from '../errors.js';
import { age } from './age.js';
import { fields, when } from './fields.js';
import { bar } from './hosts.js';
import { cell, renderTable } from './table.js';

const BAR_WIDTH = 20;

export function rolloutName(r: Pick<Rollout, 'number' | 'appkey'>): string {
  return `rollout ${r.number} of ${r.appkey}`;
}

/** The states after which nothing moves until someone acts. */
export function isSettled(r: Pick<Rollout, 'state'>): boolean {
  return r.state === 'succeeded' || r.state === 'failed' || r.state === 'rolled-back' || r.state === 'paused';
}

/**
 * How far it got: sets updated of all targets, or while rolling back, sets
 * rolled back of those the rollout had reached (the ones with a batch).
 */
function rolloutProgress(r: Rollout): { done: number; total: number; what: string } {
  if (r.state === 'rolling-back' || r.state === 'rolled-back') {
    return { done: r.targets.filter((t) => t.state === 'rolled-back').length, total: r.targets.filter((t) => t.batch !== undefined).length, what: 'rolled back' };
  }
  return { done: r.targets.filter((t) => t.state === 'updated').length, total: r.targets.length, what: 'updated' };
}

/** `[████░░░░] 2/6 updated` */
function progressBar(r: Rollout): string {
  const p = rolloutProgress(r);
  return `[${bar(p.done, p.total, BAR_WIDTH)}] ${p.done}/${p.total} ${p.what}`;
}

function batchText(r: Rollout): string {
  if (r.batch === 0) return r.state === 'rolling-back' ? 'rollback not started' : 'no batch started';
  return `${r.state === 'rolling-back' || r.state === 'rolled-back' ? 'rollback ' : ''}batch ${r.batch}/${r.batches}`;
}

/** `rollout 3 of com.x: [████░░░░] 2/6 updated · batch 1/3 · running` and the message, if any. */
export function progressLine(r: Rollout): string {
  return `${rolloutName(r)}: ${progressBar(r)} · ${batchText(r)} · ${r.state}${r.message ? ` (${r.message})` : ''}`;
}

/** `web → img:2 on 6 sets, 3 batches of 2` */
export function rolloutSummary(r: Rollout): string {
  const sets = r.set !== undefined ? `set ${r.set}` : plural(r.targets.length, 'set');
  const batches = r.batches > 0 ? `, ${plural(r.batches, 'batch', 'batches')} of ${r.batchSize}` : '';
  return `${r.container} → ${r.image} on ${sets}${batches}`;
}

function options(r: Rollout): string {
  const on = [r.pauseAfterFirst ? 'pause after the first batch' : undefined, r.autoRollback ? 'roll back on failure' : undefined].filter(Boolean);
  return on.length > 0 ? on.join(', ') : '<none>';
}

/** The page of `wharf rollout status`. */
export function renderRollout(r: Rollout, now: number): string {
  const head = fields([
    ['Rollout', `${r.number} of ${r.appkey}${r.tenant !== 'default' ? ` (tenant ${r.tenant})` : ''}`],
    ['Container', `${r.container} → ${r.image}${r.set !== undefined ? ` (set ${r.set} only)` : ''}`],
    ['State', `${r.state}, ${batchText(r)}`],
    ['Progress', progressBar(r)],
    ['Message', r.message],
    ['Batches', `${plural(r.batchSize, 'set')} each, at most ${r.maxUnavailable} not ready, timeout ${formatDuration(r.timeoutSeconds * 1000)}`],
    ['Options', options(r)],
    ['Created', when(r.createdAt, now)],
    ['Finished', when(r.finishedAt, now)],
  ]);
  const rows = r.targets.map((t) => [cell(t.id), cell(t.from), t.state, t.batch !== undefined ? String(t.batch) : '-', cell(t.message)]);
  return `${head}\n\n${renderTable(['SET', 'FROM', 'STATE', 'BATCH', 'MESSAGE'], rows)}`;
}

/** The table of `wharf rollout history`, newest first as the server lists them. */
export function renderHistory(rollouts: Rollout[], now: number): string {
  const rows = rollouts.map((r) => {
    const p = rolloutProgress(r);
    return [String(r.number), r.container, cell(r.image), r.state, `${p.done}/${p.total} ${p.what}`, age(r.createdAt, now), r.finishedAt ? age(r.finishedAt, now) : '-'];
  });
  return renderTable(['NUMBER', 'CONTAINER', 'IMAGE', 'STATE', 'SETS', 'CREATED', 'FINISHED'], rows);
}
