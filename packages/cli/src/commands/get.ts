/** `wharf get sets|set|hosts|host`: list objects as a table, wide table, JSON or YAML. */
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { renderHosts } from '../format/hosts.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import { renderSets } from '../format/sets.js';
import type { SetRef } from '../ref.js';
import { examples, setArgument } from './common.js';

async function print(ctx: Context, format: OutputFormat, data: unknown, table: (wide: boolean) => string): Promise<void> {
  ctx.out(format === 'json' || format === 'yaml' ? await serialize(data, format) : table(format === 'wide'));
}

export function registerGet(program: Command, ctx: Context): void {
  const get = program
    .command('get')
    .summary('list sets or hosts')
    .description('List sets or hosts. Output: table (default), wide (more columns), json or yaml (the API objects unchanged).')
    .addHelpText(
      'after',
      examples([
        ['wharf get sets', 'all sets'],
        ['wharf get sets --appkey com.example.web -o wide', "one app's sets, with resources and images"],
        ['wharf get set com.example.web/1 -o yaml', 'one set as YAML'],
        ['wharf get hosts', 'all hosts with their capacity'],
      ]),
    );

  get
    .command('sets')
    .summary('list sets')
    .description(
      'List sets of the tenant (--tenant): APPKEY, ID, STATUS, READY (running business containers/total), HOST, AGE; -o wide adds ' +
        'IP (the primary platform IP, "+N" when the set has more), CPU, MEMORY, DISK, IMAGES, GEN (observed/desired generation).',
    )
    .addOption(outputOption())
    .option('--appkey <appkey>', 'only the sets of this app')
    .addHelpText(
      'after',
      examples([
        ['wharf get sets', 'a table of every set'],
        ['wharf get sets --appkey com.example.web', 'the sets of one app'],
        ['wharf get sets -o wide', 'with IPs, resources and images'],
        ['wharf get sets -o json', 'the SetView array exactly as the API returns it'],
        ['wharf --tenant team-a get sets', "the sets of tenant team-a"],
      ]),
    )
    .action(async (opts: { output: OutputFormat; appkey?: string }) => {
      const sets = await ctx.client().listSets(opts.appkey ? { appkey: opts.appkey } : {});
      if (sets.length === 0 && (opts.output === 'table' || opts.output === 'wide')) {
        ctx.note(opts.appkey ? `No sets found for appkey ${opts.appkey}.` : 'No sets found.');
        return;
      }
      await print(ctx, opts.output, sets, (wide) => renderSets(sets, wide, ctx.clock.now()));
    });

  get
    .command('set')
    .summary('show one set')
    .description('Show one set (same columns as "get sets").')
    .addArgument(setArgument())
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf get set com.example.web/1', 'one row'],
        ['wharf get set com.example.web/1 -o json', 'the SetView as JSON'],
      ]),
    )
    .action(async (ref: SetRef, opts: { output: OutputFormat }) => {
      const set = await ctx.client().getSet(ref.appkey, ref.id);
      await print(ctx, opts.output, set, (wide) => renderSets([set], wide, ctx.clock.now()));
    });

  get
    .command('hosts')
    .summary('list hosts')
    .description(
      'List hosts: NAME, STATE, ZONE, RACK, CPU and MEMORY (allocated/capacity), SETS, AGE (since registration); -o wide adds DISK, ' +
        'BANDWIDTH (allocated/capacity Mbit/s), NETWORKS (network=uplink), HEARTBEAT, AGENT, DOCKER, LABELS, IN USE.',
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf get hosts', 'a table of every host'],
        ['wharf get hosts -o wide', 'with disk, bandwidth, networks, last heartbeat and versions'],
      ]),
    )
    .action(async (opts: { output: OutputFormat }) => {
      const hosts = await ctx.client().listHosts();
      if (hosts.length === 0 && (opts.output === 'table' || opts.output === 'wide')) {
        ctx.note('No hosts found (start a wharf-agent to register one).');
        return;
      }
      await print(ctx, opts.output, hosts, (wide) => renderHosts(hosts, wide, ctx.clock.now()));
    });

  get
    .command('host')
    .summary('show one host')
    .description('Show one host (same columns as "get hosts").')
    .argument('<name>', 'the host name')
    .addOption(outputOption())
    .addHelpText('after', examples([['wharf get host dc1-r3-h07 -o yaml', 'one host as YAML']]))
    .action(async (name: string, opts: { output: OutputFormat }) => {
      const host = await ctx.client().getHost(name);
      await print(ctx, opts.output, host, (wide) => renderHosts([host], wide, ctx.clock.now()));
    });
}
