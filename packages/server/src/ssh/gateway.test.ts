/**
 * The SSH gateway against the real OpenSSH client: keys registered through the API,
 * commands run by a fake OpenExec (local child processes), so what is checked is the
 * gateway itself — authentication, the login name, roles, the infra container, exit
 * status, stdin, stderr, the PTY and window changes, the host key, limits and the audit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AuditRecord, TokenCreated } from '@wharf/types';
import { AuditLog } from '../audit/log.js';
import { fakeExec, type FakeExec } from '../testing/fake-exec.js';
import { runSsh, sshArgs, sshKeygen, type SshKeyFiles, type SshRun } from '../testing/openssh.js';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';
import { waitFor } from '../testing/wait.js';
import { loadOrCreateHostKey, HOST_KEY_FILE } from './host-key.js';
import { SshGateway, type SshGatewayOptions } from './gateway.js';
import { REFUSED_EXIT_STATUS } from './session.js';

const spec = (appkey: string, id: string) => ({
  id, appkey,
  containers: [{ index: 1, image: 'busybox', options: { name: 'sidecar' } }, { index: 0, image: 'busybox', options: { name: 'app' } }],
});

describe('SSH gateway with the OpenSSH client', () => {
  let t: TestServer;
  let dir: string;
  let exec: FakeExec;
  let gateway: SshGateway;
  let alice: SshKeyFiles;
  let vera: SshKeyFiles;
  let bob: SshKeyFiles;
  let stranger: SshKeyFiles;
  const log = pino({ level: 'silent' });
  const knownHosts = () => join(dir, 'known_hosts');
  const ssh = (login: string, key: SshKeyFiles, more: Partial<SshRun> = {}) =>
    runSsh({ port: gateway.port, login, keys: [key.path], knownHosts: knownHosts(), ...more });
  const startGateway = async (dataDir: string, more: Partial<SshGatewayOptions> = {}) => SshGateway.start({
    store: t.store, openExec: exec.openExec, hostKey: await loadOrCreateHostKey(dataDir), audit: new AuditLog(t.store, log), log, host: '127.0.0.1', port: 0, ...more,
  });
  const audits = async () => (await t.store.list<AuditRecord>('/audit/')).items.map((kv) => kv.value).filter((r) => r.action.startsWith('SSH'));
  const auditOf = (pred: (r: AuditRecord) => boolean) => waitFor('the audit record', async () => (await audits()).find(pred));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-ssh-test-'));
    t = await startTestServer();
    exec = fakeExec();
    const admin = adminApi(t);
    assert.equal((await admin('PUT', '/v1/tenants/team-a', {})).statusCode, 201);
    for (const [user, roles] of [['alice', { 'team-a': 'developer', default: 'developer' }], ['vera', { 'team-a': 'viewer' }], ['bob', {}]] as const) {
      assert.equal((await admin('PUT', `/v1/users/${user}`, { password: `${user}-secret-1`, roles })).statusCode, 201);
    }
    assert.equal((await admin('PUT', '/v1/sets/com.example.web/1?tenant=team-a', spec('com.example.web', '1'))).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/sets/web/2', spec('web', '2'))).statusCode, 201);
    const keyOf = async (user: string) => {
      const key = sshKeygen(dir, user);
      const login = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user, password: `${user}-secret-1` } });
      const token = (login.json() as TokenCreated).token;
      const added = await t.app.inject({ method: 'POST', url: '/v1/me/ssh-keys', headers: bearer(token), payload: { name: 'laptop', publicKey: key.publicKey } });
      assert.equal(added.statusCode, 201, added.body);
      return key;
    };
    alice = await keyOf('alice');
    vera = await keyOf('vera');
    bob = await keyOf('bob');
    stranger = sshKeygen(dir, 'stranger');
    gateway = await startGateway(dir);
  });
  after(async () => {
    await gateway?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command in the set\'s first business container: stdout, stderr apart, exit status', async () => {
    const r = await ssh('team-a~com.example.web/1', alice, { command: 'echo hi; echo oops >&2; exit 7' });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'oops\n');
    const call = exec.calls.at(-1);
    assert.deepEqual(call?.req, { tenant: 'team-a', appkey: 'com.example.web', id: '1', container: 'app', cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 7'], tty: false, env: [] });
    const rec = await auditOf((x) => x.exitStatus === 7);
    assert.deepEqual(
      { actor: rec.actor, actorKind: rec.actorKind, tenant: rec.tenant, action: rec.action, object: rec.object, status: rec.status, result: rec.result, sourceIp: rec.sourceIp, request: rec.request },
      { actor: 'alice', actorKind: 'user', tenant: 'team-a', action: 'SSH exec', object: 'sets/com.example.web/1/app', status: 200, result: 'ok', sourceIp: '127.0.0.1', request: '{"command":"echo hi; echo oops >&2; exit 7","tty":false}' },
    );
  });

  it('passes stdin through and its end as EOF', async () => {
    const r = await ssh('team-a~com.example.web/1/sidecar', alice, { command: 'tr a-z A-Z', stdin: 'hello\nworld\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HELLO\nWORLD\n');
    assert.equal(exec.calls.at(-1)?.req.container, 'sidecar');
    assert.equal(exec.calls.at(-1)?.inputEnded, true);
  });

  it('takes the dotted login names, read from the right, and the default tenant', async () => {
    for (const [login, container] of [['team-a~com.example.web.1.sidecar', 'sidecar'], ['team-a~com.example.web.1', 'app'], ['web.2', 'app'], ['web/2/sidecar', 'sidecar']] as const) {
      const r = await ssh(login, alice, { command: 'echo ok' });
      assert.equal(r.code, 0, `${login}: ${r.stderr}`);
      assert.equal(r.stdout, 'ok\n');
      assert.equal(exec.calls.at(-1)?.req.container, container, login);
    }
  });

  it('never enters the infra container, and names what exists when the target does not', async () => {
    const before = exec.calls.length;
    const cases: [string, RegExp][] = [
      ['team-a~com.example.web/1/infra', /^wharf: the infra container of set com.example.web\/1 is never logged into; name a business container \(app, sidecar\)\n$/],
      ['team-a~com.example.web.1.infra', /the infra container of set com.example.web\/1 is never logged into/],
      ['team-a~com.example.web/1/db', /^wharf: set com.example.web\/1 has no container "db" \(containers: app, sidecar\)\n$/],
      ['team-a~com.example.web/9', /^wharf: no set com.example.web\/9 in tenant "team-a"\n$/],
      ['Team A~web/1', /is not a tenant name; log in as APPKEY\/ID/],
      ['nothing', /"nothing" names no container; log in as APPKEY\/ID or APPKEY\/ID\/CONTAINER/],
    ];
    for (const [login, message] of cases) {
      const r = await ssh(login, alice, { command: 'echo should-not-run' });
      assert.equal(r.code, REFUSED_EXIT_STATUS, login);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message, login);
    }
    assert.equal(exec.calls.length, before, 'no command was run');
    const rec = await auditOf((x) => x.error === 'FORBIDDEN' && x.object === 'ssh/team-a~com.example.web/1/infra');
    assert.deepEqual({ actor: rec.actor, tenant: rec.tenant, status: rec.status, result: rec.result }, { actor: 'alice', tenant: 'team-a', status: 403, result: 'failed' });
  });

  it('needs the developer role in the set\'s tenant', async () => {
    const viewer = await ssh('team-a~com.example.web/1', vera, { command: 'id' });
    assert.equal(viewer.code, REFUSED_EXIT_STATUS);
    assert.equal(viewer.stderr, 'wharf: your role in tenant "team-a" is viewer; this needs developer\n');
    const outsider = await ssh('team-a~com.example.web/1', bob, { command: 'id' });
    assert.equal(outsider.code, REFUSED_EXIT_STATUS);
    assert.equal(outsider.stderr, 'wharf: no tenant "team-a" among yours\n');
    // bob has no role in the default tenant either, so its sets are no more his.
    assert.equal((await ssh('web/2', bob, { command: 'id' })).code, REFUSED_EXIT_STATUS);
    await auditOf((x) => x.actor === 'vera' && x.error === 'FORBIDDEN');
  });

  it('refuses a key nobody registered, and every other method, with an audit record', async () => {
    const r = await ssh('team-a~com.example.web/1', stranger, { command: 'id' });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/, 'publickey is the only method offered');
    const rec = await auditOf((x) => x.action === 'SSH login' && x.request?.includes(stranger.fingerprint) === true);
    assert.deepEqual({ actor: rec.actor, actorKind: rec.actorKind, status: rec.status, error: rec.error, object: rec.object }, { actor: '', actorKind: 'anonymous', status: 401, error: 'UNAUTHORIZED', object: 'ssh/team-a~com.example.web/1' });
    const password = await ssh('team-a~com.example.web/1', alice, { extra: ['-o', 'PreferredAuthentications=password,keyboard-interactive'], command: 'id' });
    assert.equal(password.code, 255);
    assert.match(password.stderr, /Permission denied \(publickey\)/);
  });

  it('closes a connection after six refused keys, and one that does not log in in time', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => sshKeygen(dir, `many-${i}`));
    const r = await runSsh({ port: gateway.port, login: 'web/2', keys: [...keys.map((k) => k.path), alice.path], knownHosts: knownHosts(), command: 'echo in' });
    assert.equal(r.code, 255, 'alice\'s key, ninth in line, is never reached');
    const rec = await auditOf((x) => x.action === 'SSH login' && x.request?.includes(keys[0]!.fingerprint) === true);
    assert.equal((JSON.parse(rec.request ?? '{}') as { keys: string[] }).keys.length, 6);

    const quick = await startGateway(dir, { loginTimeoutMs: 200 });
    try {
      // A client that connects and says nothing.
      const socket = connect(quick.port, '127.0.0.1');
      let banner = '';
      let closed = false;
      socket.setEncoding('utf8').on('data', (d: string) => (banner += d));
      socket.once('close', () => (closed = true));
      await waitFor('the silent connection closed by the gateway', () => closed);
      assert.match(banner, /^SSH-2\.0-wharf/);
    } finally {
      await quick.close();
    }
  });

  it('gives a PTY of the client\'s size, passes window changes, and a login shell', async () => {
    // `script` gives ssh a terminal: stty sets its size before ssh reads it, then the
    // test resizes that terminal from outside, which sends ssh a SIGWINCH.
    const ttyFile = join(dir, 'tty');
    const args = sshArgs({ port: gateway.port, login: 'web/2', keys: [alice.path], knownHosts: knownHosts(), extra: ['-tt'], command: 'echo size $COLUMNS $LINES $TERM; read line; echo got $line' });
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const before = exec.calls.length;
    const child = spawn('script', ['-qfec', `stty cols 101 rows 33; tty > ${ttyFile}; TERM=xterm-test exec ssh ${quoted}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const call = await waitFor('the PTY session', () => exec.calls.length > before && exec.calls.at(-1));
      assert.deepEqual({ tty: call.req.tty, cols: call.req.cols, rows: call.req.rows, env: call.req.env }, { tty: true, cols: 101, rows: 33, env: ['TERM=xterm-test'] });
      await waitFor('the size echoed', () => out.includes('size 101 33 xterm-test'));
      const tty = readFileSync(ttyFile, 'utf8').trim();
      spawn('stty', ['-F', tty, 'cols', '120', 'rows', '40']);
      await waitFor('the window change', () => call.resizes.some(([c, r]) => c === 120 && r === 40));
      child.stdin.write('done\n');
      assert.equal(await exited, 0, out);
      assert.match(out, /got done/);
    } finally {
      child.kill();
    }

    // Like sshd, a TTY session does not pass the client's EOF on.
    const noEof = await ssh('web/2', alice, { extra: ['-tt'], command: 'echo tty' });
    assert.equal(noEof.code, 0, noEof.stderr);
    assert.equal(noEof.stdout, 'tty\n', 'the fake has no terminal to add a CR');
    assert.deepEqual([exec.calls.at(-1)?.req.tty, exec.calls.at(-1)?.inputEnded], [true, false]);

    const shell = await ssh('web/2', alice, { stdin: 'echo from-shell; exit 3\n' });
    assert.equal(shell.code, 3, shell.stderr);
    assert.equal(shell.stdout, 'from-shell\n');
    assert.deepEqual(exec.calls.at(-1)?.req.cmd, [], 'a login shell');
  });

  it('keeps its host key: the same after a restart, 0600, and a new data directory is another host', async () => {
    const strict = (port: number) => runSsh({ port, login: 'web/2', keys: [alice.path], knownHosts: knownHosts(), strict: 'yes', command: 'echo same' });
    const path = join(dir, HOST_KEY_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const fingerprint = (await loadOrCreateHostKey(dir)).fingerprint;
    assert.equal(readFileSync(knownHosts(), 'utf8').split('\n').filter(Boolean).length, 1, 'the first run put the key into known_hosts');
    await gateway.close();
    gateway = await startGateway(dir);
    const again = await strict(gateway.port);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'same\n');
    assert.equal((await loadOrCreateHostKey(dir)).fingerprint, fingerprint);

    const otherDir = mkdtempSync(join(tmpdir(), 'wharf-ssh-other-'));
    const other = await startGateway(otherDir);
    try {
      const r = await strict(other.port);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('copies files with scp -O (through exec) under the dotted login name', async () => {
    const source = join(dir, 'upload.txt');
    const target = mkdtempSync(join(dir, 'target-'));
    writeFileSync(source, 'payload\n');
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile('scp', ['-O', '-F', '/dev/null', '-P', String(gateway.port), '-i', alice.path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
        '-o', `UserKnownHostsFile=${knownHosts()}`, '-o', 'HostKeyAlias=wharf-test-gateway', source, `web.2@127.0.0.1:${target}/`], (_e, _out, stderr) => resolve({ code: child.exitCode, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(target, 'upload.txt'), 'utf8'), 'payload\n');
    assert.deepEqual(exec.calls.at(-1)?.req.cmd, ['sh', '-c', `scp -t ${target}/`]);
  });

  it('ends the command when the connection goes', async () => {
    const before = exec.calls.length;
    const child = spawn('ssh', sshArgs({ port: gateway.port, login: 'web/2', keys: [alice.path], knownHosts: knownHosts(), command: 'sleep 600' }), { stdio: 'ignore' });
    const call = await waitFor('the command', () => exec.calls.length > before && exec.calls.at(-1));
    child.kill('SIGKILL');
    await waitFor('the command closed', () => call.closed);
  });

  it('a removed key stops working at once', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user: 'alice', password: 'alice-secret-1' } });
    const token = (login.json() as TokenCreated).token;
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/v1/me/ssh-keys/laptop', headers: bearer(token) })).statusCode, 200);
    const r = await ssh('web/2', alice, { command: 'echo in' });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
  });
});
