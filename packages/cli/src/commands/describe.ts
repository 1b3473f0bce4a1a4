/** `wharf describe set APPKEY/ID` and `wharf describe host NAME`: everything about one object, for people. */
import type { Command } from 'commander';
import type { NetworkView, SetEvent } from '@wharf/types';
import type { Context } from '../context.js';
import { describeSet } from '../format/describe.js';
import { describeHost } from '../format/hosts.js';
import type { SetRef } from '../ref.js';
import { examples, setArgument } from './common.js';

export function registerDescribe(program: Command, ctx: Context): void {
  const describe = program
    .command('describe')
    .summary('show details of a set or a host')
    .description('Show details of an object, for people (use "get ... -o yaml" for machines).')
    .addHelpText(
      'after',
      examples([
        ['wharf describe set com.example.web/1', 'status, IPs, containers and recent events'],
        ['wharf describe host host1', 'capacity, allocation, bandwidth and networks'],
      ]),
    );

  describe
    .command('set')
    .summary('show details of a set')
    .description(
      'Show a set: identity, status and message, host, desired state, generation, resources, bandwidth limits, ' +
        'platform IPs (with their networks; the first is the primary), volume, ' +
        'its containers (index, name, role, image, state, restarts, exit code, start, CPU, memory, ID) and recent events.',
    )
    .addArgument(setArgument())
    .addHelpText('after', examples([['wharf describe set com.example.web/1', 'why is my set not running?']]))
    .action(async (ref: SetRef) => {
      const client = ctx.client();
      const set = await client.getSet(ref.appkey, ref.id);
      let events: SetEvent[] | Error;
      try {
        events = await client.setEvents(ref.appkey, ref.id);
      } catch (err) {
        events = err instanceof Error ? err : new Error(String(err));
      }
      ctx.out(describeSet(set, events, ctx.clock.now()));
    });

  describe
    .command('host')
    .summary('show details of a host')
    .description(
      'Show a host: state, zone, rack, labels, agent and Docker versions, registration and last heartbeat, ' +
        'resources (allocated, capacity and in use: cpu, memory, disk, bandwidth in Mbit/s) and the networks it reaches ' +
        '(uplink, interface, subnet, whether it attaches). Settings made with "wharf host set" are marked.',
    )
    .argument('<name>', 'the host name')
    .addHelpText('after', examples([['wharf describe host host1', 'which networks does host1 attach, how much bandwidth is left?']]))
    .action(async (name: string) => {
      const client = ctx.client();
      const host = await client.getHost(name);
      let networks: NetworkView[] | Error;
      try {
        networks = await client.listNetworks();
      } catch (err) {
        networks = err instanceof Error ? err : new Error(String(err));
      }
      ctx.out(describeHost(host, networks, ctx.clock.now()));
    });
}
