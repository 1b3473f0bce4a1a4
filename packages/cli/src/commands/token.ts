/**
 * `wharf token create|ls|revoke`: API tokens for scripts and CI, made by a logged-in
 * user, optionally limited to one tenant and a role there, optionally expiring. The
 * token itself is shown once, when it is made; the server keeps only its hash.
 */
import { Argument, Option, type Command } from 'commander';
import type { TenantRole, TokenCreate } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { describeToken, expiry, renderTokens, tokenTitle } from '../format/identity.js';
import { serialize } from '../format/output.js';
import { examples } from './common.js';
import { addListCommand, parseRole, parseTokenId, parseTokenName, parseTtl, textOutput, type TextFormat } from './identity-common.js';

interface CreateFlags {
  role?: TenantRole;
  ttl?: number;
  output: TextFormat;
}

/**
 * The tenant a new token is limited to: only the --tenant flag's. WHARF_TENANT and the
 * config file pick where commands act, not what a token may reach.
 */
function tokenTenant(ctx: Context): string | undefined {
  const c = ctx.config();
  if (c.tenantSource === 'flag') return c.tenant;
  if (c.tenant !== undefined) ctx.note(`note: the token is not limited to tenant ${c.tenant} (from ${c.tenantSource === 'env' ? 'WHARF_TENANT' : c.configPath}); pass --tenant to limit it`);
  return undefined;
}

async function createToken(ctx: Context, name: string, flags: CreateFlags): Promise<void> {
  const tenant = tokenTenant(ctx);
  if (flags.role !== undefined && tenant === undefined) throw new CliError('--role needs --tenant: a role caps the token in one tenant (e.g. --tenant team-a --role viewer)');
  const spec: TokenCreate = { name, ...(tenant ? { tenant } : {}), ...(flags.role ? { role: flags.role } : {}), ...(flags.ttl !== undefined ? { ttlSeconds: flags.ttl } : {}) };
  const made = await ctx.client().createToken(spec);
  if (flags.output !== 'text') return ctx.out(await serialize(made, flags.output));
  // Only the token goes to stdout, so `T=$(wharf token create ci)` holds just it.
  ctx.note(`${describeToken(made)}; it ${expiry(made.expiresAt, ctx.clock.now())}:`);
  ctx.out(made.token);
  ctx.note('Copy it now: it will not be shown again (the server keeps only its hash).');
}

export function registerToken(program: Command, ctx: Context): void {
  const token = program
    .command('token')
    .summary('manage API tokens (for scripts and CI)')
    .description(
      'API tokens act for the user who made them (log in first), with at most that user\'s roles: limited to one tenant with ' +
        '--tenant, to a weaker role there with --role, and to a lifetime with --ttl. Login sessions are tokens too; "token ls" lists both.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf --tenant team-a token create ci --role developer --ttl 720h', 'a token for CI, only team-a, 30 days'],
        ['wharf token ls', 'your tokens and sessions (platform admins: everyone\'s)'],
        ['wharf token revoke 0123456789abcdef', 'revoke one by its ID'],
      ]),
    );

  token
    .command('create')
    .summary('make an API token (shown once)')
    .description(
      'Make an API token for the logged-in user. The global --tenant flag limits it to that tenant (WHARF_TENANT and the config ' +
        'file do not); --role then caps its role there. Without --ttl it does not expire. The token goes to stdout alone, the ' +
        'lines around it to stderr; it is shown only this once.',
    )
    .addArgument(new Argument('<name>', 'a name to tell it apart in "token ls", e.g. ci').argParser(parseTokenName))
    // Global option, listed here for the help: commander hands --tenant to the program, read through ctx.config().
    .addOption(new Option('--tenant <tenant>', 'only this tenant (the global flag)'))
    .option('--role <role>', 'at most this role in the --tenant: tenant-admin, developer or viewer', parseRole)
    .option('--ttl <duration>', 'expire after this long, e.g. 1h or 720h (1m..366 days; default: never)', parseTtl)
    .addOption(textOutput())
    .addHelpText(
      'after',
      examples([
        ['wharf token create laptop', 'all your roles, no expiry'],
        ['wharf --tenant team-a token create ci --role viewer --ttl 24h', 'read-only in team-a for a day'],
        ['export WHARF_TOKEN=$(wharf token create deploy --ttl 1h)', 'use it in this shell'],
        ['wharf token create ci -o json', 'the API object, token included'],
      ]),
    )
    .action((name: string, opts: CreateFlags) => createToken(ctx, name, opts));

  addListCommand(token, ctx, {
    summary: 'list tokens and login sessions',
    description: 'List your tokens and login sessions (platform admins: every user\'s): ID, NAME, USER, TENANT (<any>: every tenant of the user), ROLE (<user\'s>: not capped), EXPIRES, SESSION. Expired ones are gone.',
    examples: [['wharf token ls', 'a table'], ['wharf token ls -o json', 'the API objects (never the tokens)']],
    list: () => ctx.client().listTokens(),
    render: renderTokens,
    none: 'No tokens (make one with "wharf token create").',
  });

  token
    .command('revoke')
    .alias('rm')
    .summary('revoke a token or login session')
    .description('Revoke a token or login session by its ID (from "token ls"): yours, or anyone\'s for platform admins. It stops working at once.')
    .addArgument(new Argument('<id>', 'the token ID: 16 hex digits').argParser(parseTokenId))
    .addHelpText('after', examples([['wharf token revoke 0123456789abcdef', 'revoke it']]))
    .action(async (id: string) => {
      const t = await ctx.client().revokeToken(id);
      ctx.out(`${tokenTitle(t)} of ${t.user} revoked`);
    });
}
