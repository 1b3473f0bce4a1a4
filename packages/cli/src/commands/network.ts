/** `wharf network create|ls|inspect|rm`: platform networks, the IP pools sets get their addresses from. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { NETWORK_NAME_PATTERN, WharfError, validateNetworkSpec, type FieldError, type IpAllocation, type NetworkSpec } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, fieldErrors, plural } from '../errors.js';
import { allocationRows, ALLOCATION_COLUMNS, describeNetwork, renderNetworks } from '../format/networks.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import { renderTable } from '../format/table.js';
import { examples } from './common.js';

export interface CreateNetworkFlags {
  subnet: string;
  gateway: string;
  range?: string;
  zone?: string;
  vlan?: number;
  default?: boolean;
}

export function parseVlan(text: string): number {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 4094) throw new InvalidArgumentError('expected a VLAN ID, a whole number 1..4094');
  return n;
}

export function networkSpecFromFlags(name: string, flags: CreateNetworkFlags): NetworkSpec {
  return {
    name,
    subnet: flags.subnet.trim(),
    gateway: flags.gateway.trim(),
    ...(flags.range !== undefined ? { range: flags.range.trim() } : {}),
    ...(flags.zone !== undefined ? { zone: flags.zone.trim() } : {}),
    ...(flags.vlan !== undefined ? { vlan: flags.vlan } : {}),
    ...(flags.default ? { default: true } : {}),
  };
}

/** What the server would refuse, checked before sending: the name, then the addresses (validateNetworkSpec). */
export function checkNetworkSpec(spec: NetworkSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (!new RegExp(NETWORK_NAME_PATTERN).test(spec.name)) errors.push({ path: 'name', message: `"${spec.name}" is not a network name (lowercase letters, digits and "-", at most 24, e.g. net1)` });
  if (spec.zone !== undefined && spec.zone === '') errors.push({ path: 'zone', message: 'must not be empty' });
  return [...errors, ...validateNetworkSpec(spec)];
}

/** Field paths as the user typed them: `gateway` → `--gateway`, `name` → `NAME`. */
function flagOf(path: string): string {
  return path === 'name' ? 'NAME' : ['subnet', 'gateway', 'range', 'zone', 'vlan', 'default'].includes(path) ? `--${path}` : path;
}

export function invalidNetwork(name: string, errors: FieldError[]): CliError {
  return new CliError(`invalid network ${name} (${plural(errors.length, 'error')}):`, errors.map((e) => `  ${flagOf(e.path)}: ${e.message}`));
}

function isAllocation(a: unknown): a is IpAllocation {
  const x = a as Partial<IpAllocation> | null;
  return typeof x === 'object' && x !== null && typeof x.ip === 'string' && typeof x.appkey === 'string' && typeof x.id === 'string';
}

/** NETWORK_IN_USE → the message and a table of the addresses still held, and by which sets. */
export function explainNetworkInUse(err: unknown, name: string, now: number): unknown {
  if (!(err instanceof WharfError) || err.code !== 'NETWORK_IN_USE') return err;
  const raw = err.details?.allocations;
  const allocations = Array.isArray(raw) ? raw.filter(isAllocation) : [];
  if (allocations.length === 0) return new CliError(err.message);
  const sets = new Set(allocations.map((a) => `${a.tenant}/${a.appkey}/${a.id}`));
  return new CliError(
    `network ${name} is in use: ${plural(allocations.length, 'IP')} held by ${plural(sets.size, 'set')}; delete those sets (or move them to another network) first`,
    renderTable(ALLOCATION_COLUMNS, allocationRows(allocations, now), { indent: '  ' }).split('\n'),
  );
}

