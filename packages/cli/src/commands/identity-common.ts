/**
 * What the identity commands (login, tenant, user, token) share: their arguments and
 * flags, checked before anything is sent (a bad one is a usage error, exit 2, naming
 * what is expected), and the shape of their `ls` and `get` subcommands.
 */
import { InvalidArgumentError, Option, type Argument, type Command } from 'commander';
import { MAX_TOKEN_TTL_SECONDS, TENANT_PATTERN, TENANT_ROLES, USER_PATTERN, type TenantRole } from '@wharf/types';
import type { Context } from '../context.js';
import { parseSeconds } from '../duration.js';
import { outputOption, serialize, TABLE_FORMATS, type TableFormat } from '../format/output.js';
import { examples } from './common.js';

const ROLES_TEXT = `${TENANT_ROLES.slice(0, -1).join(', ')} or ${TENANT_ROLES[TENANT_ROLES.length - 1]}`;

export function parseTenantName(text: string): string {
  if (!new RegExp(TENANT_PATTERN).test(text)) throw new InvalidArgumentError('expected a tenant name: lowercase letters, digits and "-", e.g. team-a');
  return text;
}

/** User and token names: lowercase letters and digits, with "_", "." or "-" between them. */
const nameParser = (what: string, example: string) => (text: string): string => {
  if (!new RegExp(USER_PATTERN).test(text)) throw new InvalidArgumentError(`expected a ${what} name: lowercase letters, digits, "_", "." and "-", e.g. ${example}`);
  return text;
};

export const parseUserName = nameParser('user', 'alice');
export const parseTokenName = nameParser('token', 'ci');

export function parseRole(text: string): TenantRole {
  const role = TENANT_ROLES.find((r) => r === text);
  if (!role) throw new InvalidArgumentError(`"${text}" is not a role; expected ${ROLES_TEXT}`);
  return role;
}

/** Repeatable `--role TENANT=ROLE`, collected into the user's roles. */
export function collectRoleGrant(text: string, roles: Record<string, TenantRole> = {}): Record<string, TenantRole> {
  const eq = text.indexOf('=');
  if (eq < 0) throw new InvalidArgumentError(`expected TENANT=ROLE, e.g. team-a=developer (roles: ${ROLES_TEXT})`);
  const tenant = parseTenantName(text.slice(0, eq));
  if (roles[tenant] !== undefined) throw new InvalidArgumentError(`tenant ${tenant} is named twice`);
  return { ...roles, [tenant]: parseRole(text.slice(eq + 1)) };
}

/** A token's ID as `wharf token ls` shows it. */
export function parseTokenId(text: string): string {
  if (!/^[0-9a-f]{16}$/.test(text)) throw new InvalidArgumentError('expected a token ID: 16 hex digits, as in the ID column of "wharf token ls"');
  return text;
}

/** --ttl of a session or token, in whole seconds, within what the server takes. */
export function parseTtl(text: string): number {
  return parseSeconds(text, { min: 60, max: MAX_TOKEN_TTL_SECONDS, hint: `expected a duration from 1m to ${MAX_TOKEN_TTL_SECONDS / 3600}h (366 days), e.g. 12h or 720h` });
}

/** -o text|json|yaml of the one-object views. */
export const textOutput = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text');
export type TextFormat = 'text' | 'json' | 'yaml';

interface Subcommand {
  summary: string;
  description: string;
  examples: [command: string, comment: string][];
}

/** `ls`: a table, or the API objects with -o json|yaml; a note on stderr when there are none. */
export function addListCommand<T>(parent: Command, ctx: Context, spec: Subcommand & { list: () => Promise<T[]>; render: (items: T[], now: number) => string; none: string }): void {
  parent
    .command('ls')
    .alias('list')
    .summary(spec.summary)
    .description(spec.description)
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText('after', examples(spec.examples))
    .action(async (opts: { output: TableFormat }) => {
      const items = await spec.list();
      if (opts.output !== 'table') ctx.out(await serialize(items, opts.output));
      else if (items.length === 0) ctx.note(spec.none);
      else ctx.out(spec.render(items, ctx.clock.now()));
    });
}

/** `get NAME`: a page, or the API object with -o json|yaml. */
export function addGetCommand<T>(parent: Command, ctx: Context, spec: Subcommand & { argument: Argument; get: (name: string) => Promise<T>; describe: (item: T, now: number) => string }): void {
  parent
    .command('get')
    .alias('describe')
    .summary(spec.summary)
    .description(spec.description)
    .addArgument(spec.argument)
    .addOption(textOutput())
    .addHelpText('after', examples(spec.examples))
    .action(async (name: string, opts: { output: TextFormat }) => {
      const item = await spec.get(name);
      ctx.out(opts.output === 'text' ? spec.describe(item, ctx.clock.now()) : await serialize(item, opts.output));
    });
}
