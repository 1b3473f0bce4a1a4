/**
 * `wharf scale APPKEY --replicas N [--wait]`: one request; the server creates the
 * missing sets or drains the ones its scale-in policy picks. --wait follows the app
 * with a progress bar until N sets are ready and no set is left leaving.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { WharfClient } from '@wharf/client';
import { MAX_REPLICAS, type AppView } from '@wharf/types';
import type { Context } from '../context.js';
import { formatDuration } from '../duration.js';
import { CliError, plural } from '../errors.js';
import { isScaled, scaleProgressLine } from '../format/apps.js';
import type { Progress } from '../progress.js';
import type { Clock } from '../wait.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';

export function parseReplicas(text: string): number {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n > MAX_REPLICAS) throw new InvalidArgumentError(`expected a whole number of sets, 0 to ${MAX_REPLICAS}`);
  return n;
}

export function replicasOption(required = true): Option {
  const o = new Option('--replicas <n>', 'the number of sets').argParser(parseReplicas);
  return required ? o.makeOptionMandatory() : o;
}

export function warmPoolOption(): Option {
  return new Option('--warm-pool <n>', 'standby sets kept started and paused beyond the replicas; a scale-out resumes them first').argParser(parseReplicas);
}

/** Poll interval of --wait: an app's view reads every set's status. */
export const SCALE_POLL_MS = 500;

export interface FollowScaleOptions {
  client: Pick<WharfClient, 'getApp'>;
  clock: Clock;
  progress: Progress;
  appkey: string;
  replicas: number;
  timeoutMs: number;
  intervalMs?: number;
}

/** Sets not ready yet, with why: `3 (pending: waiting to be scheduled)`. */
function laggards(view: AppView): string[] {
  return view.sets
    .filter((s) => !s.ready && !s.draining && s.status !== 'deleting')
    .slice(0, 5)
    .map((s) => `  set ${view.appkey}/${s.id}: ${s.status}${s.message ? ` (${s.message})` : ''}`);
}

/**
 * Polls the app until it has `replicas` ready sets and none leaving. Throws
 * CliError on timeout, when the app is deleted, or when someone scales it to
 * another count meanwhile.
 */
export async function followScale(opts: FollowScaleOptions): Promise<AppView> {
  const { client, clock, progress, appkey, replicas } = opts;
  const deadline = clock.now() + opts.timeoutMs;
  for (;;) {
    const view = await client.getApp(appkey);
    const line = scaleProgressLine(view);
    if (isScaled(view, replicas)) {
      progress.succeed(line);
      return view;
    }
    if (view.deleting || view.replicas !== replicas) {
      progress.fail(line);
      throw new CliError(view.deleting ? `app ${appkey} is being deleted` : `app ${appkey} was scaled to ${view.replicas} meanwhile; stopped waiting for ${replicas}`);
    }
    progress.update(line);
    const now = clock.now();
    if (now >= deadline) {
      progress.fail(line);
      const left = view.leaving > 0 ? `, ${view.leaving} still leaving` : '';
      throw new CliError(`timed out after ${formatDuration(opts.timeoutMs)} waiting for app ${appkey} to have ${plural(replicas, 'ready set')}; it has ${view.ready}/${replicas} ready${left}`, laggards(view));
    }
    await clock.sleep(Math.min(opts.intervalMs ?? SCALE_POLL_MS, deadline - now));
  }
}

export function registerScale(program: Command, ctx: Context): void {
  const cmd = program
    .command('scale')
    .summary("set the number of an app's sets")
    .description(
      'Set the number of sets of an app. Scale-out creates the missing sets from the app\'s template (ids 1, 2, 3 … filling gaps). ' +
        'Scale-in picks sets by the app\'s policy (newest first, or least loaded), takes them out of the endpoints at once, ' +
        'and stops them after the app\'s drainSeconds (containers in reverse index order). ' +
        'With --wait, shows a progress bar until that many sets are ready and the leaving ones are gone. ' +
        'With a warm pool (--warm-pool N: standby sets created, started and paused ahead), a scale-out resumes standby sets first, ' +
        'in milliseconds each, then creates the rest; the pool is refilled behind it.',
    )
    .argument('<appkey>', 'the app')
    .addOption(replicasOption())
    .addOption(warmPoolOption());
  addWaitOptions(cmd, 'that many sets are ready and no set is leaving')
    .addHelpText(
      'after',
      examples([
        ['wharf scale com.example.web --replicas 10 --wait', 'ten ready sets, with a progress bar'],
        ['wharf scale com.example.web --replicas 2', 'scale in and return at once'],
        ['wharf scale com.example.web --replicas 50 --timeout 5m', 'wait up to five minutes'],
        ['wharf scale com.example.web --replicas 2 --warm-pool 20', 'two serving sets, twenty more started and paused for the next peak'],
      ]),
    )
    .action(async (appkey: string, opts: { replicas: number; warmPool?: number } & WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const before = await client.getApp(appkey);
      const view = await client.scaleApp(appkey, opts.replicas, opts.warmPool);
      const pool = opts.warmPool !== undefined ? `, warm pool ${before.spec.warmPool ?? 0} → ${view.spec.warmPool ?? 0}` : '';
      ctx.out(`app ${appkey} scaled: replicas ${before.replicas} → ${view.replicas}${pool}`);
      if (!wait) return;
      await followScale({ client, clock: ctx.clock, progress: await ctx.progress(), appkey, replicas: opts.replicas, timeoutMs });
    });
}
