/**
 * The SSH gateway on a real platform: the real OpenSSH client, with a key alice
 * registered through the CLI, runs commands in a business container of a set on a
 * real dockerd (server → agent → Docker exec), gets a TTY, is refused into the infra
 * container and with a key nobody registered; the sessions are in the audit log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import { Platform, wharfCli } from './harness/platform.js';
import { must, run, waitFor, type RunResult } from './harness/exec.js';
import { LOOP } from './harness/images.js';

describe('SSH gateway on a real Docker engine', () => {
  let wharf: Platform;
  let home: string;
  const key = (name: string) => join(home, '.ssh', name);
  /** `ssh` with only the options given (no user or system config), to the platform's gateway. */
  const ssh = (login: string, keyFile: string, args: string[], input = ''): Promise<RunResult> => run('ssh', [
    '-F', '/dev/null', '-p', String(wharf.sshPort), '-i', keyFile, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(home, 'known_hosts')}`, '-o', 'LogLevel=ERROR',
    '-l', login, '127.0.0.1', ...args,
  ], { input });

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    home = join(wharf.dir, 'alice');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    for (const name of ['id_ed25519', 'stranger']) await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@e2e`, '-f', key(name)]);
    await wharf.client.createUser('alice', { password: 'alice-secret', roles: { default: 'developer' } });
    const session = await wharf.client.login('alice', 'alice-secret');
    // `wharf ssh-key add` as alice: her home's ~/.ssh/id_ed25519.pub.
    const added = await wharfCli({ server: wharf.url, token: session.token, config: join(home, 'config.json'), env: { HOME: home } }, ['ssh-key', 'add']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual((await new WharfClient({ server: wharf.url, token: session.token }).listSshKeys()).map((k) => k.name), ['id_ed25519-e2e']);
    const container = (index: number, name: string) => ({ index, image: 'wharf/busybox:latest', options: { name, command: { cmd: '/bin/sh', args: ['-c', LOOP] } } });
    await wharf.client.applySet({ appkey: 'e2e.ssh', id: '1', containers: [container(0, 'web'), container(1, 'side')] });
    await wharf.waitRunning('e2e.ssh', 1, 60_000);
  });

  after(() => wharf?.stop());

  it('runs a command in the first business container: stdout, stderr apart, exit status; audited', async () => {
    const r = await ssh('e2e.ssh/1', key('id_ed25519'), ['echo out; echo err >&2; cat /proc/1/cmdline | tr "\\0" " "; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^out\n.*while :; do sleep 1; done/s);
    assert.equal(r.stderr, 'err\n');
    const side = await ssh('e2e.ssh.1.side', key('id_ed25519'), ['wc -l'], 'a\nb\nc\n');
    assert.deepEqual([side.code, side.stdout.trim()], [0, '3']);
    const audit = await waitFor('the SSH audit record', async () => (await wharf.client.audit({ object: 'sets/e2e.ssh/1' })).find((rec) => rec.exitStatus === 3));
    assert.deepEqual([audit.actor, audit.action, audit.object, audit.result, audit.sourceIp], ['alice', 'SSH exec', 'sets/e2e.ssh/1/web', 'ok', '127.0.0.1']);
  });

  it('ssh -tt gives the command a TTY', async () => {
    // Without a local terminal ssh asks for no size: the gateway gives 80x24. Docker may
    // apply it a moment after the command starts, so the command waits for it.
    const r = await ssh('e2e.ssh/1', key('id_ed25519'), ['-tt', 'until stty size 2>/dev/null | grep -q .; do sleep 0.05; done; stty size; tty; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /^24 80\r\n\/dev\/pts\/\d+\r\n$/);
  });

  it('refuses the infra container and a key nobody registered', async () => {
    const infra = await ssh('e2e.ssh/1/infra', key('id_ed25519'), ['ls']);
    assert.equal(infra.code, 255);
    assert.equal(infra.stdout, '');
    assert.match(infra.stderr, /^wharf: the infra container of set e2e\.ssh\/1 is never logged into; name a business container \(web, side\)\n$/);
    const stranger = await ssh('e2e.ssh/1', key('stranger'), ['ls']);
    assert.equal(stranger.code, 255);
    assert.match(stranger.stderr, /Permission denied \(publickey\)/);
    await waitFor('the refused login in the audit log', async () => (await wharf.client.audit({ object: 'ssh/e2e.ssh/1' })).find((rec) => rec.action === 'SSH login'));
  });
});
