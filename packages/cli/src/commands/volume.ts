/**
 * `wharf volume ls|inspect|resize|snapshot|snapshots|snapshot-restore|snapshot-rm|export`
 * and the recycle bin (`trash ls`, `restore`, `purge`): every set's one volume, on its host.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { WharfError, formatBytes, parseBytes } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, plural } from '../errors.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import type { Progress } from '../progress.js';
import { describeVolume, renderSnapshots, renderTrash, renderVolumes, usePercent } from '../format/volumes.js';
import { formatRef, parseSetRef, type SetRef } from '../ref.js';
import { examples, setArgument } from './common.js';

/** `--size 20Gi`: a size in bytes, > 0. */
export function parseSize(text: string): number {
  const bytes = parseBytes(text);
  if (bytes === undefined || bytes < 1) throw new InvalidArgumentError('expected a size such as 20Gi, 500Mi or 1T (Ki, Mi, Gi, Ti are powers of 1024)');
  return bytes;
}

export interface TrashRef {
  host: string;
  trashId: string;
}

/** `HOST/TRASHID`, as `wharf volume trash ls` shows it in its ID column. */
export function parseTrashRef(text: string): TrashRef {
  const example = 'expected HOST/TRASHID as "wharf volume trash ls" shows it, e.g. h1/20250101T120000Z-web-1';
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidArgumentError(`"${text}" has no "/"; ${example}`);
  const host = text.slice(0, slash).trim();
  const trashId = text.slice(slash + 1).trim();
  if (!host || !trashId) throw new InvalidArgumentError(`the ${host ? 'TRASHID' : 'HOST'} is empty; ${example}`);
  return { host, trashId };
}

/** `wharf stop set X --wait`, with the tenant flag when the client has one. */
function stopHint(ctx: Context, ref: SetRef): string {
  const tenant = ctx.client().tenant;
  return `${tenant ? `wharf --tenant ${tenant}` : 'wharf'} stop set ${formatRef(ref)} --wait`;
}

/** VOLUME_IN_USE → the message and how to get there. */
function explainInUse(ctx: Context, err: unknown, ref: SetRef): unknown {
  if (!(err instanceof WharfError) || err.code !== 'VOLUME_IN_USE') return err;
  return new CliError(err.message, [`  stop the set first (${stopHint(ctx, ref)}), then start it again (wharf start set ${formatRef(ref)})`]);
}

const textOutput = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text');

