/**
 * `wharf policy apply|ls|get|rm`: network policies. Sets accept traffic from
 * sets of their own tenant; a policy opens an app's sets to more peers (other
 * apps, other tenants, address blocks), optionally only on some ports.
 */
import type { Command } from 'commander';
import { WharfError, type NetworkPolicySpec } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, fieldErrors, fieldLines, plural } from '../errors.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import { renderPolicies } from '../format/policies.js';
import type { SpecDocument } from '../input.js';
import { examples } from './common.js';

/** Fields the server fills in: a policy printed with `-o yaml` can be applied again as it is. */
const READ_ONLY = ['createdAt', 'updatedAt'] as const;

export interface PreparedPolicy {
  where: string;
  spec: NetworkPolicySpec;
  /** The tenant named in the file, if any. */
  tenant?: string;
}

/**
 * Drops the read-only fields and takes `tenant` out of the document. A tenant in
 * the file must agree with one chosen explicitly (--tenant, WHARF_TENANT or the
 * config file); with none chosen, the file's is used.
 */
export function preparePolicy(doc: SpecDocument, chosenTenant: { tenant?: string; from?: string }): PreparedPolicy {
  const { tenant, ...rest } = doc.spec;
  for (const key of READ_ONLY) delete rest[key];
  if (tenant === undefined || tenant === null) return { where: doc.where, spec: rest as unknown as NetworkPolicySpec };
  if (typeof tenant !== 'string' || tenant === '') throw new CliError(`${doc.where}: "tenant" must be a tenant name`);
  if (chosenTenant.tenant !== undefined && chosenTenant.tenant !== tenant) {
    throw new CliError(`${doc.where} is for tenant ${tenant}, but ${chosenTenant.from ?? 'the settings'} selects tenant ${chosenTenant.tenant}; remove "tenant" from the file or change the tenant`);
  }
  return { where: doc.where, spec: rest as unknown as NetworkPolicySpec, tenant };
}

export function explainPolicyError(err: unknown, where: string): unknown {
  if (!(err instanceof WharfError) || err.code !== 'VALIDATION_FAILED') return err;
  const fields = fieldErrors(err);
  if (fields.length === 0) return new CliError(`invalid network policy in ${where}: ${err.message}`);
  return new CliError(`invalid network policy in ${where} (${plural(fields.length, 'error')}):`, fieldLines(fields));
}

/** POLICY_NOT_FOUND, saying in which tenant it was looked for (policies of other tenants are invisible). */
export function explainPolicyNotFound(err: unknown, tenant: string | undefined): unknown {
  if (!(err instanceof WharfError) || err.code !== 'POLICY_NOT_FOUND') return err;
  return new CliError(`${err.message} in tenant ${tenant ?? 'default'}${tenant === undefined ? ' (--tenant selects another)' : ''}`);
}

function policyRef(p: { appkey: string; name: string }): string {
  return `${p.appkey}/${p.name}`;
}

function inTenant(tenant: string | undefined): string {
  return tenant !== undefined && tenant !== 'default' ? ` in tenant ${tenant}` : '';
}

