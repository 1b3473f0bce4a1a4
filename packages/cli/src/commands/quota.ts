/**
 * `wharf quota get|set`: a tenant's limits on the CPU, memory and disk of its sets,
 * their number, their platform IPs and its apps with a load balancer, against what it
 * uses. The server takes the limits as a whole (a resource left out is unlimited), so
 * `set --keep` reads the limits in force and merges the flags given into them.
 */
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { parseBytes, QUOTA_RESOURCES, type QuotaAmounts, type QuotaResource, type QuotaSpec, type QuotaView } from '@wharf/types';
import type { Context } from '../context.js';
import { TABLE_FORMATS, outputOption, serialize, type TableFormat } from '../format/output.js';
import { QUOTA_NAMES, quotaAmount, renderQuota } from '../format/quotas.js';
import { examples } from './common.js';
import { parseTenantName, textOutput, type TextFormat } from './identity-common.js';

/** CPU cores, at most what the server takes. */
export function parseQuotaCores(text: string): number {
  const cores = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || cores > 1e6) throw new InvalidArgumentError('expected CPU cores: a number ≥ 0 such as 64 or 0.5');
  return cores;
}

/** Memory or disk: bytes, or a quantity like 256Gi. */
export function parseQuotaBytes(text: string): number {
  const bytes = parseBytes(text);
  if (bytes === undefined || !Number.isSafeInteger(bytes)) throw new InvalidArgumentError('expected a size such as 256Gi, 500Mi or 2T (Ki, Mi, Gi, Ti are powers of 1024; k, M, G, T of 1000)');
  return bytes;
}

/** A count from 0 to `max`. */
export const countParser = (max: number) => (text: string): number => {
  if (!/^\d+$/.test(text.trim()) || Number(text) > max) throw new InvalidArgumentError(`expected a whole number from 0 to ${max}`);
  return Number(text);
};

type LimitFlags = Partial<Record<QuotaResource, number>>;

interface SetFlags extends LimitFlags {
  keep?: boolean;
  clear?: boolean;
  output: TextFormat;
}

/** One flag per resource; commander names the value after the resource (`--lb-ports` → lbPorts). */
const LIMIT_OPTIONS: Record<QuotaResource, () => Option> = {
  cpu: () => new Option('--cpu <cores>', 'CPU cores, summed over the sets, e.g. 64 or 0.5').argParser(parseQuotaCores),
  memory: () => new Option('--memory <size>', 'memory of the sets, e.g. 256Gi').argParser(parseQuotaBytes),
  disk: () => new Option('--disk <size>', 'disk (volumes) of the sets, e.g. 2Ti').argParser(parseQuotaBytes),
  sets: () => new Option('--sets <n>', 'number of sets').argParser(countParser(1e7)),
  ips: () => new Option('--ips <n>', 'platform IPs held by the sets').argParser(countParser(1e7)),
  lbPorts: () => new Option('--lb-ports <n>', 'apps with a load balancer frontend').argParser(countParser(65_535)),
};

const FLAG_LIST = QUOTA_RESOURCES.map((r) => `--${QUOTA_NAMES[r]}`).join(', ');

const tenantArgument = () => new Argument('[tenant]', 'the tenant (default: --tenant, WHARF_TENANT, "tenant" in the config file, else default)').argParser(parseTenantName);

/** The limits named by the flags given. */
function givenLimits(flags: LimitFlags): QuotaAmounts {
  const out: QuotaAmounts = {};
  for (const r of QUOTA_RESOURCES) if (flags[r] !== undefined) out[r] = flags[r];
  return out;
}

/** `cpu 1, sets 2`; `none` without limits. */
function limitList(limits: QuotaAmounts): string {
  const set = QUOTA_RESOURCES.filter((r) => limits[r] !== undefined);
  return set.length === 0 ? 'none' : set.map((r) => `${QUOTA_NAMES[r]} ${quotaAmount(r, limits[r] ?? 0)}`).join(', ');
}

/** What the tenant already uses above a new limit: it stays, only more is refused. */
function overLimit(q: QuotaView): string[] {
  return QUOTA_RESOURCES.filter((r) => q.limits[r] !== undefined && (q.used[r] ?? 0) > (q.limits[r] ?? 0)).map(
    (r) => `note: tenant ${q.tenant} uses ${quotaAmount(r, q.used[r] ?? 0)} ${QUOTA_NAMES[r]}, above the new limit of ${quotaAmount(r, q.limits[r] ?? 0)}; it keeps them, but nothing that adds to them is admitted`,
  );
}

