/**
 * `wharf endpoints APPKEY [--watch]`: where an app serves: its ready sets with
 * IP:PORT. --watch long-polls the server and prints every change.
 */
import type { Command } from 'commander';
import { ConnectionError, type WharfClient } from '@wharf/client';
import type { Endpoints } from '@wharf/types';
import type { Context } from '../context.js';
import { plural } from '../errors.js';
import { renderEndpoints } from '../format/apps.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import type { Clock } from '../wait.js';
import { examples } from './common.js';

export interface WatchOptions {
  client: Pick<WharfClient, 'endpoints'>;
  clock: Clock;
  appkey: string;
  all: boolean;
  /** Called with the first answer and every change. */
  onChange: (e: Endpoints) => void | Promise<void>;
  /** Told when the server cannot be reached (the watch goes on after a pause). */
  onRetry?: (err: Error) => void;
  signal?: AbortSignal;
  timeoutSeconds?: number;
}

/** Long-polls until `signal` aborts; every answer with a new revision goes to `onChange`. */
export async function watchEndpoints(opts: WatchOptions): Promise<void> {
  let revision = 0;
  while (!opts.signal?.aborted) {
    let e: Endpoints;
    try {
      e = await opts.client.endpoints(opts.appkey, { watch: true, revision, all: opts.all, timeoutSeconds: opts.timeoutSeconds ?? 30, ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (!(err instanceof ConnectionError)) throw err;
      opts.onRetry?.(err);
      await opts.clock.sleep(1000);
      continue;
    }
    if (e.revision === revision) continue;
    revision = e.revision;
    await opts.onChange(e);
  }
}

export function registerEndpoints(program: Command, ctx: Context): void {
  program
    .command('endpoints')
    .summary("where an app serves: its ready sets with IP:PORT")
    .description(
      'List the endpoints of an app: every set that is ready and not draining, with its host, its primary platform IP and every port its ' +
        'containers declare. A set leaving on scale-in drops out at once, before its containers stop. A set without a platform IP ' +
        '(no default network) shows its ports only. --all lists every placed set with READY and DRAINING. ' +
        '--watch prints the list again on every change until interrupted (with -o json: one JSON object per line).',
    )
    .argument('<appkey>', 'the app')
    .option('-w, --watch', 'print every change until interrupted')
    .option('--all', 'also sets that are not ready or are draining')
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText(
      'after',
      examples([
        ['wharf endpoints com.example.web', 'SET HOST IP:PORT READY'],
        ['wharf endpoints com.example.web --watch', 'follow scaling and readiness changes'],
        ['wharf endpoints com.example.web -o json --watch', 'one JSON document per change, for scripts'],
      ]),
    )
    .action(async (appkey: string, opts: { watch?: boolean; all?: boolean; output: TableFormat }) => {
      const client = ctx.client();
      const all = opts.all === true;
      const print = async (e: Endpoints, first: boolean) => {
        if (opts.output === 'json') return ctx.out(opts.watch ? JSON.stringify(e) : await serialize(e, 'json'));
        if (opts.output === 'yaml') return ctx.out(`${opts.watch && !first ? '---\n' : ''}${await serialize(e, 'yaml')}`);
        if (opts.watch) ctx.out(`${first ? '' : '\n'}# ${new Date(ctx.clock.now()).toISOString()} · ${plural(e.endpoints.length, 'endpoint')} · revision ${e.revision}`);
        ctx.out(renderEndpoints(e, all));
      };
      if (!opts.watch) return print(await client.endpoints(appkey, { all }), true);
      let first = true;
      await watchEndpoints({
        client, clock: ctx.clock, appkey, all,
        onChange: async (e) => {
          await print(e, first);
          first = false;
        },
        onRetry: (err) => ctx.note(`${err.message}; retrying`),
      });
    });
}
