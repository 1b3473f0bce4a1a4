/** `wharf user ls|get|create|rm|passwd`: users, their roles and passwords. */
import { Argument, type Command } from 'commander';
import { PASSWORD_MIN, WharfError, type TenantRole, type UserCreate } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, fieldErrors } from '../errors.js';
import { describeUser, renderUsers, roleList } from '../format/identity.js';
import { ask, askNewPassword, checkNewPassword, isTerminal, noTerminal, stdinPasswords } from '../password.js';
import { examples } from './common.js';
import { addGetCommand, addListCommand, collectRoleGrant, parseUserName } from './identity-common.js';

const userArgument = (required = true) =>
  new Argument(required ? '<name>' : '[name]', required ? 'the user name' : 'the user name (default: the logged-in user)').argParser(parseUserName);

interface CreateFlags {
  platformAdmin?: boolean;
  role?: Record<string, TenantRole>;
  passwordStdin?: boolean;
}

/** The new password of `name`: one line of stdin, or typed twice on the terminal. */
async function newPassword(ctx: Context, name: string, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) {
    const [password = ''] = await stdinPasswords(ctx.io, ['password']);
    checkNewPassword(password);
    return password;
  }
  if (!isTerminal(ctx.io)) throw noTerminal(`the password of ${name}`);
  return askNewPassword(ctx.io, `New password for ${name}: `);
}

async function createUser(ctx: Context, name: string, flags: CreateFlags): Promise<void> {
  const spec: UserCreate = {
    password: await newPassword(ctx, name, flags.passwordStdin),
    ...(flags.platformAdmin ? { platformAdmin: true } : {}),
    ...(flags.role ? { roles: flags.role } : {}),
  };
  const u = await ctx.client().createUser(name, spec);
  const what = [u.platformAdmin ? 'platform admin' : undefined, Object.keys(u.roles).length > 0 ? `roles: ${roleList(u.roles)}` : 'no roles yet'].filter(Boolean);
  ctx.out(`user ${name} created (${what.join('; ')})`);
}

/**
 * Users change their own password with the current one; platform admins set anyone's.
 * With --password-stdin the current password (when needed) is the first line, the new one the next.
 */
async function changePassword(ctx: Context, nameArg: string | undefined, fromStdin: boolean | undefined): Promise<void> {
  const me = await ctx.client().me();
  if (nameArg === undefined && me.kind !== 'user') throw new CliError(`the ${me.kind} token has no user whose password to change; name one: wharf user passwd NAME`);
  const name = nameArg ?? me.name;
  const needsCurrent = me.kind === 'user' && me.name === name && !me.platformAdmin;
  let current: string | undefined;
  let password: string;
  if (fromStdin && needsCurrent) {
    const lines = await stdinPasswords(ctx.io, ['current password', 'new password']);
    [current, password = ''] = lines;
    checkNewPassword(password);
  } else if (fromStdin || !needsCurrent) {
    password = await newPassword(ctx, name, fromStdin);
  } else {
    if (!isTerminal(ctx.io)) throw noTerminal('the passwords');
    current = await ask(ctx.io, 'Current password: ', { echo: false });
    password = await askNewPassword(ctx.io, 'New password: ');
  }
  try {
    await ctx.client().setPassword(name, password, current);
  } catch (err) {
    if (err instanceof WharfError && fieldErrors(err).some((e) => e.path === 'current')) throw new CliError('the current password is not right; the password is unchanged');
    throw err;
  }
  ctx.out(`password of ${name} changed`);
}

export function registerUser(program: Command, ctx: Context): void {
  const user = program
    .command('user')
    .summary('manage users and their passwords')
    .description(
      'Users log in with a name and password (wharf login) and act with the roles they hold per tenant (wharf tenant grant). ' +
        'Platform admins create and remove users and set anyone\'s password; users change their own.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf user create alice --role team-a=developer', 'a user with a role (asks for the password)'],
        ['wharf user ls', 'every user with its roles'],
        ['wharf user passwd', 'change your own password'],
      ]),
    );

  addListCommand(user, ctx, {
    summary: 'list users (platform admins)',
    description: 'List users: NAME, PLATFORM ADMIN, ROLES (tenant=role,…), AGE.',
    examples: [['wharf user ls', 'a table'], ['wharf user ls -o json', 'the API objects']],
    list: () => ctx.client().listUsers(),
    render: renderUsers,
    none: 'No users (create one with "wharf user create").',
  });

  addGetCommand(user, ctx, {
    summary: 'show a user',
    description: 'Show a user: platform admin or not, its role per tenant and when it was created. Platform admins see every user, users themselves.',
    argument: userArgument(),
    examples: [['wharf user get alice', 'roles and creation time'], ['wharf user get alice -o yaml', 'the API object']],
    get: (name) => ctx.client().getUser(name),
    describe: describeUser,
  });

  user
    .command('create')
    .summary('create a user (platform admins)')
    .description(
      `Create a user with a password (asked for twice on a terminal, or one line of stdin with --password-stdin; at least ${PASSWORD_MIN} ` +
        'characters), roles in tenants (--role, repeatable) and optionally the platform-admin flag. Roles change later with ' +
        'wharf tenant grant|revoke, the password with wharf user passwd.',
    )
    .addArgument(userArgument())
    .option('--platform-admin', 'may do everything in every tenant, and manage tenants, users and hosts')
    .option('--role <tenant=role>', 'a role in a tenant: tenant-admin, developer or viewer (repeatable)', collectRoleGrant)
    .option('--password-stdin', 'read the password from stdin (one line) instead of asking')
    .addHelpText(
      'after',
      examples([
        ['wharf user create alice --role team-a=tenant-admin', 'asks for the password twice'],
        ['wharf user create bob --role team-a=developer --role team-b=viewer', 'roles in two tenants'],
        ['printf "%s\\n" "$PASSWORD" | wharf user create ci-bot --role team-a=developer --password-stdin', 'in a script'],
        ['wharf user create ops --platform-admin', 'another platform admin'],
      ]),
    )
    .action((name: string, opts: CreateFlags) => createUser(ctx, name, opts));

  user
    .command('rm')
    .alias('delete')
    .summary('remove a user and revoke its tokens (platform admins)')
    .description('Remove a user; its login sessions and API tokens stop working at once.')
    .addArgument(userArgument())
    .addHelpText('after', examples([['wharf user rm bob', 'remove bob']]))
    .action(async (name: string) => {
      await ctx.client().deleteUser(name);
      ctx.out(`user ${name} removed (its tokens are revoked)`);
    });

  user
    .command('passwd')
    .summary('change a password')
    .description(
      'Change a password. Without NAME: your own (the logged-in user), which needs the current password. Platform admins ' +
        'set anyone\'s without it. On a terminal it asks (the new one twice); with --password-stdin stdin holds the current ' +
        'password (when needed) on the first line and the new one on the next.',
    )
    .addArgument(userArgument(false))
    .option('--password-stdin', 'read the passwords from stdin, one per line, instead of asking')
    .addHelpText(
      'after',
      examples([
        ['wharf user passwd', 'your own: asks for the current and the new password'],
        ['wharf user passwd alice', "a platform admin sets alice's password"],
        ['printf "%s\\n%s\\n" "$OLD" "$NEW" | wharf user passwd --password-stdin', 'your own, in a script'],
      ]),
    )
    .action((name: string | undefined, opts: { passwordStdin?: boolean }) => changePassword(ctx, name, opts.passwordStdin));
}
