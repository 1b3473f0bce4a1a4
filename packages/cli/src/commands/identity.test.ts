/**
 * `wharf login|logout|whoami|tenant|user|token`: the argument checks, the password
 * prompt and the config file in-process; then the built CLI against a real
 * wharf-server (child processes both), so exit codes, stderr, the server's answers and
 * the file written are the real ones.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Me, TokenCreated, TokenInfo, User } from '@wharf/types';
import { run } from '../cli.js';
import { updateConfigFile } from '../config-file.js';
import type { Io } from '../context.js';
import { expires, renderTokens } from '../format/identity.js';
import { readLine, type TtyInput } from '../password.js';
import { startRealServer, type RealServer } from '../testing/real-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { systemClock } from '../wait.js';
import { collectRoleGrant, parseRole, parseTokenId, parseTtl } from './identity-common.js';

test('roles, role grants, token IDs and TTLs are checked before anything is sent', () => {
  assert.equal(parseRole('viewer'), 'viewer');
  assert.throws(() => parseRole('owner'), /"owner" is not a role; expected tenant-admin, developer or viewer/);
  assert.deepEqual(collectRoleGrant('team-b=viewer', collectRoleGrant('team-a=developer')), { 'team-a': 'developer', 'team-b': 'viewer' });
  assert.throws(() => collectRoleGrant('team-a'), /expected TENANT=ROLE/);
  assert.throws(() => collectRoleGrant('Team A=viewer'), /expected a tenant name/);
  assert.throws(() => collectRoleGrant('team-a=admin'), /"admin" is not a role/);
  assert.throws(() => collectRoleGrant('team-a=viewer', { 'team-a': 'developer' }), /tenant team-a is named twice/);
  assert.equal(parseTokenId('0123456789abcdef'), '0123456789abcdef');
  assert.throws(() => parseTokenId('0123'), /16 hex digits/);
  assert.equal(parseTtl('12h'), 43_200);
  assert.equal(parseTtl('90s'), 90);
  assert.throws(() => parseTtl('30s'), /from 1m to 8784h/);
  assert.throws(() => parseTtl('9000h'), /from 1m to 8784h/);
});

/** A terminal as readLine sees it: raw mode recorded, keys written into it. */
function fakeTerminal() {
  const input = new PassThrough() as PassThrough & TtyInput;
  const modes: boolean[] = [];
  input.isTTY = true;
  input.setRawMode = (raw: boolean) => modes.push(raw);
  let shown = '';
  const output = new PassThrough();
  output.setEncoding('utf8').on('data', (d: string) => (shown += d));
  return { input, output, modes, shown: () => shown };
}

test('a password is read in raw mode without echo; backspace edits, Ctrl-C cancels', async () => {
  const t = fakeTerminal();
  const secret = readLine(t.input, t.output, 'Password: ', false);
  t.input.write('s3cretX\u007f!\r');
  assert.equal(await secret, 's3cret!');
  await new Promise((r) => setImmediate(r));
  assert.equal(t.shown(), 'Password: \n', 'nothing typed is shown');
  assert.deepEqual(t.modes, [true, false], 'raw mode on while reading, off after');

  const name = fakeTerminal();
  const user = readLine(name.input, name.output, 'User: ', true);
  name.input.write('bob\u0015alice\n');
  assert.equal(await user, 'alice');

  const cancel = fakeTerminal();
  const cancelled = readLine(cancel.input, cancel.output, 'Password: ', false);
  cancel.input.write('abc\u0003');
  await assert.rejects(cancelled, (err: Error & { exitCode?: number }) => err.message === 'cancelled' && err.exitCode === 130);
  assert.deepEqual(cancel.modes, [true, false]);
});

