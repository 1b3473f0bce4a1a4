/**
 * `wharf rollout start|status|pause|resume|rollback|history APPKEY`: gray
 * (canary) image updates. One container of the app's sets gets a new image,
 * batch by batch; the server runs the batches, the CLI starts and follows them.
 */
import { Option, type Command } from 'commander';
import type { RolloutAction, WharfClient } from '@wharf/client';
import type { Rollout, RolloutRequest } from '@wharf/types';
import type { Context } from '../context.js';
import { parseSeconds } from '../duration.js';
import { CliError, plural } from '../errors.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import { isSettled, progressLine, renderHistory, renderRollout, rolloutName, rolloutSummary } from '../format/rollouts.js';
import type { Progress } from '../progress.js';
import { POLL_INTERVAL_MS, type Clock } from '../wait.js';
import { examples, parseBatch, parsePositiveInt } from './common.js';

/** --timeout of a batch: a duration, 5s to 24h, in whole seconds. */
export function parseBatchTimeout(text: string): number {
  return parseSeconds(text, { min: 5, max: 86_400, hint: 'a batch timeout is from 5s to 24h, e.g. 300s or 5m' });
}

export interface StartFlags {
  container: string;
  image: string;
  set?: string;
  batch?: number | string;
  pauseAfterFirst?: boolean;
  maxUnavailable?: number;
  autoRollbackOnFailure?: boolean;
  timeout?: number;
  wait?: boolean;
}

export function rolloutRequest(f: StartFlags): RolloutRequest {
  return {
    container: f.container,
    image: f.image,
    ...(f.set !== undefined ? { set: f.set } : {}),
    ...(f.batch !== undefined ? { batch: f.batch } : {}),
    ...(f.pauseAfterFirst ? { pauseAfterFirst: true } : {}),
    ...(f.maxUnavailable !== undefined ? { maxUnavailable: f.maxUnavailable } : {}),
    ...(f.autoRollbackOnFailure ? { autoRollback: true } : {}),
    ...(f.timeout !== undefined ? { timeoutSeconds: f.timeout } : {}),
  };
}

export interface FollowOptions {
  client: Pick<WharfClient, 'getRollout'>;
  clock: Clock;
  progress: Progress;
  appkey: string;
  number: number;
  intervalMs?: number;
}

/** Polls the rollout until it succeeds, fails, is rolled back or pauses; shows its progress bar meanwhile. */
export async function followRollout(opts: FollowOptions): Promise<Rollout> {
  for (;;) {
    const r = await opts.client.getRollout(opts.appkey, opts.number);
    const line = progressLine(r);
    if (isSettled(r)) {
      if (r.state === 'failed' || r.state === 'rolled-back') opts.progress.fail(line);
      else opts.progress.succeed(line);
      return r;
    }
    opts.progress.update(line);
    await opts.clock.sleep(opts.intervalMs ?? POLL_INTERVAL_MS);
  }
}

/** The last word on a followed rollout: a line on stdout, or a CliError (exit 1) when it failed or was rolled back. */
function conclude(ctx: Context, r: Rollout): void {
  const name = rolloutName(r);
  if (r.state === 'failed' || r.state === 'rolled-back') {
    throw new CliError(`${name} ${r.state === 'failed' ? 'failed' : 'was rolled back'}: ${r.message ?? 'no reason given'}`, [`  details: wharf rollout status ${r.appkey}`]);
  }
  if (r.state === 'paused') {
    ctx.out(`${name} paused: ${r.message ?? 'paused'}`);
    ctx.note(`resume it with: wharf rollout resume ${r.appkey}   (or roll it back: wharf rollout rollback ${r.appkey})`);
    return;
  }
  ctx.out(`${name} succeeded${r.message ? `: ${r.message}` : ''}`);
}

const FORMATS = ['text', 'json', 'yaml'] as const;
type Format = (typeof FORMATS)[number];

async function show(ctx: Context, data: unknown, format: Format, text: () => string): Promise<void> {
  ctx.out(format === 'text' ? text() : await serialize(data, format));
}

const ACTION_WORDS: Record<RolloutAction, { summary: string; detail: string; done: (r: Rollout) => string }> = {
  pause: {
    summary: 'pause the current rollout after the batch under way',
    detail: 'Pause the app\'s current rollout: no further batch starts; a batch under way still finishes. Only a running rollout can be paused.',
    done: (r) => `${rolloutName(r)} paused (${r.batch}/${r.batches} batches started)`,
  },
  resume: {
    summary: 'resume a paused rollout',
    detail: 'Resume the app\'s paused rollout (also one paused by --pause-after-first).',
    done: (r) => `${rolloutName(r)} resumed (${r.state})`,
  },
  rollback: {
    summary: 'put the previous image back on every set the rollout changed',
    detail:
      'Roll back the app\'s current rollout: every set it changed gets its previous image back, in batches of the same size, each ready before the next. ' +
      'Works while it runs or is paused, after it failed, and after it succeeded (an undo). Sets whose image someone else changed meanwhile are left alone.',
    done: (r) => `${rolloutName(r)} rolling back (${plural(r.batches, 'batch', 'batches')} of up to ${r.batchSize})`,
  },
};