export function registerNetwork(program: Command, ctx: Context): void {
  const network = program
    .command('network')
    .alias('net')
    .summary('manage platform networks (the IP pools of sets)')
    .description(
      'Manage platform networks: IPv4 subnets whose addresses the server hands out to sets. A set keeps its IPs across ' +
        'restarts and moves; its host attaches it with macvlan on the uplink that reaches the network (no overlay, no NAT). ' +
        'Hosts declare the networks they reach (wharf host set --network).',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf network create net1 --subnet 10.99.0.0/24 --gateway 10.99.0.1 --default', 'a network for sets that name none'],
        ['wharf network ls', 'every network with used and free addresses'],
        ['wharf network inspect net1', 'a network and which set holds which address'],
        ['wharf network rm net1', 'remove a network no set uses'],
      ]),
    );

  network
    .command('create')
    .summary('create a network')
    .description(
      'Create a platform network. The server hands out the addresses of --range (default: the whole subnet but its network, ' +
        'gateway and broadcast addresses). Creating the same network again changes nothing; a different one with the same name is refused.',
    )
    .argument('<name>', 'the network name: lowercase letters, digits and "-", at most 24')
    .requiredOption('--subnet <cidr>', 'the IPv4 subnet, e.g. 10.99.0.0/24 (/8 to /30)')
    .requiredOption('--gateway <ip>', 'the router of the subnet, e.g. 10.99.0.1')
    .option('--range <first-last>', 'only hand out these addresses, e.g. 10.99.0.100-10.99.0.250')
    .option('--zone <zone>', 'only hosts of this zone attach to it')
    .option('--vlan <id>', '802.1Q tag: hosts attach through <uplink>.<id> (1..4094)', parseVlan)
    .option('--default', 'sets that name no network get their IP here (one network at most)')
    .addHelpText(
      'after',
      examples([
        ['wharf network create net1 --subnet 10.99.0.0/24 --gateway 10.99.0.1 --default', 'the default network'],
        ['wharf network create dc1-v20 --subnet 10.20.0.0/16 --gateway 10.20.0.1 --vlan 20 --zone dc1', 'tagged, one zone only'],
        ['wharf network create web --subnet 10.30.0.0/24 --gateway 10.30.0.1 --range 10.30.0.100-10.30.0.199', 'hand out 100 addresses'],
      ]),
    )
    .action(async (name: string, opts: CreateNetworkFlags) => {
      const spec = networkSpecFromFlags(name, opts);
      const problems = checkNetworkSpec(spec);
      if (problems.length > 0) throw invalidNetwork(name, problems);
      let result;
      try {
        result = await ctx.client().createNetwork(spec);
      } catch (err) {
        if (err instanceof WharfError && err.code === 'VALIDATION_FAILED' && fieldErrors(err).length > 0) throw invalidNetwork(name, fieldErrors(err));
        throw err;
      }
      const n = result.network;
      const what = `${n.subnet}, ${n.free} free address${n.free === 1 ? '' : 'es'}${n.default ? ', default' : ''}`;
      ctx.out(result.created ? `network ${n.name} created (${what})` : `network ${n.name} unchanged (it exists with this definition: ${what})`);
    });

  network
    .command('ls')
    .alias('list')
    .summary('list networks')
    .description('List networks: NAME, SUBNET, GATEWAY, RANGE (the addresses handed out), ZONE, VLAN, USED and FREE addresses, HOSTS (how many attach to it), DEFAULT; -o wide adds SIZE, AGE and HOST NAMES.')
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf network ls', 'a table of every network'],
        ['wharf network ls -o wide', 'with the names of the hosts that reach each'],
        ['wharf network ls -o json', 'the API objects'],
      ]),
    )
    .action(async (opts: { output: OutputFormat }) => {
      const networks = await ctx.client().listNetworks();
      if (opts.output === 'json' || opts.output === 'yaml') {
        ctx.out(await serialize(networks, opts.output));
        return;
      }
      if (networks.length === 0) {
        ctx.note('No networks (create one with "wharf network create").');
        return;
      }
      ctx.out(renderNetworks(networks, opts.output === 'wide', ctx.clock.now()));
    });

  network
    .command('inspect')
    .summary('show a network and its allocations')
    .description('Show a network: subnet, gateway, range, zone, VLAN, default, used and free addresses, the hosts that attach to it, and every address in use (IP, SET, TENANT, PRIMARY, SINCE).')
    .argument('<name>', 'the network name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .addHelpText(
      'after',
      examples([
        ['wharf network inspect net1', 'who holds which address'],
        ['wharf network inspect net1 -o yaml', 'the API object, with allocations'],
      ]),
    )
    .action(async (name: string, opts: { output: 'text' | 'json' | 'yaml' }) => {
      const n = await ctx.client().getNetwork(name);
      ctx.out(opts.output === 'text' ? describeNetwork(n, ctx.clock.now()) : await serialize(n, opts.output));
    });

  network
    .command('rm')
    .alias('delete')
    .summary('remove a network')
    .description('Remove a network. Refused while a set holds one of its addresses; the sets are listed.')
    .argument('<name>', 'the network name')
    .addHelpText('after', examples([['wharf network rm net1', 'remove net1 (no set may hold an address of it)']]))
    .action(async (name: string) => {
      try {
        await ctx.client().deleteNetwork(name);
      } catch (err) {
        throw explainNetworkInUse(err, name, ctx.clock.now());
      }
      ctx.out(`network ${name} removed`);
    });
}
