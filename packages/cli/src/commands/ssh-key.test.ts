/**
 * `wharf ssh-key add|ls|rm`: the default name and file in-process; then the built CLI
 * against a real wharf-server, with keys made by ssh-keygen in the user's ~/.ssh.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { SshKey } from '@wharf/types';
import { run } from '../cli.js';
import type { Io } from '../context.js';
import { startRealServer, type RealServer } from '../testing/real-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { systemClock } from '../wait.js';
import { defaultKeyName, renderSshKeys } from './ssh-key.js';

/** A key pair made by ssh-keygen; its fingerprint as `ssh-keygen -l` prints it. */
function keygen(path: string, comment: string): { publicKey: string; fingerprint: string } {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  return { publicKey: readFileSync(`${path}.pub`, 'utf8'), fingerprint };
}

test('a key is named by its comment, else by its file', () => {
  assert.equal(defaultKeyName('ssh-ed25519 AAAA alice@Laptop.local\n', '/h/.ssh/id_ed25519.pub'), 'alice-laptop.local');
  assert.equal(defaultKeyName('ssh-ed25519 AAAA', '/h/.ssh/id_ed25519.pub'), 'id_ed25519');
  assert.equal(defaultKeyName('ssh-ed25519 AAAA   ', '/h/Work Key.pub'), undefined);
  assert.equal(defaultKeyName('ssh-ed25519 AAAA --', '-'), undefined);
  assert.equal(defaultKeyName('ssh-ed25519 AAAA My Work Key', '-'), 'my-work-key');
  const now = Date.parse('2025-01-01T00:10:00Z');
  assert.deepEqual(renderSshKeys([
    { name: 'work', type: 'ssh-rsa', fingerprint: 'SHA256:bbb', user: 'alice', addedAt: '2025-01-01T00:00:00Z' },
    { name: 'laptop', type: 'ssh-ed25519', fingerprint: 'SHA256:aaa', comment: 'alice@laptop', user: 'alice', addedAt: '2025-01-01T00:09:00Z' },
  ], now).split('\n'), [
    'NAME     TYPE          FINGERPRINT   COMMENT        AGE',
    'laptop   ssh-ed25519   SHA256:aaa    alice@laptop   60s',
    'work     ssh-rsa       SHA256:bbb    <none>         10m',
  ]);
});

