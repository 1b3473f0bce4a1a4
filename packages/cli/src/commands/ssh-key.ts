/**
 * `wharf ssh-key add|ls|rm`: the SSH public keys a user logs in to the SSH gateway with
 * (`ssh -p 2222 APPKEY/ID@SERVER`, docs/ssh.md). Only the public key is read and sent.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { NAME_PATTERN, type SshKey } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { age } from '../format/age.js';
import { cell, renderTable } from '../format/table.js';
import { outputOption, serialize, TABLE_FORMATS, type TableFormat } from '../format/output.js';
import { readSource } from '../input.js';
import { examples } from './common.js';
import { parseUserName } from './identity-common.js';

/** Tried in order when `add` names no file. */
export const DEFAULT_KEY_FILES = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'];
const NAME = new RegExp(NAME_PATTERN);

function parseKeyName(text: string): string {
  if (!NAME.test(text)) throw new InvalidArgumentError('expected a key name: lowercase letters, digits, "_", "." and "-", e.g. laptop');
  return text;
}

/**
 * The name a key gets without --name: its comment made a name (`alice@laptop` →
 * `alice-laptop`), else the file's name without `.pub`.
 */
export function defaultKeyName(publicKey: string, file: string): string | undefined {
  const comment = publicKey.trim().split(/\s+/).slice(2).join(' ');
  const fromComment = comment.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 63);
  if (NAME.test(fromComment)) return fromComment;
  if (file === '-') return undefined;
  const fromFile = basename(file).replace(/\.pub$/, '').toLowerCase();
  return NAME.test(fromFile) ? fromFile : undefined;
}

function defaultKeyFile(ctx: Context): string {
  const dir = join(ctx.io.homedir, '.ssh');
  const found = DEFAULT_KEY_FILES.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!found) throw new CliError(`no public key in ${dir} (${DEFAULT_KEY_FILES.join(', ')}); make one with ssh-keygen -t ed25519, or name the .pub file`);
  return found;
}

export function renderSshKeys(keys: SshKey[], now: number): string {
  const sorted = [...keys].sort((a, b) => a.name.localeCompare(b.name));
  return renderTable(['NAME', 'TYPE', 'FINGERPRINT', 'COMMENT', 'AGE'], sorted.map((k) => [k.name, k.type, k.fingerprint, cell(k.comment), age(k.addedAt, now)]));
}

async function addKey(ctx: Context, fileArg: string | undefined, flags: { name?: string }): Promise<void> {
  const file = fileArg ?? defaultKeyFile(ctx);
  const text = await readSource(file, ctx.io.stdin);
  const where = file === '-' ? 'stdin' : file;
  // Caught here, so the private key never travels; the server refuses it too.
  if (/PRIVATE KEY/.test(text)) throw new CliError(`${where} is a private key; give the public one (${file === '-' ? 'the .pub file' : `${file}.pub`})`);
  const name = flags.name ?? defaultKeyName(text, file);
  if (name === undefined) throw new CliError(`${where}: the key has no comment to name it by; pass --name, e.g. --name laptop`);
  const key = await ctx.client().addSshKey({ name, publicKey: text.trim() });
  ctx.out(`SSH key ${key.name} added (${key.type} ${key.fingerprint})`);
  ctx.note('Log in to a container with: ssh -p 2222 APPKEY/ID@SERVER-HOST (see docs/ssh.md)');
}

export function registerSshKey(program: Command, ctx: Context): void {
  const sshKey = program
    .command('ssh-key')
    .summary('manage your SSH keys for the SSH gateway')
    .description(
      'SSH public keys you log in to containers with through wharf-server\'s SSH gateway: ssh -p 2222 APPKEY/ID@SERVER-HOST opens a ' +
        'shell in the set\'s first business container (APPKEY/ID/CONTAINER for another, TEAM~APPKEY/ID for another tenant). ' +
        'It needs the developer role in the set\'s tenant. A key belongs to one user.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf ssh-key add', 'register ~/.ssh/id_ed25519.pub (else id_ecdsa.pub, id_rsa.pub)'],
        ['wharf ssh-key ls', 'your keys with their SHA256 fingerprints'],
        ['ssh -p 2222 com.example.web/1@10.0.0.5', 'then: a shell in set com.example.web/1 (wharf-server at 10.0.0.5)'],
      ]),
    );

  sshKey
    .command('add')
    .summary('register an SSH public key')
    .description(
      'Register a public key (one OpenSSH line, the .pub file; - reads stdin). Without FILE: the first of ~/.ssh/' +
        `${DEFAULT_KEY_FILES.join(', ~/.ssh/')}. Its name defaults to the key's comment (alice@laptop → alice-laptop), else the ` +
        'file name. Needs your own login (a token limited to a tenant cannot add keys).',
    )
    .addArgument(new Argument('[file]', 'the .pub file, or - for stdin'))
    .option('--name <name>', 'a name to tell the key apart, e.g. laptop', parseKeyName)
    .addHelpText(
      'after',
      examples([
        ['wharf ssh-key add', 'your default key'],
        ['wharf ssh-key add ~/.ssh/work.pub --name work', 'another key, named'],
        ['ssh-add -L | head -1 | wharf ssh-key add - --name agent', 'a key from the SSH agent'],
      ]),
    )
    .action((file: string | undefined, opts: { name?: string }) => addKey(ctx, file, opts));

  sshKey
    .command('ls')
    .alias('list')
    .summary('list SSH keys')
    .description('List your SSH keys (platform admins: a user\'s with --user): NAME, TYPE, FINGERPRINT (as ssh-keygen -l prints it), COMMENT, AGE.')
    .option('--user <name>', 'another user\'s keys (platform admins)', parseUserName)
    .addOption(outputOption(TABLE_FORMATS))
    .addHelpText('after', examples([['wharf ssh-key ls', 'a table'], ['wharf ssh-key ls --user alice -o json', 'alice\'s keys as API objects']]))
    .action(async (opts: { user?: string; output: TableFormat }) => {
      const keys = await ctx.client().listSshKeys(opts.user);
      if (opts.output !== 'table') ctx.out(await serialize(keys, opts.output));
      else if (keys.length === 0) ctx.note(`No SSH keys${opts.user ? ` of ${opts.user}` : ''} (add one with "wharf ssh-key add").`);
      else ctx.out(renderSshKeys(keys, ctx.clock.now()));
    });

  sshKey
    .command('rm')
    .alias('delete')
    .summary('remove an SSH key')
    .description('Remove one of your SSH keys by name (platform admins: a user\'s with --user). It stops working at once; sessions open with it go on.')
    .addArgument(new Argument('<name>', 'the key\'s name, as in "ssh-key ls"').argParser(parseKeyName))
    .option('--user <name>', 'another user\'s key (platform admins)', parseUserName)
    .addHelpText('after', examples([['wharf ssh-key rm laptop', 'remove it'], ['wharf ssh-key rm laptop --user alice', 'as a platform admin']]))
    .action(async (name: string, opts: { user?: string }) => {
      const key = await ctx.client().removeSshKey(name, opts.user);
      ctx.out(`SSH key ${key.name} of ${key.user} removed (${key.fingerprint})`);
    });
}
