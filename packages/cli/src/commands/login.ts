/**
 * `wharf login`, `logout` and `whoami`. Login trades a user name and password for a
 * session token and keeps it (and the server it is for) in the config file, so the
 * commands after it act as that user; logout ends the session and forgets the token.
 */
import { Argument, type Command } from 'commander';
import { WharfClient } from '@wharf/client';
import { WharfError } from '@wharf/types';
import { loadConfigFile } from '../config.js';
import { updateConfigFile } from '../config-file.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { describeMe } from '../format/identity.js';
import { serialize } from '../format/output.js';
import { ask, isTerminal, noTerminal, stdinPasswords } from '../password.js';
import { examples } from './common.js';
import { parseTtl, parseUserName, textOutput, type TextFormat } from './identity-common.js';

interface LoginFlags {
  passwordStdin?: boolean;
  ttl?: number;
}

/** Where a token that wins over the config file's comes from, if any. */
function tokenOverride(ctx: Context): string | undefined {
  const source = ctx.config().tokenSource;
  return source === 'flag' ? '--token' : source === 'env' ? 'WHARF_TOKEN' : undefined;
}

async function login(ctx: Context, userArg: string | undefined, flags: LoginFlags): Promise<void> {
  const { io } = ctx;
  const terminal = isTerminal(io);
  let user = userArg;
  if (user === undefined) {
    if (flags.passwordStdin || !terminal) throw new CliError('name the user to log in as: wharf login USER (there is no terminal to ask on)');
    user = parseUserNameOrFail((await ask(io, 'User: ', { echo: true })).trim());
  }
  let password: string;
  if (flags.passwordStdin) [password = ''] = await stdinPasswords(io, ['password']);
  else if (terminal) password = await ask(io, `Password for ${user}: `, { echo: false });
  else throw noTerminal('the password');
  if (password === '') throw new CliError('no password given');

  const { server, configPath } = ctx.config();
  // Login needs no token: a stale one in the config must not get in the way.
  const session = await new WharfClient({ server }).login(user, password, flags.ttl).catch((err: unknown) => {
    // A wrong password is the user's answer to fix, not a token to configure.
    throw err instanceof WharfError && err.code === 'UNAUTHORIZED' ? new CliError(err.message) : err;
  });
  updateConfigFile(configPath, (data) => ({ ...data, server, token: session.token }));
  ctx.out(`Logged in to ${server} as ${session.user} (session until ${session.expiresAt ?? 'logout'}); token saved in ${configPath}`);
  const override = tokenOverride(ctx);
  if (override) ctx.note(`note: ${override} is set and wins over the saved token; unset it to act as ${session.user}`);
}

function parseUserNameOrFail(text: string): string {
  try {
    return parseUserName(text);
  } catch (err) {
    throw new CliError(`"${text}": ${(err as Error).message}`);
  }
}

async function logout(ctx: Context): Promise<void> {
  const { server, token, configPath } = ctx.config();
  if (token === undefined) throw new CliError(`not logged in: no token in ${configPath}, WHARF_TOKEN or --token`);
  let ended = 'session ended';
  try {
    await ctx.client().logout();
  } catch (err) {
    // An expired or revoked session is as good as ended; anything else (an API token, no server) is reported.
    if (!(err instanceof WharfError && err.code === 'UNAUTHORIZED')) throw err;
    ended = 'the session had already ended';
  }
  const saved = loadConfigFile(configPath).token === token;
  if (saved) {
    updateConfigFile(configPath, (data) => {
      const { token: _gone, ...rest } = data;
      return rest;
    });
  }
  ctx.out(`Logged out of ${server} (${ended}); ${saved ? `token removed from ${configPath}` : `the token came from ${tokenOverride(ctx) ?? 'elsewhere'}, ${configPath} is unchanged`}`);
}

export function registerLogin(program: Command, ctx: Context): void {
  program
    .command('login')
    .summary('log in as a user and save the session token')
    .description(
      'Log in to wharf-server with a user name and password. The session token (and the server URL) go into the config file ' +
        '($WHARF_CONFIG or ~/.wharf/config.json, mode 0600; its other settings are kept), so the commands after it act as the user. ' +
        'On a terminal it asks for what is missing (the password without echo); scripts pass it on stdin with --password-stdin.',
    )
    .addArgument(new Argument('[user]', 'the user name (asked for on a terminal when left out)').argParser(parseUserName))
    .option('--password-stdin', 'read the password from stdin (one line) instead of asking')
    .option('--ttl <duration>', 'how long the session lasts, e.g. 8h or 720h (1m..366 days; default: the server\'s, 12h)', parseTtl)
    .addHelpText(
      'after',
      examples([
        ['wharf login alice', 'asks for the password'],
        ['wharf login', 'asks for the user name too'],
        ['printf "%s\\n" "$PASSWORD" | wharf login ci-bot --password-stdin', 'in a script'],
        ['wharf --server http://10.0.0.5:7070 login alice --ttl 720h', 'another server, a 30-day session'],
      ]),
    )
    .action((user: string | undefined, opts: LoginFlags) => login(ctx, user, opts));

  program
    .command('logout')
    .summary('end the login session and forget its token')
    .description('End the login session of the token in use (the server revokes it) and remove the token from the config file. API tokens are revoked with "wharf token revoke" instead.')
    .addHelpText('after', examples([['wharf logout', 'end the session saved by wharf login']]))
    .action(() => logout(ctx));

  program
    .command('whoami')
    .summary('show who the token speaks for')
    .description('Show the user (or admin token) the token speaks for: name, kind, platform admin or not, role per tenant (narrowed by the token\'s scope) and when the token expires.')
    .addOption(textOutput())
    .addHelpText(
      'after',
      examples([
        ['wharf whoami', 'name, roles and token expiry'],
        ['wharf whoami -o json', 'the API object (GET /v1/me)'],
      ]),
    )
    .action(async (opts: { output: TextFormat }) => {
      const me = await ctx.client().me();
      ctx.out(opts.output === 'text' ? describeMe(me, ctx.config().server, ctx.clock.now()) : await serialize(me, opts.output));
    });
}
