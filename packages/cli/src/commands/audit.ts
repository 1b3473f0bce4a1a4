/**
 * `wharf audit`: the changes made through the API (every PUT, POST, PATCH and DELETE,
 * logins included): who, what, when, from where, and the outcome. Platform admins see
 * every record, tenant admins those of their tenants, everyone their own.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AuditQuery } from '@wharf/types';
import type { Context } from '../context.js';
import { parseDuration } from '../duration.js';
import { renderAudit } from '../format/audit.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import { examples, parsePositiveInt } from './common.js';

/** How many records the server answers at most. */
export const MAX_AUDIT_LIMIT = 10_000;

/** --since: a duration back from the time the command runs, or a time. */
export type Since = { agoMs: number } | { at: string };

const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

export function parseSince(text: string): Since {
  const s = text.trim();
  if (RFC3339.test(s) && !Number.isNaN(Date.parse(s))) return { at: new Date(s).toISOString() };
  try {
    return { agoMs: parseDuration(s) };
  } catch {
    throw new InvalidArgumentError('expected a duration back from now such as 30m, 1h or 72h, or an RFC 3339 time such as 2025-01-01T12:00:00Z');
  }
}

/** The time --since stands for, at `now` (ms since epoch). */
export function sinceTime(since: Since, now: number): string {
  return 'at' in since ? since.at : new Date(now - since.agoMs).toISOString();
}

export function parseAuditLimit(text: string): number {
  const n = parsePositiveInt(text);
  if (n > MAX_AUDIT_LIMIT) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_AUDIT_LIMIT}`);
  return n;
}

interface AuditFlags {
  since?: Since;
  user?: string;
  object?: string;
  limit?: number;
  output: TableFormat;
}

/**
 * The tenant to filter by: only the --tenant flag's. WHARF_TENANT and the config file
 * pick where commands act; they do not hide the rest of the log.
 */
function tenantFilter(ctx: Context): string | undefined {
  const c = ctx.config();
  return c.tenantSource === 'flag' ? c.tenant : undefined;
}

async function showAudit(ctx: Context, flags: AuditFlags): Promise<void> {
  const query: AuditQuery = {};
  if (flags.since) query.since = sinceTime(flags.since, ctx.clock.now());
  if (flags.user !== undefined) query.user = flags.user;
  if (flags.object !== undefined) query.object = flags.object;
  const tenant = tenantFilter(ctx);
  if (tenant !== undefined) query.tenant = tenant;
  if (flags.limit !== undefined) query.limit = flags.limit;
  const records = await ctx.client().audit(query);
  if (flags.output !== 'table') ctx.out(await serialize(records, flags.output));
  else if (records.length === 0) ctx.note('No audit records match (you see your own changes; tenant admins those in their tenants; platform admins all).');
  else ctx.out(renderAudit(records, ctx.clock.now()));
}

export function registerAudit(program: Command, ctx: Context): void {
  program
    .command('audit')
    .summary('who changed what, when, from where, and the outcome')
    .description(
      'List the changes made through the API (each PUT, POST, PATCH and DELETE, logins included), oldest first: TIME (how long ' +
        'ago), ACTOR (the user, or the admin token\'s name), ACTION (method and route), OBJECT (its path), STATUS (the HTTP status, ' +
        'and the error code of a failed change), FROM (the source address). Platform admins see every record, tenant admins ' +
        'those of their tenants, everyone their own. -o json|yaml: the records with the request body (secrets masked).',
    )
    .option('--since <duration|time>', 'only records since this long ago (30m, 1h, 72h) or since an RFC 3339 time (2025-01-01T12:00:00Z)', parseSince)
    .option('--user <name>', "only changes by this user (or token name: the admin token's is bootstrap-admin)")
    .option('--object <prefix>', 'only objects whose path starts with this, e.g. sets/com.example.web or quotas/team-a')
    // Global option, listed here for the help: commander hands --tenant to the program, read through ctx.config().
    .addOption(new Option('--tenant <tenant>', 'only changes to resources of this tenant (the global flag; WHARF_TENANT and the config file do not filter)'))
    .option('--limit <n>', `only the newest N records (1 to ${MAX_AUDIT_LIMIT}; default 500)`, parseAuditLimit)
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText(
      'after',
      examples([
        ['wharf audit --since 1h', 'every change of the last hour you may see'],
        ['wharf audit --user alice --since 2025-06-01T00:00:00Z', "alice's changes since that time"],
        ['wharf audit --tenant team-a --object sets/com.example.web', "changes to team-a's sets of one app"],
        ['wharf audit --limit 20 -o json', 'the newest 20 records with their request bodies'],
      ]),
    )
    .action((opts: AuditFlags) => showAudit(ctx, opts));
}