export function registerVolume(program: Command, ctx: Context): void {
  const volume = program
    .command('volume')
    .alias('vol')
    .summary('manage set volumes, their snapshots and the recycle bin')
    .description(
      'Every set has one volume on its host, as large as its resources.disk (a hard quota). Volumes grow online ' +
        '(resize), can be snapshotted and rolled back, and downloaded (export). A deleted set\'s volume stays in its ' +
        "host's recycle bin until purged, and can be restored into a set of the same app. To move a set with its volume " +
        'to another host, see "wharf set move".',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf volume ls', 'every volume with usage and quota'],
        ['wharf volume resize com.example.db/1 --size 50Gi', 'grow a volume online'],
        ['wharf volume snapshot com.example.db/1 --name before-upgrade', 'take a snapshot'],
        ['wharf volume trash ls', 'volumes of deleted sets'],
        ['wharf volume export com.example.db/1 -o db-1.tar', 'download a volume'],
      ]),
    );

  volume
    .command('ls')
    .alias('list')
    .summary('list volumes')
    .description(
      'List the volume of every set of the tenant: SET, HOST, DRIVER (btrfs or xfs), USED, QUOTA (the limit in force), ' +
        'USE% (used of the quota), SIZE (the set\'s resources.disk). Usage is what the host last reported (every few seconds); ' +
        '-o wide adds TENANT, PATH (on the host) and REPORTED.',
    )
    .option('--app <appkey>', 'only the volumes of this app')
    .addOption(outputOption())
    .addHelpText(
      'after',
      examples([
        ['wharf volume ls', 'a table of every volume'],
        ['wharf volume ls --app com.example.db', "one app's volumes"],
        ['wharf volume ls -o json', 'the VolumeView array as the API returns it'],
      ]),
    )
    .action(async (opts: { app?: string; output: OutputFormat }) => {
      const volumes = await ctx.client().listVolumes(opts.app ? { appkey: opts.app } : {});
      if (opts.output === 'json' || opts.output === 'yaml') {
        ctx.out(await serialize(volumes, opts.output));
        return;
      }
      if (volumes.length === 0) {
        ctx.note(opts.app ? `No volumes for appkey ${opts.app}.` : 'No volumes (every set has one; there are no sets).');
        return;
      }
      ctx.out(renderVolumes(volumes, opts.output === 'wide', ctx.clock.now()));
    });

  volume
    .command('inspect')
    .summary("show a set's volume and its snapshots")
    .description("Show a set's volume: host, driver, path on the host, size, quota in force, usage, when it was reported, and its snapshots (NAME, CREATED, USED).")
    .addArgument(setArgument())
    .addOption(textOutput())
    .addHelpText('after', examples([['wharf volume inspect com.example.db/1', 'how full is it, which snapshots are there?'], ['wharf volume inspect com.example.db/1 -o yaml', 'the VolumeView']]))
    .action(async (ref: SetRef, opts: { output: 'text' | 'json' | 'yaml' }) => {
      const v = await ctx.client().getVolume(ref.appkey, ref.id);
      ctx.out(opts.output === 'text' ? describeVolume(v, ctx.clock.now()) : await serialize(v, opts.output));
    });

  volume
    .command('resize')
    .summary("resize a set's volume (online)")
    .description(
      "Resize a set's volume while it runs. Growing needs the growth unreserved on the set's host; shrinking below what the " +
        "volume holds is refused. The new size becomes the set's resources.disk, so it stays across restarts and moves " +
        '(apply a spec with another resources.disk and the volume is resized again).',
    )
    .addArgument(setArgument())
    .requiredOption('--size <size>', 'the new size, e.g. 20Gi', parseSize)
    .addHelpText('after', examples([['wharf volume resize com.example.db/1 --size 50Gi', 'grow to 50 GiB'], ['wharf volume resize com.example.db/1 --size 8Gi', 'shrink (if it holds less)']]))
    .action(async (ref: SetRef, opts: { size: number }) => {
      const v = await ctx.client().resizeVolume(ref.appkey, ref.id, formatBytesExact(opts.size));
      const used = v.used !== undefined ? ` (used ${formatBytes(v.used)}, ${usePercent(v.used, v.quota ?? v.size)})` : '';
      ctx.out(`volume of set ${formatRef(ref)} resized to ${formatBytes(v.size)}${used} on host ${v.host ?? '?'}`);
    });

  // ---- snapshots ----

  volume
    .command('snapshot')
    .summary("snapshot a set's volume")
    .description("Take a snapshot of a set's volume on its host (btrfs pools; xfs pools refuse). Without --name the host names it after the time.")
    .addArgument(setArgument())
    .option('--name <name>', 'the snapshot name: letters, digits, "_", "." and "-"')
    .addHelpText('after', examples([['wharf volume snapshot com.example.db/1 --name before-upgrade', 'a named snapshot'], ['wharf volume snapshot com.example.db/1', 'named after the time']]))
    .action(async (ref: SetRef, opts: { name?: string }) => {
      const s = await ctx.client().createSnapshot(ref.appkey, ref.id, opts.name);
      ctx.out(`snapshot ${s.name} of set ${formatRef(ref)}'s volume taken (${formatBytes(s.used)})`);
    });

  volume
    .command('snapshots')
    .summary("list the snapshots of a set's volume")
    .description("List the snapshots of a set's volume: NAME, CREATED, USED (bytes the snapshot references).")
    .addArgument(setArgument())
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .addHelpText('after', examples([['wharf volume snapshots com.example.db/1', 'every snapshot, oldest first']]))
    .action(async (ref: SetRef, opts: { output: 'table' | 'json' | 'yaml' }) => {
      const list = await ctx.client().listSnapshots(ref.appkey, ref.id);
      if (opts.output !== 'table') {
        ctx.out(await serialize(list, opts.output));
        return;
      }
      if (list.length === 0) {
        ctx.note(`Set ${formatRef(ref)}'s volume has no snapshots.`);
        return;
      }
      ctx.out(renderSnapshots(list, ctx.clock.now()));
    });

  volume
    .command('snapshot-restore')
    .summary("roll a set's volume back to a snapshot")
    .description("Roll a set's volume back to one of its snapshots; what was written since is lost. The set must be stopped.")
    .addArgument(setArgument())
    .addArgument(new Argument('<name>', 'the snapshot'))
    .addHelpText(
      'after',
      examples([
        ['wharf stop set com.example.db/1 --wait', 'first stop the set'],
        ['wharf volume snapshot-restore com.example.db/1 before-upgrade', 'roll back'],
        ['wharf start set com.example.db/1', 'and start it again'],
      ]),
    )
    .action(async (ref: SetRef, name: string) => {
      try {
        await ctx.client().restoreSnapshot(ref.appkey, ref.id, name);
      } catch (err) {
        throw explainInUse(ctx, err, ref);
      }
      ctx.out(`volume of set ${formatRef(ref)} rolled back to snapshot ${name}`);
    });

  volume
    .command('snapshot-rm')
    .summary('delete a snapshot')
    .description("Delete a snapshot of a set's volume.")
    .addArgument(setArgument())
    .addArgument(new Argument('<name>', 'the snapshot'))
    .addHelpText('after', examples([['wharf volume snapshot-rm com.example.db/1 before-upgrade', 'delete one snapshot']]))
    .action(async (ref: SetRef, name: string) => {
      await ctx.client().deleteSnapshot(ref.appkey, ref.id, name);
      ctx.out(`snapshot ${name} of set ${formatRef(ref)} deleted`);
    });

  // ---- export ----

  volume
    .command('export')
    .summary("download a set's volume")
    .description(
      "Download a set's volume as a tar archive to a file (progress on stderr). Stop the set first for a " +
        'consistent copy. The file is written under FILE.part and renamed when complete; "-o -" writes to stdout.',
    )
    .addArgument(setArgument())
    .requiredOption('-o, --output <file>', 'where to write it ("-": stdout)')
    .addHelpText('after', examples([['wharf volume export com.example.db/1 -o db-1.tar', 'to a file'], ['wharf volume export com.example.db/1 -o - | ssh backup "cat > db-1.tar"', 'to a pipe']]))
    .action(async (ref: SetRef, opts: { output: string }) => {
      const stop = new AbortController();
      const onInterrupt = (): void => stop.abort();
      process.once('SIGINT', onInterrupt);
      process.once('SIGTERM', onInterrupt);
      const toStdout = opts.output === '-';
      const part = `${opts.output}.part`;
      const name = formatRef(ref);
      let file: FileHandle | undefined;
      let bytes = 0;
      let progress: Progress | undefined;
      try {
        // The file first: a path that cannot be written fails before anything is downloaded.
        if (!toStdout) file = await open(part, 'w');
        const exp = await ctx.client().exportVolume(ref.appkey, ref.id, { signal: stop.signal });
        progress = await ctx.progress();
        const show = (): string => {
          if (exp.length) return `${name}: ${formatBytes(bytes)} of ${formatBytes(exp.length)} (${Math.floor((bytes / exp.length) * 100)}%)`;
          return `${name}: ${formatBytes(bytes)}${exp.used !== undefined ? ` (the volume holds ${formatBytes(exp.used)})` : ''}`;
        };
        let shownAt = ctx.clock.now();
        progress.update(show());
        const stdout = ctx.io.stdout;
        for await (const chunk of exp.chunks) {
          bytes += chunk.length;
          if (file) await file.write(chunk);
          else if (!stdout.write(chunk)) await once(stdout, 'drain', { signal: stop.signal });
          if (ctx.clock.now() - shownAt >= 1000) {
            progress.update(show());
            shownAt = ctx.clock.now();
          }
        }
        if (exp.length !== undefined && bytes !== exp.length) throw new CliError(`the download of ${name}'s volume ended after ${formatBytes(bytes)} of ${formatBytes(exp.length)}`);
        if (file) {
          await file.close();
          file = undefined;
          await rename(part, opts.output);
        }
        progress.succeed(show());
        ctx.note(`volume of set ${name} exported to ${toStdout ? 'stdout' : opts.output} (${formatBytes(bytes)})`);
      } catch (err) {
        progress?.fail(`${name}: failed after ${formatBytes(bytes)}`);
        if (!toStdout) {
          await file?.close().catch(() => undefined);
          await rm(part, { force: true });
        }
        if (stop.signal.aborted) throw new CliError(`export of ${name}'s volume interrupted${toStdout ? '' : `; ${opts.output} not written`}`);
        throw err;
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });

  // ---- the recycle bin ----

  const trash = volume
    .command('trash')
    .summary('the recycle bins: volumes of deleted sets')
    .description(
      "When a set is deleted its volume goes to its host's recycle bin, where it still takes disk space until purged " +
        '(by hand, or by the agent after the retention time). It can be restored into a stopped set of the same app on that host.',
    )
    .addHelpText('after', examples([['wharf volume trash ls', 'what is in the recycle bins']]));

  trash
    .command('ls')
    .alias('list')
    .summary('list volumes in the recycle bins')
    .description(
      'List the volumes of deleted sets of the tenant in the recycle bin of every ready host: ID (HOST/TRASHID, for restore and purge), ' +
        'SET (the deleted one), DRIVER, USED, QUOTA, DELETED, PURGED IN (when the host purges it on its own). Hosts that do not answer are named on stderr.',
    )
    .option('--host <host>', 'only this host')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .addHelpText('after', examples([['wharf volume trash ls', 'every recycle bin'], ['wharf volume trash ls --host h1 -o json', "one host's, as JSON"]]))
    .action(async (opts: { host?: string; output: 'table' | 'json' | 'yaml' }) => {
      const { entries, unreachable } = await ctx.client().listTrash(opts.host ? { host: opts.host } : {});
      if (unreachable.length > 0) ctx.note(`warning: ${unreachable.length === 1 ? 'host' : 'hosts'} ${unreachable.join(', ')} did not answer; ${unreachable.length === 1 ? 'its recycle bin is' : 'their recycle bins are'} not listed`);
      if (opts.output !== 'table') {
        ctx.out(await serialize(entries, opts.output));
        return;
      }
      if (entries.length === 0) {
        ctx.note(opts.host ? `The recycle bin of host ${opts.host} is empty.` : 'The recycle bins are empty.');
        return;
      }
      ctx.out(renderTrash(entries, ctx.clock.now()));
    });

  volume
    .command('restore')
    .summary('restore a volume from the recycle bin into a set')
    .description(
      "Restore a deleted set's volume into a set (its current volume is replaced). The set must be of the same app, be placed on the " +
        "host whose recycle bin holds the volume, and be stopped.",
    )
    .addArgument(new Argument('<trash>', 'the volume, as HOST/TRASHID ("wharf volume trash ls" lists them)').argParser(parseTrashRef))
    .addOption(new Option('--to <set>', 'the set to restore into, as APPKEY/ID').argParser(parseSetRef).makeOptionMandatory())
    .addHelpText(
      'after',
      examples([
        ['wharf volume trash ls', 'find the volume'],
        ['wharf apply -f db-1.yaml && wharf stop set com.example.db/1 --wait', 'a stopped set to restore into'],
        ['wharf volume restore h1/20250101T120000Z-db-1 --to com.example.db/1', 'restore'],
      ]),
    )
    .action(async (t: TrashRef, opts: { to: SetRef }) => {
      let v;
      try {
        v = await ctx.client().restoreTrash(t.host, t.trashId, opts.to);
      } catch (err) {
        throw explainInUse(ctx, err, opts.to);
      }
      const used = v.used !== undefined ? ` (${formatBytes(v.used)})` : '';
      ctx.out(`volume ${t.host}/${t.trashId} restored into set ${formatRef(opts.to)}${used}`);
    });

  volume
    .command('purge')
    .summary('delete volumes from a recycle bin for good')
    .description("Delete a volume from its host's recycle bin for good, or with --host HOST --all every volume of the tenant there. This frees the disk space and cannot be undone.")
    .addArgument(new Argument('[trash]', 'the volume, as HOST/TRASHID').argParser(parseTrashRef))
    .option('--host <host>', 'with --all: the host whose recycle bin to empty')
    .option('--all', 'every volume of the tenant in the recycle bin of --host')
    .addHelpText('after', examples([['wharf volume purge h1/20250101T120000Z-db-1', 'one volume'], ['wharf volume purge --host h1 --all', "empty h1's recycle bin"]]))
    .action(async (t: TrashRef | undefined, opts: { host?: string; all?: boolean }, cmd: Command) => {
      const usage = (m: string): never => cmd.error(`error: ${m}`, { exitCode: 2, code: 'wharf.purgeUsage' });
      if (t && (opts.host !== undefined || opts.all)) usage('give either HOST/TRASHID or --host HOST --all, not both');
      if (!t && !(opts.host !== undefined && opts.all)) usage(opts.host !== undefined ? 'add --all to purge every volume in the recycle bin of ' + opts.host : 'give HOST/TRASHID, or --host HOST --all');
      const client = ctx.client();
      if (t) {
        const r = await client.purgeTrash(t.host, t.trashId);
        ctx.out(`volume ${t.host}/${t.trashId} purged (${formatBytes(r.bytes)} freed)`);
        return;
      }
      const host = opts.host as string;
      const r = await client.purgeTrash(host);
      ctx.out(r.purged === 0 ? `the recycle bin of host ${host} holds nothing to purge` : `${plural(r.purged, 'volume')} purged from the recycle bin of host ${host} (${formatBytes(r.bytes)} freed)`);
    });
}

/** "20Gi" when exact, else the bytes: what the server records as resources.disk. */
function formatBytesExact(bytes: number): string | number {
  const text = formatBytes(bytes);
  return parseBytes(text) === bytes ? text : bytes;
}