export function registerRollout(program: Command, ctx: Context): void {
  const rollout = program
    .command('rollout')
    .summary('gray (canary) image updates of one container of an app')
    .description(
      'Gray (canary) image updates: one container (by its options.name) of every set of an app, or of one set, gets a new image, ' +
        'batch by batch. Inside a set only that container is recreated; the infra container, the IP, the volume and the other containers stay. ' +
        'Each batch must be ready before the next starts; a failing batch stops the rollout (and with --auto-rollback-on-failure rolls it back).',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf rollout start com.x --container web --image web:2 --wait', 'update web in every set, 25% at a time'],
        ['wharf rollout status com.x --watch', 'follow the current rollout'],
        ['wharf rollout rollback com.x', 'put the previous image back'],
        ['wharf rollout history com.x', 'every rollout of the app'],
      ]),
    );

  rollout
    .command('start')
    .summary('start a rollout of a new image for one container')
    .description(
      'Start a rollout: CONTAINER of the app\'s sets (or of the one --set) gets IMAGE, --batch sets at a time (default 25%, rounded up). ' +
        'A batch starts only when the one before is ready and no more than --max-unavailable sets of the app (default: the batch size) would be not ready. ' +
        'A batch not ready within --timeout (default 5m) fails the rollout. One rollout per app runs at a time.',
    )
    .argument('<appkey>', 'the app')
    .requiredOption('--container <name>', 'the container (its options.name) whose image changes')
    .requiredOption('--image <image>', 'the new image')
    .option('--set <id>', 'only this set of the app')
    .addOption(new Option('--batch <size>', 'sets per batch: a number, or a percentage of the sets (default 25%)').argParser(parseBatch))
    .option('--pause-after-first', 'pause once the first batch is ready (check it, then: wharf rollout resume)')
    .addOption(new Option('--max-unavailable <n>', 'at most this many sets of the app not ready at a time (default: the batch size)').argParser(parsePositiveInt))
    .option('--auto-rollback-on-failure', 'when a batch fails, put the previous image back on every set already changed')
    .addOption(new Option('--timeout <duration>', 'a batch not ready within this fails the rollout, e.g. 300s or 5m (default 5m)').argParser(parseBatchTimeout))
    .option('--wait', 'follow the rollout with a progress bar until it ends or pauses; exit 1 if it fails or is rolled back')
    .addHelpText(
      'after',
      examples([
        ['wharf rollout start com.x --container web --image web:2', 'start and return at once'],
        ['wharf rollout start com.x --container web --image web:2 --batch 1 --pause-after-first --wait', 'one canary set, then pause'],
        ['wharf rollout start com.x --container web --image web:2 --batch 50% --auto-rollback-on-failure', 'roll back if a batch fails'],
        ['wharf rollout start com.x --container web --image web:2 --set 3', 'only set com.x/3'],
      ]),
    )
    .action(async (appkey: string, flags: StartFlags) => {
      const client = ctx.client();
      const r = await client.startRollout(appkey, rolloutRequest(flags));
      ctx.out(`${rolloutName(r)} started: ${rolloutSummary(r)}`);
      if (isSettled(r)) return conclude(ctx, r);
      if (!flags.wait) {
        ctx.note(`follow it with: wharf rollout status ${appkey} --watch`);
        return;
      }
      conclude(ctx, await followRollout({ client, clock: ctx.clock, progress: await ctx.progress(), appkey, number: r.number }));
    });

  rollout
    .command('status')
    .summary('show the current rollout: state, batch and every set')
    .description('Show the app\'s current (newest) rollout: its state, batch n/m, progress and a table of its sets (set, previous image, state, batch, message). --watch follows it until it ends or pauses, then shows it; it exits 1 if the rollout failed or was rolled back.')
    .argument('<appkey>', 'the app')
    .option('--watch', 'follow the rollout with a progress bar until it ends or pauses')
    .addOption(outputOption(FORMATS))
    .addHelpText('after', examples([['wharf rollout status com.x', 'where the rollout is'], ['wharf rollout status com.x --watch', 'follow it to the end'], ['wharf rollout status com.x -o json', 'the API object']]))
    .action(async (appkey: string, opts: { watch?: boolean; output: Format }) => {
      const client = ctx.client();
      let r = await client.getRollout(appkey, 'current');
      if (opts.watch && !isSettled(r)) r = await followRollout({ client, clock: ctx.clock, progress: await ctx.progress(), appkey, number: r.number });
      await show(ctx, r, opts.output, () => renderRollout(r, ctx.clock.now()));
      if (opts.watch && (r.state === 'failed' || r.state === 'rolled-back')) throw new CliError(`${rolloutName(r)} ${r.state === 'failed' ? 'failed' : 'was rolled back'}`);
    });

  rollout
    .command('history')
    .summary("list the app's rollouts, newest first")
    .argument('<appkey>', 'the app')
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText('after', examples([['wharf rollout history com.x', 'NUMBER CONTAINER IMAGE STATE SETS CREATED FINISHED']]))
    .action(async (appkey: string, opts: { output: TableFormat }) => {
      const list = await ctx.client().listRollouts(appkey);
      if (opts.output !== 'table') return ctx.out(await serialize(list, opts.output));
      if (list.length === 0) return ctx.note(`app ${appkey} has had no rollout`);
      ctx.out(renderHistory(list, ctx.clock.now()));
    });

  for (const [action, words] of Object.entries(ACTION_WORDS) as [RolloutAction, (typeof ACTION_WORDS)[RolloutAction]][]) {
    rollout
      .command(action)
      .summary(words.summary)
      .description(words.detail)
      .argument('<appkey>', 'the app')
      .addHelpText('after', examples([[`wharf rollout ${action} com.x`, words.summary]]))
      .action(async (appkey: string) => {
        const r = await ctx.client().rolloutAction(appkey, action);
        ctx.out(words.done(r));
        if (action !== 'pause') ctx.note(`follow it with: wharf rollout status ${appkey} --watch`);
      });
  }
}
