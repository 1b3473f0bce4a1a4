/** `wharf tenant ls|get|create|rm|grant|revoke`: tenants and the roles users hold in them. */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { WharfError, type TenantRole, type TenantSpec } from '@wharf/types';
import type { Context } from '../context.js';
import { describeTenant, roleList, renderTenants } from '../format/identity.js';
import { examples } from './common.js';
import { addGetCommand, addListCommand, parseRole, parseTenantName, parseUserName } from './identity-common.js';

const tenantArgument = () => new Argument('<tenant>', 'the tenant name (lowercase letters, digits and "-")').argParser(parseTenantName);
const userArgument = () => new Argument('<user>', 'the user name').argParser(parseUserName);

function parseYesNo(v: string): boolean {
  if (/^(yes|true)$/i.test(v)) return true;
  if (/^(no|false)$/i.test(v)) return false;
  throw new InvalidArgumentError('answer yes or no');
}

/** Whether the tenant exists for the caller (404 for one that does not, or is not among the caller's). */
async function exists(ctx: Context, name: string): Promise<boolean> {
  try {
    await ctx.client().getTenant(name);
    return true;
  } catch (err) {
    if (err instanceof WharfError && (err.code === 'TENANT_NOT_FOUND' || err.code === 'NOT_FOUND')) return false;
    throw err;
  }
}

export function registerTenant(program: Command, ctx: Context): void {
  const tenant = program
    .command('tenant')
    .summary('manage tenants and the roles of their members')
    .description(
      'Tenants are business units: they own sets, apps, policies, volumes and images. Users hold one role per tenant: ' +
        'tenant-admin (manages members), developer (changes resources) or viewer (reads). Platform admins create and remove ' +
        'tenants; tenant admins grant and revoke roles in theirs.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf tenant create team-a --description "Team A"', 'a new tenant (platform admins)'],
        ['wharf tenant grant team-a alice developer', 'give alice a role in team-a'],
        ['wharf tenant get team-a', 'the tenant and its members'],
        ['wharf tenant ls', 'the tenants you have a role in (platform admins: all)'],
      ]),
    );

  addListCommand(tenant, ctx, {
    summary: 'list tenants',
    description: 'List tenants: NAME, DESCRIPTION, AGE. Platform admins see every tenant, others those they have a role in.',
    examples: [['wharf tenant ls', 'a table'], ['wharf tenant ls -o yaml', 'the API objects']],
    list: () => ctx.client().listTenants(),
    render: renderTenants,
    none: 'No tenants you have a role in (a tenant admin grants one with "wharf tenant grant").',
  });

  addGetCommand(tenant, ctx, {
    summary: 'show a tenant and its members',
    description: 'Show a tenant: name, description, creation time and, for its tenant admins and platform admins, its members with their roles.',
    argument: tenantArgument(),
    examples: [['wharf tenant get team-a', 'members and roles'], ['wharf tenant get team-a -o json', 'the API object']],
    get: (name) => ctx.client().getTenant(name),
    describe: describeTenant,
  });

  tenant
    .command('create')
    .summary('create a tenant, or change its description and security policy (platform admins)')
    .description(
      'Create a tenant. For one that exists, only what is given changes: its description, and the ' +
        'capabilities its specs may add with options.security.capAdd (--allow-cap, "" for none) and whether ' +
        'they may turn no-new-privileges off (--allow-privilege-escalation yes|no). See "Container hardening" in docs/concepts.md.',
    )
    .addArgument(tenantArgument())
    .option('--description <text>', 'what the tenant is for (at most 200 characters)')
    .option('--allow-cap <caps>', 'comma-separated capabilities its specs may add, e.g. NET_RAW,SYS_PTRACE ("" for none)')
    .option('--allow-privilege-escalation <yes|no>', 'whether its specs may set security.noNewPrivileges: false', parseYesNo)
    .addHelpText(
      'after',
      examples([
        ['wharf tenant create team-a', 'an empty tenant'],
        ['wharf tenant create team-a --description "Payments team"', 'with a description (or to change it)'],
        ['wharf tenant create team-a --allow-cap NET_RAW', "team-a's sets may add NET_RAW (ping)"],
      ]),
    )
    .action(async (name: string, opts: { description?: string; allowCap?: string; allowPrivilegeEscalation?: boolean }) => {
      const spec: TenantSpec = {
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.allowCap !== undefined ? { allowedCapabilities: opts.allowCap.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean) } : {}),
        ...(opts.allowPrivilegeEscalation !== undefined ? { allowPrivilegeEscalation: opts.allowPrivilegeEscalation } : {}),
      };
      const existed = await exists(ctx, name);
      await ctx.client().putTenant(name, spec);
      if (!existed) ctx.out(`tenant ${name} created`);
      else ctx.out(Object.keys(spec).length > 0 ? `tenant ${name} exists; ${Object.keys(spec).join(', ')} set` : `tenant ${name} exists (unchanged)`);
    });

  tenant
    .command('rm')
    .alias('delete')
    .summary('remove an empty tenant (platform admins)')
    .description('Remove a tenant. Refused while it holds sets, apps or images; the default tenant is never removed.')
    .addArgument(tenantArgument())
    .addHelpText('after', examples([['wharf tenant rm team-a', 'remove team-a (it must be empty)']]))
    .action(async (name: string) => {
      await ctx.client().deleteTenant(name);
      ctx.out(`tenant ${name} removed`);
    });

  tenant
    .command('grant')
    .summary("give a user a role in a tenant (the tenant's admins)")
    .description("Give a user a role in a tenant, replacing the one it had there: tenant-admin, developer or viewer. Needs the tenant's tenant-admin role or a platform admin.")
    .addArgument(tenantArgument())
    .addArgument(userArgument())
    .addArgument(new Argument('<role>', 'tenant-admin, developer or viewer').argParser(parseRole))
    .addHelpText(
      'after',
      examples([
        ['wharf tenant grant team-a alice developer', 'alice may change team-a\'s resources'],
        ['wharf tenant grant team-a bob viewer', 'bob may only read'],
      ]),
    )
    .action(async (name: string, user: string, role: TenantRole) => {
      const u = await ctx.client().grantRole(name, user, role);
      ctx.out(`${user} is now ${role} in tenant ${name} (roles: ${roleList(u.roles)})`);
    });

  tenant
    .command('revoke')
    .summary("take a user's role in a tenant away (the tenant's admins)")
    .description("Take a user's role in a tenant away; its tokens lose that tenant at once. Needs the tenant's tenant-admin role or a platform admin.")
    .addArgument(tenantArgument())
    .addArgument(userArgument())
    .addHelpText('after', examples([['wharf tenant revoke team-a bob', 'bob no longer sees team-a']]))
    .action(async (name: string, user: string) => {
      const u = await ctx.client().revokeRole(name, user);
      ctx.out(`${user} has no role in tenant ${name} now (roles: ${roleList(u.roles) || 'none'})`);
    });
}
