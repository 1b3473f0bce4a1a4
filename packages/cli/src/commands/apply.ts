/** `wharf apply -f FILE [--wait]`: create or update sets from a spec file. */
import type { Command } from 'commander';
import { WharfError } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, fieldErrors, fieldLines, plural } from '../errors.js';
import { formatRef } from '../ref.js';
import { waitForSet } from '../wait.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';

/** Rewords a VALIDATION_FAILED answer so every field error gets its own line. */
export function explainApplyError(err: unknown, where: string): unknown {
  if (!(err instanceof WharfError) || err.code !== 'VALIDATION_FAILED') return err;
  const fields = fieldErrors(err);
  if (fields.length === 0) return new CliError(`invalid set spec in ${where}: ${err.message}`);
  return new CliError(`invalid set spec in ${where} (${plural(fields.length, 'error')}):`, fieldLines(fields));
}

export function registerApply(program: Command, ctx: Context): void {
  const cmd = program
    .command('apply')
    .summary('create or update sets from a JSON or YAML spec')
    .description(
      'Create or update sets from a spec file (JSON or YAML; several YAML documents separated by "---" are applied in order). ' +
        'Prints "set APPKEY/ID created" or "set APPKEY/ID configured" for each. With --wait, follows each set until ' +
        'the agent runs the applied spec (--timeout applies to each set).',
    )
    .requiredOption('-f, --filename <file>', 'the spec file, or - to read stdin');
  addWaitOptions(cmd, 'the set runs the applied spec')
    .addHelpText(
      'after',
      examples([
        ['wharf apply -f web.yaml', 'create or update the set in web.yaml'],
        ['wharf apply -f web.json --wait --timeout 2m', 'and wait until it runs'],
        ['cat web.yaml | wharf apply -f -', 'read the spec from stdin'],
      ]),
    )
    .action(async (opts: { filename: string } & WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const name = opts.filename === '-' ? 'stdin' : opts.filename;
      // Loaded here, not at start-up: the YAML parser is only needed by apply.
      const { parseSpecs, readSource } = await import('../input.js');
      const docs = parseSpecs(await readSource(opts.filename, ctx.io.stdin), name);
      const client = ctx.client();
      const applied = [];
      for (const doc of docs) {
        let result;
        try {
          result = await client.applySet(doc.spec);
        } catch (err) {
          throw explainApplyError(err, doc.where);
        }
        ctx.out(`set ${formatRef(result.set)} ${result.created ? 'created' : 'configured'}`);
        applied.push(result.set);
      }
      if (!wait) return;
      for (const set of applied) {
        await waitForSet({
          client,
          clock: ctx.clock,
          progress: await ctx.progress(),
          ref: { appkey: set.appkey, id: String(set.id) },
          goal: { kind: 'applied' },
          timeoutMs,
          initial: set,
        });
      }
    });
}
