/** `wharf version`: the client's version and the server's. */
import { Option, type Command } from 'commander';
import { WHARF_VERSION } from '@wharf/types';
import type { Context } from '../context.js';
import { serialize } from '../format/output.js';
import { examples } from './common.js';

export function registerVersion(program: Command, ctx: Context): void {
  program
    .command('version')
    .summary('print the client and server versions')
    .description('Print the version of this client and of the wharf-server it talks to (-v prints only the client version).')
    .option('--client', 'only the client version; do not contact the server')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .addHelpText(
      'after',
      examples([
        ['wharf version', 'client and server versions'],
        ['wharf version --client', 'without contacting the server'],
        ['wharf version -o json', 'as JSON'],
      ]),
    )
    .action(async (opts: { client?: boolean; output: 'text' | 'json' | 'yaml' }) => {
      const client = { version: WHARF_VERSION };
      if (opts.output !== 'text') {
        const server = opts.client ? undefined : { ...(await ctx.client().version()), url: ctx.config().server };
        ctx.out(await serialize({ client, ...(server ? { server } : {}) }, opts.output));
        return;
      }
      ctx.out(`Client Version: ${WHARF_VERSION}`);
      if (opts.client) return;
      const server = await ctx.client().version();
      ctx.out(`Server Version: ${server.version} (revision ${server.revision})`);
      ctx.out(`Server:         ${ctx.config().server}`);
    });
}
