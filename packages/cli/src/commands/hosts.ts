/**
 * `wharf cordon|uncordon|drain HOST`: take a host out of scheduling, or empty it; `wharf host set`: its networks and
 * bandwidth; `wharf host rm` and `wharf host revoke`: remove it, revoke its certificate.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { IFACE_PATTERN, NETWORK_NAME_PATTERN, WharfError } from '@wharf/types';
import type { Host, HostNetwork, HostSettingsPatch } from '@wharf/types';
import type { Context } from '../context.js';
import { OVERRIDE_NOTE } from '../format/hosts.js';
import { formatMbit } from '../format/units.js';
import { addWaitOptions, examples, waitSettings, type WaitFlags } from './common.js';

/** One `--network NAME=IFACE`, added to the ones before it. */
export function collectNetwork(text: string, previous: HostNetwork[] | undefined): HostNetwork[] {
  const example = 'expected NETWORK=UPLINK, e.g. net1=eth0';
  const eq = text.indexOf('=');
  if (eq < 0) throw new InvalidArgumentError(`"${text}" has no "="; ${example}`);
  const name = text.slice(0, eq).trim();
  const uplink = text.slice(eq + 1).trim();
  if (!new RegExp(NETWORK_NAME_PATTERN).test(name)) throw new InvalidArgumentError(`"${name}" is not a network name; ${example}`);
  if (!new RegExp(IFACE_PATTERN).test(uplink)) throw new InvalidArgumentError(`"${uplink}" is not an interface name (at most 15 letters, digits, "_", "." or "-"); ${example}`);
  const list = previous ?? [];
  if (list.some((n) => n.name === name)) throw new InvalidArgumentError(`network ${name} is given twice`);
  return [...list, { name, uplink }];
}

/** --bandwidth: Mbit/s, a number > 0. */
export function parseMbit(text: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected Mbit/s, a number > 0 (e.g. 10000 for 10 Gbit/s)');
  return n;
}

export interface HostSetFlags {
  network?: HostNetwork[];
  /** false with --no-networks-override */
  networksOverride: boolean;
  bandwidth?: number;
  /** false with --no-bandwidth-override */
  bandwidthOverride: boolean;
}