describe('ssh-key against a real wharf-server', () => {
  let server: RealServer;
  let home: string;
  let laptop: { publicKey: string; fingerprint: string };
  const admin = (args: string[], stdin?: string) => runCli(args, { server: server.url, home, env: { WHARF_TOKEN: server.admin }, ...(stdin !== undefined ? { stdin } : {}) });
  const alice = (args: string[], stdin?: string) => runCli(args, { server: server.url, home, ...(stdin !== undefined ? { stdin } : {}) });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  const fails = (r: CliResult, code: number, message: RegExp) => {
    assert.equal(r.code, code, r.stdout + r.stderr);
    assert.match(r.stderr, message);
  };

  before(async () => {
    server = await startRealServer();
    home = mkdtempSync(join(tmpdir(), 'wharf-cli-home-'));
    ok(await admin(['user', 'create', 'alice', '--role', 'default=developer', '--password-stdin'], 'alice-secret\n'), 'user create');
  });
  after(async () => {
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('finds no key before there is one, then adds ~/.ssh/id_ed25519.pub named by its comment', async () => {
    ok(await alice(['login', 'alice', '--password-stdin'], 'alice-secret\n'), 'login');
    fails(await alice(['ssh-key', 'add']), 1, /^wharf: no public key in \S+\/\.ssh \(id_ed25519\.pub, id_ecdsa\.pub, id_rsa\.pub\); make one with ssh-keygen -t ed25519/);
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    laptop = keygen(join(home, '.ssh', 'id_ed25519'), 'alice@laptop');
    const r = await alice(['ssh-key', 'add']);
    ok(r, 'add');
    assert.equal(r.stdout, `SSH key alice-laptop added (ssh-ed25519 ${laptop.fingerprint})\n`);
    assert.match(r.stderr, /ssh -p 2222 APPKEY\/ID@SERVER-HOST/);
    fails(await alice(['ssh-key', 'add', '--name', 'again']), 1, /^wharf: this key \(SHA256:\S+\) is registered already, as your key "alice-laptop"\n$/);
  });

  it('adds from a file and from stdin; a key without a comment from stdin needs --name', async () => {
    const work = keygen(join(home, 'work'), 'Work Key');
    ok(await alice(['ssh-key', 'add', join(home, 'work.pub')]), 'add work');
    const bare = keygen(join(home, 'bare'), '');
    fails(await alice(['ssh-key', 'add', '-'], bare.publicKey), 1, /^wharf: stdin: the key has no comment to name it by; pass --name/);
    ok(await alice(['ssh-key', 'add', '-', '--name', 'agent'], bare.publicKey), 'add from stdin');
    const ls = await alice(['ssh-key', 'ls']);
    ok(ls, 'ls');
    assert.match(ls.stdout, /^NAME\s+TYPE\s+FINGERPRINT\s+COMMENT\s+AGE\n/);
    assert.match(ls.stdout, new RegExp(`\\nalice-laptop\\s+ssh-ed25519\\s+${laptop.fingerprint.replace(/[+/]/g, '\\$&')}\\s+alice@laptop\\s+\\d+s\\n`));
    const keys = JSON.parse((await alice(['ssh-key', 'ls', '-o', 'json'])).stdout) as SshKey[];
    assert.deepEqual(keys.map((k) => [k.name, k.fingerprint]).sort(), [['agent', bare.fingerprint], ['alice-laptop', laptop.fingerprint], ['work-key', work.fingerprint]]);
  });

  it('refuses a private key before sending it, and bad names as usage errors', async () => {
    // Nothing listens on port 1: an error naming the input proves nothing was sent.
    const offline = (args: string[]) => runCli(args, { server: 'http://127.0.0.1:1', home });
    fails(await offline(['ssh-key', 'add', join(home, 'work')]), 1, new RegExp(`^wharf: ${join(home, 'work')} is a private key; give the public one \\(${join(home, 'work')}\\.pub\\)\\n$`));
    fails(await offline(['ssh-key', 'add', join(home, 'work.pub'), '--name', 'My Key']), 2, /expected a key name/);
    fails(await offline(['ssh-key', 'add', join(home, 'nope.pub')]), 1, /^wharf: cannot read \S+nope\.pub: no such file\n$/);
    fails(await alice(['ssh-key', 'add', '-', '--name', 'junk'], 'not a key\n'), 1, /publicKey: is not an OpenSSH public key: expected one line like "ssh-ed25519 AAAA…/);
  });

  it('platform admins list and remove a user\'s keys; users remove their own', async () => {
    const listed = await admin(['ssh-key', 'ls', '--user', 'alice']);
    ok(listed, 'admin ls');
    assert.equal(listed.stdout.trim().split('\n').length, 4, listed.stdout);
    const removed = await admin(['ssh-key', 'rm', 'agent', '--user', 'alice']);
    ok(removed, 'admin rm');
    assert.match(removed.stdout, /^SSH key agent of alice removed \(SHA256:\S+\)\n$/);
    fails(await alice(['ssh-key', 'ls', '--user', 'bob']), 1, /^wharf: this needs a platform admin\n$/);
    ok(await alice(['ssh-key', 'rm', 'work-key']), 'rm');
    fails(await alice(['ssh-key', 'rm', 'work-key']), 1, /^wharf: no SSH key "work-key" of user "alice"\n$/);
    const left = JSON.parse((await alice(['ssh-key', 'ls', '-o', 'json'])).stdout) as SshKey[];
    assert.deepEqual(left.map((k) => k.name), ['alice-laptop']);
  });
});

test('every ssh-key command has --help with examples', async () => {
  for (const args of [['ssh-key'], ['ssh-key', 'add'], ['ssh-key', 'ls'], ['ssh-key', 'rm']]) {
    let out = '';
    const stdout = new PassThrough().setEncoding('utf8').on('data', (d: string) => (out += d));
    const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, homedir: '/nonexistent', clock: systemClock };
    assert.equal(await run([...args, '--help'], io), 0, args.join(' '));
    assert.match(out, /Examples:\n\s+\$ wharf ssh-key/, args.join(' '));
  }
});
