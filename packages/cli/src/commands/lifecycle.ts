/** `wharf start|stop|restart set APPKEY/ID [--wait]`: one module, three commands. */
import type { Command } from 'commander';
import type { SetAction } from '@wharf/client';
import type { Context } from '../context.js';
import { formatRef, type SetRef } from '../ref.js';
import { waitForSet, type WaitGoal } from '../wait.js';
import { addWaitOptions, examples, setArgument, waitSettings, type WaitFlags } from './common.js';

const WORDS: Record<SetAction, { summary: string; detail: string; until: string; ing: string; done: string }> = {
  start: {
    summary: 'start a stopped set',
    detail: 'Start a stopped set: its desired state becomes running. --wait waits until the set is running.',
    until: 'the set is running',
    ing: 'starting',
    done: 'started',
  },
  stop: {
    summary: 'stop a set (keeps its containers, volume and IP)',
    detail: 'Stop a set: its desired state becomes stopped; its containers stop but are kept, with its volume and IP. --wait waits until it is stopped.',
    until: 'the set is stopped',
    ing: 'stopping',
    done: 'stopped',
  },
  restart: {
    summary: 'restart every container of a set',
    detail: 'Restart every container of a set, in index order. --wait waits until every container has started again and the set is running.',
    until: 'every container has started again',
    ing: 'restarting',
    done: 'restarted',
  },
};

function goalFor(action: SetAction, since: number): WaitGoal {
  switch (action) {
    case 'start':
      return { kind: 'running', since };
    case 'stop':
      return { kind: 'stopped', since };
    case 'restart':
      return { kind: 'restarted', since };
  }
}

export function registerLifecycle(program: Command, ctx: Context, action: SetAction): void {
  const words = WORDS[action];
  const parent = program
    .command(action)
    .summary(words.summary)
    .description(`${words.summary[0]?.toUpperCase()}${words.summary.slice(1)}.`)
    .addHelpText('after', examples([[`wharf ${action} set com.example.web/1 --wait`, `${action} a set and wait`]]));

  const cmd = parent.command('set').summary(words.summary).description(words.detail).addArgument(setArgument());
  addWaitOptions(cmd, words.until)
    .addHelpText(
      'after',
      examples([
        [`wharf ${action} set com.example.web/1`, 'ask and return at once'],
        [`wharf ${action} set com.example.web/1 --wait --timeout 90s`, `and wait until ${words.until}`],
      ]),
    )
    .action(async (ref: SetRef, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      const since = ctx.clock.now();
      const set = await client.setAction(ref.appkey, ref.id, action);
      if (!wait) {
        ctx.out(`set ${formatRef(ref)} ${words.ing}`);
        return;
      }
      await waitForSet({ client, clock: ctx.clock, progress: await ctx.progress(), ref, goal: goalFor(action, since), timeoutMs, initial: set });
      ctx.out(`set ${formatRef(ref)} ${words.done}`);
    });
}
