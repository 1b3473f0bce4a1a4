/**
 * `wharf host join-token create|ls|revoke`: one-use tokens with which a new host's
 * agent joins (platform admins). The token is shown once; the server keeps its hash.
 */
import { Argument, type Command } from 'commander';
import type { JoinToken, JoinTokenCreated } from '@wharf/types';
import type { Context } from '../context.js';
import { parseSeconds } from '../duration.js';
import { age } from '../format/age.js';
import { expires, expiry } from '../format/identity.js';
import { serialize } from '../format/output.js';
import { renderTable } from '../format/table.js';
import { examples } from './common.js';
import { addListCommand, parseTokenId, textOutput, type TextFormat } from './identity-common.js';

const MAX_TTL_SECONDS = 7 * 86_400;

/** --ttl: 1m to 7 days. */
export function parseJoinTtl(text: string): number {
  return parseSeconds(text, { min: 60, max: MAX_TTL_SECONDS, hint: 'expected a duration from 1m to 168h (7 days), e.g. 30m or 24h' });
}

export function renderJoinTokens(tokens: JoinToken[], now: number): string {
  return renderTable(['ID', 'STATE', 'EXPIRES', 'MADE BY', 'AGE'], tokens.map((t) => [
    t.id,
    t.usedAt ? `used by ${t.usedBy ?? '?'}` : Date.parse(t.expiresAt) <= now ? 'expired' : 'unused',
    t.usedAt ? '-' : expires(t.expiresAt, now),
    t.createdBy,
    age(t.createdAt, now),
  ]));
}

/** Registers under `wharf host` (made by registerHostCommands, which runs first). */
export function registerJoinToken(program: Command, ctx: Context): void {
  const host = program.commands.find((c) => c.name() === 'host');
  if (!host) throw new Error('registerJoinToken needs the host command registered first');
  const joinToken = host
    .command('join-token')
    .summary('one-use tokens for new hosts to join (platform admins)')
    .description(
      'A join token lets one host\'s agent join once: wharf-agent --join-token TOKEN --server https://SERVER:PORT (the server\'s ' +
        '--agent-tls-listen). The agent gets a certificate for its name and from then on talks to the server over mutual TLS as that host ' +
        'only. A token works once and until it expires; a second use is refused.',
    )
    .addHelpText('after', examples([
      ['wharf host join-token create', 'a token valid for 1 hour'],
      ['wharf host join-token ls', 'unused, used and expired tokens'],
      ['wharf host join-token revoke 0123456789abcdef', 'revoke an unused one'],
    ]));

  joinToken
    .command('create')
    .summary('make a one-use join token (shown once)')
    .description('Make a token with which one host joins. It goes to stdout alone, the lines around it to stderr; it is shown only this once. It ends with the SHA-256 of the cluster CA, which the agent checks before it sends the token.')
    .option('--ttl <duration>', 'how long it may be used, 1m to 168h (default 1h)', parseJoinTtl)
    .addOption(textOutput())
    .addHelpText('after', examples([
      ['wharf host join-token create --ttl 24h', 'valid for a day'],
      ['wharf-agent --name host7 --join-token "$(wharf host join-token create)" --server https://10.0.0.1:7443', 'join host7 with it'],
    ]))
    .action(async (flags: { ttl?: number; output: TextFormat }) => {
      const made = await ctx.client().request<JoinTokenCreated>('POST', '/v1/join-tokens', flags.ttl !== undefined ? { ttlSeconds: flags.ttl } : {});
      if (flags.output !== 'text') return ctx.out(await serialize(made, flags.output));
      ctx.note(`join token ${made.id}; it ${expiry(made.expiresAt, ctx.clock.now())} and works for one host:`);
      ctx.out(made.token);
      ctx.note('Copy it now: it will not be shown again (the server keeps only its hash).');
    });

  addListCommand<JoinToken>(joinToken, ctx, {
    summary: 'list join tokens',
    description: 'List join tokens: ID, STATE (unused, used by HOST, expired), EXPIRES, MADE BY, AGE. Used and expired ones are listed for a day.',
    examples: [['wharf host join-token ls', 'a table'], ['wharf host join-token ls -o json', 'the API objects (never the tokens)']],
    list: () => ctx.client().request('GET', '/v1/join-tokens'),
    render: renderJoinTokens,
    none: 'No join tokens (make one with "wharf host join-token create").',
  });

  joinToken
    .command('revoke')
    .alias('rm')
    .summary('revoke a join token')
    .description('Revoke a join token by its ID (from "host join-token ls"): it can no longer be used. Hosts that joined with it keep their certificates.')
    .addArgument(new Argument('<id>', 'the token ID: 16 hex digits').argParser(parseTokenId))
    .action(async (id: string) => {
      await ctx.client().request('DELETE', `/v1/join-tokens/${id}`);
      ctx.out(`join token ${id} revoked`);
    });
}