test('the config file keeps its other keys, is 0600 and its new folder 0700', () => {
  const home = mkdtempSync(join(tmpdir(), 'wharf-cfg-'));
  try {
    const path = join(home, '.wharf', 'config.json');
    updateConfigFile(path, (d) => ({ ...d, token: 't1' }));
    assert.equal(statSync(join(home, '.wharf')).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    writeFileSync(path, JSON.stringify({ tenant: 'team-a', token: 't1', editor: 'vi' }), { mode: 0o644 });
    updateConfigFile(path, (d) => ({ ...d, token: 't2' }));
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { tenant: 'team-a', token: 't2', editor: 'vi' });
    assert.equal(statSync(path).mode & 0o777, 0o600, 'a looser file becomes private');
    writeFileSync(path, '{"token": ');
    assert.throws(() => updateConfigFile(path, (d) => d), /is not valid JSON/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('the token table: expiry in words, any tenant, sessions', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(expires('2025-01-01T12:00:00Z', now), 'in 12h');
  assert.equal(expires(undefined, now), 'never');
  assert.equal(expires('2024-12-31T00:00:00Z', now), 'expired');
  const tokens: TokenInfo[] = [
    { id: 'bbbbbbbbbbbbbbbb', name: 'ci', user: 'alice', tenant: 'team-a', role: 'viewer', createdAt: '2025-01-01T00:00:00Z', session: false },
    { id: 'aaaaaaaaaaaaaaaa', name: 'login', user: 'alice', createdAt: '2024-12-31T23:00:00Z', expiresAt: '2025-01-01T11:00:00Z', session: true },
  ];
  assert.deepEqual(renderTokens(tokens, now).split('\n'), [
    'ID                 NAME    USER    TENANT   ROLE       EXPIRES   SESSION',
    "aaaaaaaaaaaaaaaa   login   alice   <any>    <user's>   in 11h    yes",
    'bbbbbbbbbbbbbbbb   ci      alice   team-a   viewer     never     no',
  ]);
});

describe('identity commands against a real wharf-server', () => {
  let server: RealServer;
  let adminHome: string;
  let aliceHome: string;
  const homes: string[] = [];
  const newHome = () => {
    const h = mkdtempSync(join(tmpdir(), 'wharf-cli-home-'));
    homes.push(h);
    return h;
  };
  /** As the platform admin (the bootstrap admin token). */
  const admin = (args: string[], stdin?: string) => runCli(args, { server: server.url, home: adminHome, env: { WHARF_TOKEN: server.admin }, ...(stdin !== undefined ? { stdin } : {}) });
  /** As whoever is logged in to alice's home (its config file). */
  const alice = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => runCli(args, { server: server.url, home: aliceHome, ...opts });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  /** The one-line failure every refused command gives. */
  const fails = (r: CliResult, code: number, message: RegExp) => {
    assert.equal(r.code, code, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    if (code === 1) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  };
  const configOf = (home: string) => JSON.parse(readFileSync(join(home, '.wharf', 'config.json'), 'utf8')) as Record<string, unknown>;
  const whoami = async (env?: Record<string, string>) => {
    const r = await alice(['whoami', '-o', 'json'], env ? { env } : {});
    ok(r, 'whoami');
    return JSON.parse(r.stdout) as Me;
  };

  before(async () => {
    server = await startRealServer();
    adminHome = newHome();
    aliceHome = newHome();
  });
  after(async () => {
    await server?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('a platform admin creates a tenant and a user with a role in it', async () => {
    const created = await admin(['tenant', 'create', 'team-a', '--description', 'Team A']);
    ok(created, 'tenant create');
    assert.equal(created.stdout, 'tenant team-a created\n');
    assert.equal((await admin(['tenant', 'create', 'team-a'])).stdout, 'tenant team-a exists (unchanged)\n');
    assert.equal((await admin(['tenant', 'create', 'team-a', '--allow-cap', 'net_raw,SYS_PTRACE', '--allow-privilege-escalation', 'no'])).stdout, 'tenant team-a exists; allowedCapabilities, allowPrivilegeEscalation set\n');
    assert.match((await admin(['tenant', 'get', 'team-a'])).stdout, /May add capabilities:\s+NET_RAW, SYS_PTRACE\n\s*May turn off no-new-privileges:\s+no\n/);
    const badCap = await admin(['tenant', 'create', 'team-a', '--allow-cap', 'FLY']);
    assert.notEqual(badCap.code, 0);
    assert.match(badCap.stderr, /FLY/);
    const badAnswer = await admin(['tenant', 'create', 'team-a', '--allow-privilege-escalation', 'maybe']);
    assert.notEqual(badAnswer.code, 0);
    assert.match(badAnswer.stderr, /yes or no/);
    ok(await admin(['tenant', 'create', 'team-b']), 'tenant create team-b');
    const user = await admin(['user', 'create', 'alice', '--role', 'team-a=developer', '--password-stdin'], 'alice-secret\n');
    ok(user, 'user create');
    assert.equal(user.stdout, 'user alice created (roles: team-a=developer)\n');
    const ls = await admin(['tenant', 'ls']);
    assert.match(ls.stdout, /^NAME\s+DESCRIPTION\s+AGE\n/);
    assert.match(ls.stdout, /\nteam-a\s+Team A\s+\d+s\n/);
    const users = JSON.parse((await admin(['user', 'ls', '-o', 'json'])).stdout) as User[];
    assert.deepEqual(users.map((u) => [u.name, u.platformAdmin, u.roles]), [['alice', false, { 'team-a': 'developer' }]]);
    assert.match((await admin(['user', 'get', 'alice'])).stdout, /Roles:\s+TENANT\s+ROLE\n\s+team-a\s+developer\n/);
  });

  it('login --password-stdin saves the session in a 0600 config file; whoami shows the role', async () => {
    const r = await alice(['login', 'alice', '--password-stdin', '--ttl', '2h'], { stdin: 'alice-secret\n' });
    ok(r, 'login');
    const path = join(aliceHome, '.wharf', 'config.json');
    assert.match(r.stdout, new RegExp(`^Logged in to ${server.url} as alice \\(session until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); token saved in ${path}\\n$`));
    assert.equal(statSync(join(aliceHome, '.wharf')).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const config = configOf(aliceHome);
    assert.equal(config.server, server.url);
    assert.match(String(config.token), /^wharf_ses_/);

    const me = await whoami();
    assert.deepEqual({ name: me.name, kind: me.kind, platformAdmin: me.platformAdmin, roles: me.roles, session: me.token?.session }, { name: 'alice', kind: 'user', platformAdmin: false, roles: { 'team-a': 'developer' }, session: true });
    const left = Date.parse(me.token?.expiresAt ?? '') - Date.now();
    assert.ok(left > 3_500_000 && left <= 7_200_000, `a 2 h session (${left} ms left)`);
    const text = await alice(['whoami']);
    assert.match(text.stdout, /^Name:\s+alice\nKind:\s+user\nPlatform admin:\s+no\nRoles:\s+TENANT\s+ROLE\n\s+team-a\s+developer\nToken:\s+login session \(ID [0-9a-f]{16}\), every tenant of alice\n\s+expires \S+ \(in 1\d\dm\)\n/);
  });

  it('a wrong password is one line and a non-zero exit, and the saved session stays', async () => {
    const before = configOf(aliceHome);
    fails(await alice(['login', 'alice', '--password-stdin'], { stdin: 'not-her-password\n' }), 1, /^wharf: wrong user name or password\n$/);
    fails(await alice(['login', 'nobody', '--password-stdin'], { stdin: 'whatever-1\n' }), 1, /^wharf: wrong user name or password\n$/);
    assert.deepEqual(configOf(aliceHome), before);
    fails(await alice(['login', 'alice']), 1, /^wharf: stdin is not a terminal to ask for the password on; pipe it in with --password-stdin\n$/);
  });

  it("another tenant is not among alice's (404) and admin commands are refused (403), each in one line", async () => {
    fails(await alice(['tenant', 'get', 'team-b']), 1, /^wharf: no tenant "team-b" among yours\n$/);
    fails(await alice(['tenant', 'create', 'team-c']), 1, /^wharf: this needs a platform admin\n$/);
    fails(await alice(['user', 'ls']), 1, /^wharf: this needs a platform admin\n$/);
    const mine = await alice(['tenant', 'ls']);
    assert.deepEqual(mine.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['team-a']);
  });

  it('token create shows the token once; ls lists it; after revoke it gets a clear 401', async () => {
    const made = await alice(['--tenant', 'team-a', 'token', 'create', 'ci', '--role', 'viewer', '--ttl', '1h']);
    ok(made, 'token create');
    const token = made.stdout.trim();
    assert.match(token, /^wharf_usr_\S+$/, 'only the token on stdout');
    assert.match(made.stderr, /^API token "ci" \(ID [0-9a-f]{16}\), only tenant team-a, at most viewer; it expires \S+ \(in 59m\):\n/);
    assert.match(made.stderr, /it will not be shown again/);

    const scoped = await whoami({ WHARF_TOKEN: token });
    assert.deepEqual(scoped.roles, { 'team-a': 'viewer' });
    const id = scoped.token?.id ?? '';

    const ls = await alice(['token', 'ls']);
    ok(ls, 'token ls');
    assert.match(ls.stdout, /^ID\s+NAME\s+USER\s+TENANT\s+ROLE\s+EXPIRES\s+SESSION\n/);
    assert.match(ls.stdout, new RegExp(`\\n${id}\\s+ci\\s+alice\\s+team-a\\s+viewer\\s+in 59m\\s+no\\n`));
    assert.match(ls.stdout, /\n[0-9a-f]{16}\s+login\s+alice\s+<any>\s+<user's>\s+in 1\d\dm\s+yes\n/);
    const listed = JSON.parse((await alice(['token', 'ls', '-o', 'json'])).stdout) as TokenInfo[];
    assert.ok(!JSON.stringify(listed).includes(token), 'never the token itself');

    const asJson = await alice(['token', 'create', 'deploy', '-o', 'json']);
    const deploy = JSON.parse(asJson.stdout) as TokenCreated;
    assert.deepEqual({ name: deploy.name, user: deploy.user, session: deploy.session, tenant: deploy.tenant, expiresAt: deploy.expiresAt }, { name: 'deploy', user: 'alice', session: false, tenant: undefined, expiresAt: undefined });
    assert.match(deploy.token, /^wharf_usr_/);

    const revoked = await alice(['token', 'revoke', id]);
    ok(revoked, 'token revoke');
    assert.equal(revoked.stdout, `API token "ci" (ID ${id}) of alice revoked\n`);
    fails(await alice(['whoami'], { env: { WHARF_TOKEN: token } }), 1, /^wharf: the token is not valid \(unknown, expired or revoked\) \(log in with wharf login, or pass --token/);
    fails(await alice(['token', 'revoke', id]), 1, new RegExp(`^wharf: no token with ID ${id} of user "alice"\\n$`));
    fails(await alice(['token', 'create', 'x', '--role', 'viewer']), 1, /^wharf: --role needs --tenant/);
  });

  it('tenant grant and revoke change what the user may do at once', async () => {
    const granted = await admin(['tenant', 'grant', 'team-b', 'alice', 'viewer']);
    ok(granted, 'grant');
    assert.equal(granted.stdout, 'alice is now viewer in tenant team-b (roles: team-a=developer,team-b=viewer)\n');
    assert.deepEqual((await whoami()).roles, { 'team-a': 'developer', 'team-b': 'viewer' });
    assert.match((await alice(['tenant', 'get', 'team-b'])).stdout, /Members:\s+<shown to its tenant admins and platform admins>/);

    ok(await admin(['tenant', 'grant', 'team-a', 'alice', 'tenant-admin']), 'grant tenant-admin');
    const page = await alice(['tenant', 'get', 'team-a']);
    assert.match(page.stdout, /Members:\s+USER\s+ROLE\n\s+alice\s+tenant-admin\n/);

    const revoked = await admin(['tenant', 'revoke', 'team-b', 'alice']);
    assert.equal(revoked.stdout, 'alice has no role in tenant team-b now (roles: team-a=tenant-admin)\n');
    fails(await alice(['tenant', 'get', 'team-b']), 1, /^wharf: no tenant "team-b" among yours\n$/);
    // A tenant admin manages the members of that tenant.
    ok(await alice(['tenant', 'grant', 'team-a', 'alice', 'developer']), 'alice steps down');
    assert.deepEqual((await whoami()).roles, { 'team-a': 'developer' });
  });

  it('user passwd --password-stdin: users give the current password, platform admins do not', async () => {
    fails(await alice(['user', 'passwd', '--password-stdin'], { stdin: 'alice-secret-2\n' }), 1, /^wharf: --password-stdin expects the current password, then the new password, one per line on stdin/);
    fails(await alice(['user', 'passwd', '--password-stdin'], { stdin: 'wrong-password\nalice-secret-2\n' }), 1, /^wharf: the current password is not right; the password is unchanged\n$/);
    const changed = await alice(['user', 'passwd', '--password-stdin'], { stdin: 'alice-secret\nalice-secret-2\n' });
    ok(changed, 'passwd');
    assert.equal(changed.stdout, 'password of alice changed\n');
    const other = newHome();
    fails(await runCli(['login', 'alice', '--password-stdin'], { server: server.url, home: other, stdin: 'alice-secret\n' }), 1, /wrong user name or password/);
    ok(await runCli(['login', 'alice', '--password-stdin'], { server: server.url, home: other, stdin: 'alice-secret-2\n' }), 'login with the new password');

    ok(await admin(['user', 'passwd', 'alice', '--password-stdin'], 'set-by-admin\n'), 'admin sets it');
    ok(await runCli(['login', 'alice', '--password-stdin'], { server: server.url, home: other, stdin: 'set-by-admin\n' }), 'login with the password the admin set');
    fails(await admin(['user', 'passwd', '--password-stdin'], 'whatever-1\n'), 1, /^wharf: the admin token has no user whose password to change; name one/);
  });

  it('a bad role, name or short password is refused before anything is sent', async () => {
    // Nothing listens on port 1: an error that names the input proves nothing was sent.
    const offline = (args: string[], stdin?: string) => runCli(args, { server: 'http://127.0.0.1:1', home: adminHome, env: { WHARF_TOKEN: server.admin }, ...(stdin !== undefined ? { stdin } : {}) });
    fails(await offline(['tenant', 'grant', 'team-a', 'alice', 'owner']), 2, /"owner" is not a role; expected tenant-admin, developer or viewer/);
    fails(await offline(['user', 'create', 'bob', '--role', 'team-a=owner', '--password-stdin'], 'bob-secret-1\n'), 2, /"owner" is not a role/);
    fails(await offline(['--tenant', 'team-a', 'token', 'create', 'x', '--role', 'boss']), 2, /"boss" is not a role/);
    fails(await offline(['tenant', 'create', 'Team_A']), 2, /expected a tenant name/);
    fails(await offline(['user', 'create', 'bob', '--password-stdin'], 'short\n'), 1, /^wharf: the new password is too short: it needs at least 8 characters\n$/);
    fails(await offline(['user', 'create', 'bob', '--password-stdin'], ''), 1, /^wharf: --password-stdin expects the password on stdin/);
    fails(await offline(['login', 'alice', '--ttl', '10s', '--password-stdin'], 'x\n'), 2, /from 1m to 8784h/);
  });

  it('logout ends the session and removes only the token from the config file', async () => {
    const path = join(aliceHome, '.wharf', 'config.json');
    writeFileSync(path, JSON.stringify({ ...configOf(aliceHome), tenant: 'team-a' }));
    const sessionToken = String(configOf(aliceHome).token);
    const r = await alice(['logout']);
    ok(r, 'logout');
    assert.equal(r.stdout, `Logged out of ${server.url} (session ended); token removed from ${path}\n`);
    assert.deepEqual(configOf(aliceHome), { server: server.url, tenant: 'team-a' });
    fails(await alice(['whoami'], { env: { WHARF_TOKEN: sessionToken } }), 1, /the token is not valid/);
    fails(await alice(['logout']), 1, /^wharf: not logged in: no token in /);
    fails(await alice(['whoami']), 1, /^wharf: missing bearer token/);
  });

  it('users and tenants are removed', async () => {
    const rm = await admin(['user', 'rm', 'alice']);
    assert.equal(rm.stdout, 'user alice removed (its tokens are revoked)\n');
    fails(await admin(['user', 'get', 'alice']), 1, /^wharf: no user "alice"\n$/);
    assert.equal((await admin(['tenant', 'rm', 'team-b'])).stdout, 'tenant team-b removed\n');
    fails(await admin(['tenant', 'rm', 'team-b']), 1, /^wharf: no tenant "team-b"\n$/);
    fails(await admin(['tenant', 'rm', 'default']), 1, /^wharf: the "default" tenant cannot be deleted\n$/);
  });
});

test('every identity command has --help with examples', async () => {
  for (const args of [['login'], ['logout'], ['whoami'], ['tenant'], ['tenant', 'grant'], ['user', 'create'], ['user', 'passwd'], ['token', 'create'], ['token', 'ls'], ['token', 'revoke']]) {
    let out = '';
    const stdout = new PassThrough().setEncoding('utf8').on('data', (d: string) => (out += d));
    const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, homedir: '/nonexistent', clock: systemClock };
    assert.equal(await run([...args, '--help'], io), 0, args.join(' '));
    assert.match(out, new RegExp(`Examples:\\n\\s+\\$ wharf .*${args[0]}`), args.join(' '));
  }
});
