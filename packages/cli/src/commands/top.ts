/** `wharf top sets|hosts`: the newest CPU, memory, network and disk figures, once or every 2 s. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { Context } from '../context.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import { renderTopHosts, renderTopSets, sortHosts, type HostSort } from '../format/top.js';
import { examples, parsePositiveInt } from './common.js';

export const WATCH_INTERVAL_MS = 2000;
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

interface TopFlags {
  output: TableFormat;
  watch?: boolean;
}

/** What one refresh shows: the API objects (for json/yaml) and the table, or a note when there is nothing. */
interface Frame {
  data: unknown;
  table: string | undefined;
}

const NOTHING_YET = 'No metrics yet: agents send them with their heartbeats every 10 s.';

async function render(frame: Frame, format: TableFormat): Promise<string> {
  return format === 'table' ? (frame.table ?? NOTHING_YET) : serialize(frame.data, format);
}

/** Prints one frame, or with --watch a new one every 2 s (on a terminal in place of the last) until Ctrl-C. */
async function show(ctx: Context, title: string, flags: TopFlags, next: () => Promise<Frame>): Promise<void> {
  if (!flags.watch) {
    const frame = await next();
    if (flags.output === 'table' && frame.table === undefined) return ctx.note(NOTHING_YET);
    return ctx.out(await render(frame, flags.output));
  }
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  try {
    const tty = ctx.io.stdout.isTTY === true;
    while (!stop.signal.aborted) {
      const text = await render(await next(), flags.output);
      if (flags.output === 'table') {
        const time = new Date(ctx.clock.now()).toTimeString().slice(0, 8);
        ctx.io.stdout.write(`${tty ? CLEAR_SCREEN : ''}Every ${WATCH_INTERVAL_MS / 1000}s: wharf ${title}  (Ctrl-C to stop)  ${time}\n\n${text}\n${tty ? '' : '\n'}`);
      } else {
        ctx.out(flags.output === 'yaml' ? `---\n${text}` : text);
      }
      await sleep(WATCH_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
}

export function registerTop(program: Command, ctx: Context): void {
  const top = program
    .command('top')
    .summary('show the CPU, memory, network and disk use of sets or hosts')
    .description(
      'Show the newest figures the hosts\' agents measured (every 10 s, from cgroups and /proc) of every set or host that ' +
        'reported in the last 30 s. The server keeps a short history (default 1 h) in memory.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf top sets', 'the busiest sets by CPU'],
        ['wharf top sets --sort mem --limit 10 -w', 'the ten biggest by memory, refreshed every 2 s'],
        ['wharf top hosts', 'every host by CPU in use'],
      ]),
    );

  top
    .command('sets')
    .summary('the newest figures of each set')
    .description(
      'Show the sets of the tenant (--tenant) that reported lately, busiest first: APPKEY, ID, HOST, CPU (cores, % of its limit), ' +
        'MEMORY (used/limit), NET RX/TX and DISK R/W (per second), PIDS, VOLUME (used/quota). -o json|yaml: the API\'s rows unchanged.',
    )
    .option('--appkey <appkey>', 'only the sets of this app')
    .addOption(new Option('--sort <what>', 'highest first: cpu (cores), mem (bytes) or net (rx + tx per second)').choices(['cpu', 'mem', 'net']).default('cpu'))
    .addOption(new Option('--limit <n>', 'show at most N sets').argParser(parsePositiveInt))
    .option('-w, --watch', `refresh every ${WATCH_INTERVAL_MS / 1000} s until Ctrl-C`)
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText(
      'after',
      examples([
        ['wharf top sets', 'every set, busiest CPU first'],
        ['wharf top sets --appkey com.example.web', 'the sets of one app'],
        ['wharf top sets --sort net --limit 5', 'the five with the most network traffic'],
        ['wharf top sets -w', 'refresh every 2 s until Ctrl-C'],
        ['wharf top sets -o json', 'the rows as the API returns them'],
      ]),
    )
    .action(async (opts: TopFlags & { appkey?: string; sort: 'cpu' | 'mem' | 'net'; limit?: number }) => {
      const client = ctx.client();
      const sort = opts.sort === 'mem' ? 'memory' : opts.sort;
      await show(ctx, 'top sets', opts, async () => {
        const rows = await client.topSets({ sort, ...(opts.appkey ? { appkey: opts.appkey } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
        return { data: rows, table: rows.length > 0 ? renderTopSets(rows) : undefined };
      });
    });

  top
    .command('hosts')
    .summary('the newest figures of each host')
    .description(
      'Show the hosts that reported lately, busiest first: HOST, CPU (busy/cores, %), MEMORY (used/total), LOAD (1, 5, 15 min), ' +
        'POOL (volume pool used/size), CONTAINERS, UPLINK RX/TX (per second, per uplink). -o json|yaml: the API\'s rows unchanged.',
    )
    .addOption(new Option('--sort <what>', 'highest share first: cpu or mem').choices(['cpu', 'mem']).default('cpu'))
    .option('-w, --watch', `refresh every ${WATCH_INTERVAL_MS / 1000} s until Ctrl-C`)
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText(
      'after',
      examples([
        ['wharf top hosts', 'every host, busiest CPU first'],
        ['wharf top hosts --sort mem -w', 'by memory in use, refreshed every 2 s'],
      ]),
    )
    .action(async (opts: TopFlags & { sort: HostSort }) => {
      const client = ctx.client();
      await show(ctx, 'top hosts', opts, async () => {
        const rows = sortHosts(await client.topHosts(), opts.sort);
        return { data: rows, table: rows.length > 0 ? renderTopHosts(rows) : undefined };
      });
    });
}
