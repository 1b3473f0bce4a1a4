/** `wharf describe set APPKEY/ID`: everything about one set, for people. */
import type { Command } from 'commander';
import type { SetEvent } from '@wharf/types';
import type { Context } from '../context.js';
import { describeSet } from '../format/describe.js';
import type { SetRef } from '../ref.js';
import { examples, setArgument } from './common.js';

export function registerDescribe(program: Command, ctx: Context): void {
  const describe = program
    .command('describe')
    .summary('show details of a set')
    .description('Show details of an object, for people (use "get ... -o yaml" for machines).')
    .addHelpText('after', examples([['wharf describe set com.example.web/1', 'status, containers and recent events']]));

  describe
    .command('set')
    .summary('show details of a set')
    .description(
      'Show a set: identity, status and message, host, desired state, generation, resources, volume, ' +
        'its containers (index, name, role, image, state, restarts, exit code, start, CPU, memory, ID) and recent events.',
    )
    .addArgument(setArgument())
    .addHelpText('after', examples([['wharf describe set com.example.web/1', 'why is my set not running?']]))
    .action(async (ref: SetRef) => {
      const client = ctx.client();
      const set = await client.getSet(ref.appkey, ref.id);
      let events: SetEvent[] | Error;
      try {
        events = await client.setEvents(ref.appkey, ref.id);
      } catch (err) {
        events = err instanceof Error ? err : new Error(String(err));
      }
      ctx.out(describeSet(set, events, ctx.clock.now()));
    });
}
