/** `wharf set move APPKEY/ID --to HOST [--wait]`: a stopped set, with its volume, to another host. */
import type { Command } from 'commander';
import { ConnectionError, type WharfClient } from '@wharf/client';
import type { SetEvent, SetView } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Progress } from '../progress.js';
import { formatRef, type SetRef } from '../ref.js';
import { waitForSet, type Clock } from '../wait.js';
import { addWaitOptions, examples, setArgument, waitSettings, type WaitFlags } from './common.js';

/** How often a move whose connection was lost is looked at. */
export const MOVE_POLL_MS = 2000;
/** How long at most a move whose connection was lost is followed. */
export const MOVE_FOLLOW_MS = 24 * 3600_000;

function moveFailures(events: SetEvent[]): SetEvent[] {
  return events.filter((e) => e.reason === 'MoveFailed');
}

/**
 * The server finishes a move even when the client goes away (a copy may outlast
 * the HTTP client's patience): after a lost connection, follow the set until it is
 * on the target, or a new MoveFailed event says why it is not.
 */
export async function followMove(client: Pick<WharfClient, 'getSet' | 'setEvents'>, clock: Clock, ref: SetRef, target: string, failuresBefore: number, deadline: number): Promise<SetView> {
  for (;;) {
    const view = await client.getSet(ref.appkey, ref.id);
    if (view.host === target) return view;
    const failures = moveFailures(await client.setEvents(ref.appkey, ref.id));
    if (failures.length > failuresBefore) throw new CliError(`set ${formatRef(ref)} was not moved: ${failures.at(-1)?.message ?? 'the move failed'}`);
    if (clock.now() >= deadline) throw new CliError(`set ${formatRef(ref)} is not on host ${target} yet; the server may still be copying its volume (look with: wharf describe set ${formatRef(ref)})`);
    await clock.sleep(MOVE_POLL_MS);
  }
}

export function registerSet(program: Command, ctx: Context): void {
  const set = program
    .command('set')
    .summary('move a set to another host')
    .description('Operations on one set that are not about its spec.')
    .addHelpText('after', examples([['wharf set move com.example.db/1 --to h2 --wait', 'move a stopped set with its volume and wait until it runs there']]));

  const move = set
    .command('move')
    .summary('move a stopped set, with its volume, to another host')
    .description(
      'Move a set with its volume to another host. The set must be stopped (wharf stop set … --wait); the target must be ' +
        "ready, not cordoned, have the resources the set reserves and reach its networks (its placement preferences — zones, " +
        'host selector, spread — do not apply). The target host copies the volume ' +
        'from the current one; when the checksums of both copies agree, the set is placed on the target and started there, ' +
        "and the old copy goes to the old host's recycle bin. On any failure the set stays where it is. The command returns " +
        'when the copy is done; --wait also waits until the set runs on the new host.',
    )
    .addArgument(setArgument())
    .requiredOption('--to <host>', 'the target host');
  addWaitOptions(move, 'the set runs on the new host')
    .addHelpText(
      'after',
      examples([
        ['wharf stop set com.example.db/1 --wait', 'first stop it'],
        ['wharf set move com.example.db/1 --to h2', 'copy its volume to h2 and start it there'],
        ['wharf set move com.example.db/1 --to h2 --wait --timeout 5m', 'and wait until it runs there'],
      ]),
    )
    .action(async (ref: SetRef, opts: WaitFlags & { to: string }) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const name = formatRef(ref);
      // Counted first, so a failure of this move is told from older ones if the connection is lost.
      const failuresBefore = moveFailures(await client.setEvents(ref.appkey, ref.id)).length;
      const progress: Progress = await ctx.progress();
      progress.update(`${name}: copying its volume to host ${opts.to}…`);
      let view: SetView;
      try {
        view = await client.moveSet(ref.appkey, ref.id, opts.to);
      } catch (err) {
        if (!(err instanceof ConnectionError)) {
          progress.fail(`${name}: not moved`);
          throw err;
        }
        progress.update(`${name}: the connection was lost; the server goes on copying, following the set…`);
        try {
          view = await followMove(client, ctx.clock, ref, opts.to, failuresBefore, ctx.clock.now() + MOVE_FOLLOW_MS);
        } catch (e) {
          progress.fail(`${name}: not moved`);
          throw e;
        }
      }
      progress.succeed(`${name}: volume copied to ${opts.to}, checksums match`);
      if (!wait) {
        ctx.out(`set ${name} moved to host ${opts.to}; starting there`);
        return;
      }
      const since = ctx.clock.now();
      await waitForSet({ client, clock: ctx.clock, progress, ref, goal: { kind: 'running', since }, timeoutMs, initial: view });
      ctx.out(`set ${name} moved to host ${opts.to} and running`);
    });
}
