/** `wharf logs APPKEY/ID [-c NAME] [-f] [--tail N]`: stream a container's log to stdout. */
import { once } from 'node:events';
import type { Command } from 'commander';
import type { SetView } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatRef, type SetRef } from '../ref.js';
import { examples, parseCount, setArgument } from './common.js';

/** The business container with the lowest index: the one people usually mean. */
export function defaultContainer(set: SetView): string | undefined {
  const fromSpec = [...(set.spec?.containers ?? [])].sort((a, b) => a.index - b.index)[0];
  if (fromSpec) return fromSpec.options.name;
  return set.containers.filter((c) => c.role === 'business').sort((a, b) => a.index - b.index)[0]?.name;
}

export function registerLogs(program: Command, ctx: Context): void {
  program
    .command('logs')
    .summary("print a container's log")
    .description(
      "Print the log of a container of a set (stdout and stderr of the container). Without -c, the business " +
        'container with the lowest index. With -f, keeps streaming until Ctrl-C.',
    )
    .addArgument(setArgument())
    .option('-c, --container <name>', 'the container (default: the first business container)')
    .option('-f, --follow', 'keep streaming new lines until Ctrl-C')
    .option('--tail <n>', 'only the last N lines', parseCount)
    .addHelpText(
      'after',
      examples([
        ['wharf logs com.example.web/1', 'the log of the first business container'],
        ['wharf logs com.example.web/1 -c sidecar --tail 100', 'last 100 lines of another container'],
        ['wharf logs com.example.web/1 -f', 'follow (Ctrl-C to stop)'],
      ]),
    )
    .action(async (ref: SetRef, opts: { container?: string; follow?: boolean; tail?: number }) => {
      const client = ctx.client();
      let container = opts.container;
      if (container === undefined) {
        container = defaultContainer(await client.getSet(ref.appkey, ref.id));
        if (container === undefined) throw new CliError(`set ${formatRef(ref)} has no business container`);
      }
      const stop = new AbortController();
      const onInterrupt = (): void => stop.abort();
      process.once('SIGINT', onInterrupt);
      process.once('SIGTERM', onInterrupt);
      const out = ctx.io.stdout;
      try {
        const stream = client.logs(ref.appkey, ref.id, {
          container,
          ...(opts.follow ? { follow: true } : {}),
          ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
          signal: stop.signal,
        });
        for await (const chunk of stream) {
          if (!out.write(chunk)) await once(out, 'drain', { signal: stop.signal });
        }
      } catch (err) {
        if (stop.signal.aborted) return; // Ctrl-C: a clean end, exit 0
        throw err;
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });
}
