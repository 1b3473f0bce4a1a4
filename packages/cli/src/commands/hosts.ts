/** `wharf cordon|uncordon|drain HOST`: take a host out of scheduling, or empty it. */
import type { Command } from 'commander';
import { WharfError } from '@wharf/types';
import type { Host } from '@wharf/types';
import type { Context } from '../context.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';

/** "3 sets left to move" / "done; 1 set cannot move (it has a volume): a/1" */
export function drainProgress(h: Host): { done: boolean; text: string } {
  const remaining = h.drain?.remaining ?? h.sets;
  const moving = h.drain?.moving ?? 0;
  const blocked = h.drain?.blocked ?? [];
  const movable = remaining - blocked.length;
  const stuck = blocked.length ? `; ${blocked.length} cannot move (local volume): ${blocked.join(', ')}` : '';
  if (movable <= 0 && moving === 0) return { done: true, text: `host ${h.name} drained${stuck}` };
  const starting = moving ? `, ${moving} starting elsewhere` : '';
  return { done: false, text: `draining ${h.name}: ${movable} set${movable === 1 ? '' : 's'} left to move${starting}${stuck}` };
}

export function registerHostCommands(program: Command, ctx: Context): void {
  const simple = { cordon: 'mark a host unschedulable; its sets keep running', uncordon: 'make a host schedulable again (ends a drain)' } as const;
  for (const [action, summary] of Object.entries(simple) as ['cordon' | 'uncordon', string][]) {
    program
      .command(`${action} <host>`)
      .summary(summary)
      .description(`${summary[0]?.toUpperCase()}${summary.slice(1)}.`)
      .addHelpText('after', examples([[`wharf ${action} host1`, summary]]))
      .action(async (name: string) => {
        const h = await ctx.client().hostAction(name, action);
        ctx.out(`host ${h.name} ${action}ed (${h.state})`);
      });
  }

  const drain = program
    .command('drain <host>')
    .summary('cordon a host and move its sets elsewhere, one at a time')
    .description('Cordon a host and move its sets without a local volume to other hosts, one at a time (each runs again before the next moves). Sets with a volume stay and are listed. Ends with `wharf uncordon`.');
  addWaitOptions(drain, 'every movable set has left the host')
    .addHelpText('after', examples([['wharf drain host1 --wait', 'drain and follow progress'], ['wharf uncordon host1', 'take it back into service']]))
    .action(async (name: string, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      let h = await client.hostAction(name, 'drain');
      if (!wait) {
        ctx.out(drainProgress(h).text);
        return;
      }
      const progress = await ctx.progress();
      const deadline = ctx.clock.now() + timeoutMs;
      for (;;) {
        const p = drainProgress(h);
        if (p.done) {
          progress.succeed(p.text);
          ctx.out(p.text);
          return;
        }
        progress.update(p.text);
        if (ctx.clock.now() > deadline) {
          progress.fail(p.text);
          throw new WharfError('CONFLICT', `timed out waiting for host ${name} to drain: ${p.text}`);
        }
        await ctx.clock.sleep(500);
        h = await client.getHost(name);
      }
    });
}
