/** `wharf delete set APPKEY/ID [--wait]`. */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { formatRef, type SetRef } from '../ref.js';
import { waitForSet } from '../wait.js';
import { addWaitOptions, examples, setArgument, waitSettings, type WaitFlags } from './common.js';

export function registerDelete(program: Command, ctx: Context): void {
  const del = program
    .command('delete')
    .summary('delete a set')
    .description('Delete an object.')
    .addHelpText('after', examples([['wharf delete set com.example.web/1 --wait', 'delete a set and wait until it is gone']]));

  const cmd = del
    .command('set')
    .summary('delete a set')
    .description(
      'Delete a set. The server marks it "deleting" at once; the agent removes its containers and volume, ' +
        'then the set disappears. --wait waits for that.',
    )
    .addArgument(setArgument());
  addWaitOptions(cmd, 'the set and its containers are gone')
    .addHelpText(
      'after',
      examples([
        ['wharf delete set com.example.web/1', 'request deletion and return'],
        ['wharf delete set com.example.web/1 --wait --timeout 60s', 'and wait until it is gone'],
      ]),
    )
    .action(async (ref: SetRef, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const set = await client.deleteSet(ref.appkey, ref.id);
      if (!wait) {
        ctx.out(`set ${formatRef(ref)} deleting`);
        return;
      }
      await waitForSet({ client, clock: ctx.clock, progress: await ctx.progress(), ref, goal: { kind: 'deleted' }, timeoutMs, initial: set });
      ctx.out(`set ${formatRef(ref)} deleted`);
    });
}