/** The PATCH body for the flags; undefined when they change nothing. */
export function hostPatch(flags: HostSetFlags): HostSettingsPatch | undefined {
  const patch: HostSettingsPatch = {};
  if (flags.network) patch.networks = flags.network;
  else if (!flags.networksOverride) patch.networks = null;
  if (flags.bandwidth !== undefined) patch.bandwidth = flags.bandwidth;
  else if (!flags.bandwidthOverride) patch.bandwidth = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** `host h1 updated: networks net1=eth0 (set by wharf host set); bandwidth 10000 Mbit/s (as the agent declares)` */
export function hostSettingsSummary(h: Host): string {
  const networks = (h.networks ?? []).map((n) => `${n.name}=${n.uplink}`).join(', ') || '<none>';
  const bw = h.capacity.bandwidth !== undefined ? `${formatMbit(h.capacity.bandwidth)} Mbit/s` : 'unlimited';
  const from = (overridden: boolean) => (overridden ? OVERRIDE_NOTE : 'as the agent declares');
  return `host ${h.name} updated: networks ${networks} (${from(h.overrides?.networks !== undefined)}); bandwidth ${bw} (${from(h.overrides?.bandwidth !== undefined)})`;
}

/** "3 sets left to move" / "done; 1 set cannot move (it has a volume): a/1" */
export function drainProgress(h: Host): { done: boolean; text: string } {
  const remaining = h.drain?.remaining ?? h.sets;
  const moving = h.drain?.moving ?? 0;
  const blocked = h.drain?.blocked ?? [];
  const movable = remaining - blocked.length;
  const stuck = blocked.length ? `; ${blocked.length} cannot move (local volume): ${blocked.join(', ')}` : '';
  if (movable <= 0 && moving === 0) return { done: true, text: `host ${h.name} drained${stuck}` };
  const starting = moving ? `, ${moving} starting elsewhere` : '';
  return { done: false, text: `draining ${h.name}: ${movable} set${movable === 1 ? '' : 's'} left to move${starting}${stuck}` };
}

export function registerHostCommands(program: Command, ctx: Context): void {
  const simple = { cordon: 'mark a host unschedulable; its sets keep running', uncordon: 'make a host schedulable again (ends a drain)' } as const;
  for (const [action, summary] of Object.entries(simple) as ['cordon' | 'uncordon', string][]) {
    program
      .command(`${action} <host>`)
      .summary(summary)
      .description(`${summary[0]?.toUpperCase()}${summary.slice(1)}.`)
      .addHelpText('after', examples([[`wharf ${action} host1`, summary]]))
      .action(async (name: string) => {
        const h = await ctx.client().hostAction(name, action);
        ctx.out(`host ${h.name} ${action}ed (${h.state})`);
      });
  }

  const host = program
    .command('host')
    .summary("change a host's networks and bandwidth, remove it, revoke its certificate")
    .description("Change a host's settings (what is set here wins over what the host's agent declares, until it is unset), remove a host, or revoke its certificate.")
    .addHelpText('after', examples([['wharf host set host1 --network net1=eth0 --bandwidth 10000', 'host1 reaches net1 through eth0; 10 Gbit/s uplink']]));

  host
    .command('set')
    .summary("set a host's networks (and uplinks) and its bandwidth")
    .description(
      'Override what the agent declares: the platform networks the host reaches and through which uplink interface ' +
        '(--network, repeat it for each; the list replaces the previous one), and the uplink bandwidth in Mbit/s per direction ' +
        '(sets with a bandwidth limit reserve it, like CPU). --no-networks-override and --no-bandwidth-override go back to the agent\'s own values.',
    )
    .argument('<host>', 'the host name')
    .addOption(new Option('--network <network=uplink>', 'the host reaches NETWORK through interface UPLINK (repeatable)').argParser(collectNetwork).conflicts('networksOverride'))
    .addOption(new Option('--no-networks-override', "use the networks the agent declares again"))
    .addOption(new Option('--bandwidth <mbit>', 'uplink capacity in Mbit/s per direction').argParser(parseMbit).conflicts('bandwidthOverride'))
    .addOption(new Option('--no-bandwidth-override', "use the bandwidth the agent declares again"))
    .addHelpText(
      'after',
      examples([
        ['wharf host set host1 --network net1=eth0', 'host1 reaches net1 through eth0'],
        ['wharf host set host1 --network net1=eth0 --network dc1-v20=bond0', 'two networks (the list replaces the old one)'],
        ['wharf host set host1 --bandwidth 10000', 'a 10 Gbit/s uplink'],
        ['wharf host set host1 --no-networks-override --no-bandwidth-override', "back to what the agent declares"],
      ]),
    )
    .action(async (name: string, opts: HostSetFlags, cmd: Command) => {
      const patch = hostPatch(opts);
      if (!patch) cmd.error('error: nothing to change; pass --network, --no-networks-override, --bandwidth or --no-bandwidth-override', { exitCode: 2, code: 'wharf.nothingToChange' });
      const client = ctx.client();
      const h = await client.updateHost(name, patch);
      ctx.out(hostSettingsSummary(h));
      if (patch.networks) {
        // A typo in a network name is accepted by the server (the network may come later): say so.
        const known = new Set((await client.listNetworks().catch(() => undefined))?.map((n) => n.name) ?? patch.networks.map((n) => n.name));
        for (const n of patch.networks) if (!known.has(n.name)) ctx.note(`warning: there is no network ${n.name} (yet); create it with "wharf network create ${n.name} ..."`);
      }
    });

  host
    .command('rm')
    .summary('remove a host that holds no set, and revoke its certificate')
    .description(
      'Remove a host from the platform: its record and settings go, and the certificate it joined with is revoked (the server '
        + 'refuses it at once, other agents at their next answer from the server), with its registry secret. A host that still '
        + 'holds sets is refused: drain it or delete them first. Stop its agent first: an agent on the shared join token registers '
        + 'again at its next heartbeat; a joined one needs a new join token to come back.',
    )
    .argument('<host>', 'the host name')
    .addHelpText('after', examples([['wharf drain host1 --wait && wharf host rm host1', 'empty host1, then remove it']]))
    .action(async (name: string) => {
      const r = await ctx.client().removeHost(name);
      ctx.out(`host ${r.name} removed${r.revokedCertificate ? `; its certificate ${r.revokedCertificate.fingerprint.slice(0, 16)}… is revoked` : ''}`);
    });

  host
    .command('revoke')
    .summary("revoke a joined host's certificate and registry secret")
    .description(
      'Revoke the certificate a host joined with, and its registry secret: its agent can no longer call the server, pull private '
        + 'images or pull volume exports from other hosts. The host and its sets stay; the agent acts again after joining with a new '
        + 'token (remove its data directory\'s tls/ first).',
    )
    .argument('<host>', 'the host name')
    .addHelpText('after', examples([['wharf host revoke host1', "host1's certificate is refused from now on"]]))
    .action(async (name: string) => {
      const r = await ctx.client().revokeHostCertificate(name);
      ctx.out(`certificate of host ${r.host} revoked (SHA-256 ${r.fingerprint}); it was valid until ${r.expiresAt}`);
    });

  const drain = program
    .command('drain <host>')
    .summary('cordon a host and move its sets elsewhere, one at a time')
    .description('Cordon a host and move its sets without a local volume to other hosts, one at a time (each runs again before the next moves). Sets with a volume stay and are listed. Ends with `wharf uncordon`.');
  addWaitOptions(drain, 'every movable set has left the host')
    .addHelpText('after', examples([['wharf drain host1 --wait', 'drain and follow progress'], ['wharf uncordon host1', 'take it back into service']]))
    .action(async (name: string, opts: WaitFlags) => {
      const { wait, timeoutMs } = waitSettings(opts);
      const client = ctx.client();
      let h = await client.hostAction(name, 'drain');
      if (!wait) {
        ctx.out(drainProgress(h).text);
        return;
      }
      const progress = await ctx.progress();
      const deadline = ctx.clock.now() + timeoutMs;
      for (;;) {
        const p = drainProgress(h);
        if (p.done) {
          progress.succeed(p.text);
          ctx.out(p.text);
          return;
        }
        progress.update(p.text);
        if (ctx.clock.now() > deadline) {
          progress.fail(p.text);
          throw new WharfError('CONFLICT', `timed out waiting for host ${name} to drain: ${p.text}`);
        }
        await ctx.clock.sleep(500);
        h = await client.getHost(name);
      }
    });
}