async function setQuota(ctx: Context, tenant: string | undefined, flags: SetFlags, command: Command): Promise<void> {
  const given = givenLimits(flags);
  if (!flags.clear && Object.keys(given).length === 0) {
    command.error(`error: give the limits to set (${FLAG_LIST}), or --clear to lift them all`, { exitCode: 2, code: 'wharf.quotaUsage' });
  }
  const client = ctx.client();
  const limits: QuotaSpec = flags.keep ? { ...(await client.getQuota(tenant)).limits, ...given } : given;
  const q = await client.setQuota(limits, tenant);
  if (flags.output !== 'text') return ctx.out(await serialize(q, flags.output));
  const unlimited = QUOTA_RESOURCES.filter((r) => q.limits[r] === undefined).map((r) => QUOTA_NAMES[r]);
  ctx.out(`quota of tenant ${q.tenant} set: limits ${limitList(q.limits)}${unlimited.length > 0 ? `; unlimited: ${unlimited.join(', ')}` : ''}`);
  for (const line of overLimit(q)) ctx.note(line);
}

export function registerQuota(program: Command, ctx: Context): void {
  const quota = program
    .command('quota')
    .summary("show or set a tenant's quota")
    .description(
      "A tenant's quota limits the CPU, memory and disk of its sets, their number, their platform IPs and its apps with a " +
        'load balancer. A change that would pass a limit is refused (QUOTA_EXCEEDED, naming what is used, asked and the limit); ' +
        'usage already above a lowered limit stays. Members of a tenant read its quota; platform admins set it.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf quota get team-a', 'limits and usage of team-a'],
        ['wharf quota set team-a --cpu 64 --memory 256Gi --sets 100', 'these limits; the others unlimited'],
        ['wharf quota set team-a --keep --sets 200', 'change one limit, keep the others'],
      ]),
    );

  quota
    .command('get')
    .alias('describe')
    .summary("a tenant's limits and usage")
    .description(
      'Show RESOURCE, USED, LIMIT ("unlimited" without one) and USE% of a tenant: cpu (cores), memory and disk (bytes), ' +
        'sets, ips and lb-ports (counts). Sets being deleted do not count. -o json|yaml: the API object (bytes as numbers).',
    )
    .addArgument(tenantArgument())
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText(
      'after',
      examples([
        ['wharf quota get', 'the selected tenant (--tenant, WHARF_TENANT, the config file, else default)'],
        ['wharf quota get team-a -o json', 'the API object'],
      ]),
    )
    .action(async (tenant: string | undefined, opts: { output: TableFormat }) => {
      const q = await ctx.client().getQuota(tenant);
      ctx.out(opts.output === 'table' ? renderQuota(q) : await serialize(q, opts.output));
    });

  const set = quota
    .command('set')
    .summary("set a tenant's limits (platform admins)")
    .description(
      "Set a tenant's limits. The flags given replace the limits as a whole: without --keep, every resource whose flag is " +
        `not given becomes UNLIMITED. --keep keeps the limits in force of the flags not given (it reads them, merges, and writes). ` +
        `--clear lifts every limit. 0 allows none. Give at least one of ${FLAG_LIST}, or --clear.`,
    )
    .addArgument(tenantArgument());
  for (const r of QUOTA_RESOURCES) set.addOption(LIMIT_OPTIONS[r]());
  set
    .addOption(new Option('--keep', 'keep the current limits of the resources whose flag is not given (else they become unlimited)').conflicts('clear'))
    .addOption(new Option('--clear', 'lift every limit').conflicts(QUOTA_RESOURCES))
    .addOption(textOutput())
    .addHelpText(
      'after',
      examples([
        ['wharf quota set team-a --cpu 64 --memory 256Gi --disk 2Ti --sets 100', 'these four limits; ips and lb-ports unlimited'],
        ['wharf quota set team-a --keep --sets 200', 'only the sets limit changes'],
        ['wharf quota set team-a --clear', 'no limits at all'],
        ['wharf --tenant team-a quota set --cpu 8 -o json', 'the selected tenant; the API object'],
      ]),
    )
    .action((tenant: string | undefined, opts: SetFlags, command: Command) => setQuota(ctx, tenant, opts, command));
}