export function registerPolicy(program: Command, ctx: Context): void {
  const policy = program
    .command('policy')
    .summary('manage network policies (who may reach an app)')
    .description(
      'Manage network policies. A set accepts traffic only from sets of its own tenant; a policy lets more in to the sets ' +
        'of one app: other apps (of any tenant) or address blocks, on all or some ports. Policies belong to the tenant (--tenant).',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf policy apply -f allow-web.yaml', 'create or update the policies in a file'],
        ['wharf policy ls --app com.example.web', "an app's policies"],
        ['wharf policy get com.example.web allow-lb -o yaml', 'one policy as YAML'],
        ['wharf policy rm com.example.web allow-lb', 'remove it'],
      ]),
    );

  policy
    .command('apply')
    .summary('create or update policies from a JSON or YAML file')
    .description(
      'Create or update network policies from a file (JSON or YAML): one policy, a list of them, or several YAML documents ' +
        'separated by "---". Each is {name, appkey, ingress: [{from: [{app, tenant, cidr}], ports: [{port, protocol}]}]}; ' +
        'a rule without ports allows every port. Prints "policy APPKEY/NAME created" or "configured" for each.',
    )
    .requiredOption('-f, --filename <file>', 'the policy file, or - to read stdin')
    .addHelpText(
      'after',
      '\nA policy (YAML):\n' +
        '  name: allow-lb\n' +
        '  appkey: com.example.web\n' +
        '  ingress:\n' +
        '    - from: [{ app: com.example.lb }, { cidr: 10.0.0.0/8 }]\n' +
        '      ports: [{ port: 8080 }, { port: 8443, protocol: tcp }]\n' +
        '    - from: [{ app: com.example.monitor, tenant: ops }]\n' +
        examples([
          ['wharf policy apply -f allow-lb.yaml', 'create or update the policy in a file'],
          ['wharf --tenant team-a policy apply -f policies.yaml', 'a list of policies, for tenant team-a'],
          ['wharf policy get com.example.web allow-lb -o yaml | wharf policy apply -f -', 'apply what get prints'],
        ]),
    )
    .action(async (opts: { filename: string }) => {
      const name = opts.filename === '-' ? 'stdin' : opts.filename;
      const { parseDocuments, readSource } = await import('../input.js');
      const docs = parseDocuments(await readSource(opts.filename, ctx.io.stdin), name, {
        what: 'network policy',
        shape: 'a network policy (an object with name, appkey and ingress)',
        lists: true,
      });
      const config = ctx.config();
      const chosen = config.tenant !== undefined ? { tenant: config.tenant, from: tenantSourceText(config.tenantSource, config.configPath) } : {};
      const prepared = docs.map((d) => preparePolicy(d, chosen));
      const client = ctx.client();
      for (const p of prepared) {
        let result;
        try {
          result = await (p.tenant !== undefined ? client.forTenant(p.tenant) : client).applyPolicy(p.spec);
        } catch (err) {
          throw explainPolicyError(err, p.where);
        }
        ctx.out(`policy ${policyRef(result.policy)} ${result.created ? 'created' : 'configured'}${inTenant(result.policy.tenant)}`);
      }
    });

  policy
    .command('ls')
    .alias('list')
    .summary("list the tenant's policies")
    .description('List the network policies of the tenant: APPKEY, NAME, INGRESS (each rule as "peers → ports"), AGE; -o wide adds TENANT and UPDATED.')
    .option('--app <appkey>', 'only the policies of this app')
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf policy ls', 'every policy of the tenant'],
        ['wharf policy ls --app com.example.web', 'the policies that open one app'],
        ['wharf policy ls -o yaml', 'the API objects'],
      ]),
    )
    .action(async (opts: { app?: string; output: OutputFormat }) => {
      const policies = await ctx.client().listPolicies(opts.app ? { appkey: opts.app } : {});
      if (opts.output === 'json' || opts.output === 'yaml') {
        ctx.out(await serialize(policies, opts.output));
        return;
      }
      if (policies.length === 0) {
        ctx.note(opts.app ? `No network policies for ${opts.app}.` : 'No network policies.');
        return;
      }
      ctx.out(renderPolicies(policies, opts.output === 'wide', ctx.clock.now()));
    });

  policy
    .command('get')
    .summary('show one policy')
    .description('Show one network policy (same columns as "policy ls"; -o yaml or -o json for the whole object).')
    .argument('<appkey>', 'the app the policy opens')
    .argument('<name>', 'the policy name')
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf policy get com.example.web allow-lb', 'one row'],
        ['wharf policy get com.example.web allow-lb -o yaml', 'the whole policy'],
      ]),
    )
    .action(async (appkey: string, name: string, opts: { output: OutputFormat }) => {
      const client = ctx.client();
      const p = await client.getPolicy(appkey, name).catch((err: unknown) => {
        throw explainPolicyNotFound(err, client.tenant);
      });
      ctx.out(opts.output === 'json' || opts.output === 'yaml' ? await serialize(p, opts.output) : renderPolicies([p], opts.output === 'wide', ctx.clock.now()));
    });

  policy
    .command('rm')
    .alias('delete')
    .summary('remove a policy')
    .description('Remove a network policy: the peers it let in lose access once the hosts of the app\'s sets apply the change.')
    .argument('<appkey>', 'the app the policy opens')
    .argument('<name>', 'the policy name')
    .addHelpText('after', examples([['wharf policy rm com.example.web allow-lb', 'remove the policy allow-lb of com.example.web']]))
    .action(async (appkey: string, name: string) => {
      const client = ctx.client();
      await client.deletePolicy(appkey, name).catch((err: unknown) => {
        throw explainPolicyNotFound(err, client.tenant);
      });
      ctx.out(`policy ${appkey}/${name} removed${inTenant(client.tenant)}`);
    });
}

function tenantSourceText(source: string | undefined, configPath: string): string {
  switch (source) {
    case 'flag':
      return '--tenant';
    case 'env':
      return 'WHARF_TENANT';
    case 'file':
      return configPath;
    default:
      return 'the settings';
  }
}
