/**
 * `wharf admin migrate`: copies the platform's state from one store to another
 * (SQLite → etcd when a platform outgrows one machine). Unlike every other
 * command it does not talk to wharf-server: it runs on a server machine and
 * opens both stores itself, while the servers are stopped.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { EtcdAccessFiles, StoreLocation } from '@wharf/store';
import type { Context } from '../context.js';
import { CliError, plural } from '../errors.js';
import { examples } from './common.js';

interface MigrateFlags {
  from: string;
  to: string;
  force?: boolean;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUser?: string;
  etcdPasswordFile?: string;
}

export function registerAdmin(program: Command, ctx: Context): void {
  const admin = program
    .command('admin')
    .summary('platform administration, run on a server machine')
    .description('Platform administration that works on the servers\' own state rather than through the API. Run it on a server machine.');
  admin
    .command('migrate')
    .summary('copy the platform state from one store to another')
    .description(
      'Copy every key of the store --from into the store --to, values unchanged (revisions start over in the target). ' +
        'Stop every wharf-server first: writes made during the copy are not carried over. Then start the servers ' +
        'with --store set to the target. Refuses a target that already holds keys (under its prefix) unless --force.',
    )
    .requiredOption('--from <url>', 'the store to copy: sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...][?prefix=/wharf/]')
    .requiredOption('--to <url>', 'the store to fill, in the same forms')
    .option('--force', 'replace what the target holds: keys the source lacks are deleted')
    .option('--etcd-ca <file>', 'CA of etcd\'s certificates; TLS to etcd (else $WHARF_ETCD_CA)')
    .option('--etcd-cert <file>', 'client certificate for etcd (else $WHARF_ETCD_CERT)')
    .option('--etcd-key <file>', 'its key (else $WHARF_ETCD_KEY)')
    .option('--etcd-user <name>', 'etcd user (else $WHARF_ETCD_USER)')
    .option('--etcd-password-file <file>', 'a file whose first line is its password (else $WHARF_ETCD_PASSWORD_FILE)')
    .addHelpText(
      'after',
      examples([
        ['wharf admin migrate --from sqlite:/var/lib/wharf/wharf.db --to etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379', 'onto an etcd cluster'],
        ['wharf admin migrate --from sqlite:/var/lib/wharf/wharf.db --to etcd://10.0.0.1:2379 --etcd-ca ca.pem', 'over TLS'],
        ['wharf admin migrate --from etcd://10.0.0.1:2379 --to sqlite:/var/lib/wharf/back.db', 'back into one file'],
      ]),
    )
    .action((flags: MigrateFlags) => migrate(ctx, flags));
}

async function migrate(ctx: Context, flags: MigrateFlags): Promise<void> {
  // Loaded here: the store backends (SQLite, gRPC) are no part of the start-up of other commands.
  const { TargetNotEmptyError, copyStore, etcdAccessFromFiles, openStore, parseStoreUrl } = await import('@wharf/store');
  const parse = (flag: string, url: string): StoreLocation => {
    try {
      return parseStoreUrl(url);
    } catch (err) {
      throw new CliError(`${flag}: ${(err as Error).message}`);
    }
  };
  const from = parse('--from', flags.from);
  const to = parse('--to', flags.to);
  if (flags.from === flags.to) throw new CliError('--from and --to name the same store');
  if (from.kind === 'sqlite' && !existsSync(from.path)) throw new CliError(`--from ${flags.from}: no such file`);
  const env = ctx.io.env;
  const files: EtcdAccessFiles = {
    ca: flags.etcdCa ?? env.WHARF_ETCD_CA,
    cert: flags.etcdCert ?? env.WHARF_ETCD_CERT,
    key: flags.etcdKey ?? env.WHARF_ETCD_KEY,
    user: flags.etcdUser ?? env.WHARF_ETCD_USER,
    passwordFile: flags.etcdPasswordFile ?? env.WHARF_ETCD_PASSWORD_FILE,
  };
  const etcd = await etcdAccessFromFiles(files).catch((err: Error) => Promise.reject(new CliError(err.message)));
  const open = (flag: string, url: string) =>
    openStore(url, { etcd, log: (message) => ctx.note(`wharf: ${message}`) }).catch((err: Error) => Promise.reject(new CliError(`${flag}: ${err.message}`)));

  const source = await open('--from', flags.from);
  try {
    const target = await open('--to', flags.to);
    try {
      const progress = await ctx.progress();
      let shown = -1;
      const result = await copyStore(source, target, {
        force: flags.force === true,
        onProgress: (done, total) => {
          const percent = Math.floor((100 * done) / total);
          if (percent !== shown) progress.update(`migrating: ${done}/${total} keys (${percent}%)`);
          shown = percent;
        },
      }).catch((err: unknown) => {
        if (err instanceof TargetNotEmptyError) {
          const where = to.kind === 'etcd' ? ` under ${to.prefix}` : '';
          throw new CliError(`--to ${flags.to}: ${err.message}${where}; pass --force to replace them (keys the source lacks are deleted)`);
        }
        throw err;
      });
      const deleted = result.deleted > 0 ? `, deleted ${plural(result.deleted, 'key')} the source lacks` : '';
      progress.succeed(`migrated ${plural(result.copied, 'key')} (source revision ${result.sourceRevision})${deleted}`);
      ctx.out(`migrated ${plural(result.copied, 'key')} from ${flags.from} to ${flags.to}${deleted}`);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
