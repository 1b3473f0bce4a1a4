import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERVER, normalizeServer, resolveConfig, type ConfigInputs } from './config.js';
import { CliError } from './errors.js';

function files(map: Record<string, string>): { read: (p: string) => string | undefined; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: (p) => {
      reads.push(p);
      return map[p];
    },
  };
}

const FILE = '/home/u/.wharf/config.json';
function inputs(over: Partial<ConfigInputs>, read: (p: string) => string | undefined): ConfigInputs {
  return { flags: {}, env: {}, homedir: '/home/u', readFile: read, ...over };
}

test('defaults when nothing is configured', () => {
  const f = files({});
  const c = resolveConfig(inputs({}, f.read));
  assert.equal(c.server, DEFAULT_SERVER);
  assert.equal(c.token, undefined);
  assert.equal(c.serverSource, 'default');
  assert.deepEqual(f.reads, [FILE]);
});

test('flags > env > file, each setting on its own', () => {
  const f = files({ [FILE]: JSON.stringify({ server: 'http://file:1', token: 'file-token' }) });
  const env = { WHARF_SERVER: 'http://env:2', WHARF_TOKEN: 'env-token' };

  assert.deepEqual(
    pick(resolveConfig(inputs({ flags: { server: 'http://flag:3', token: 'flag-token' }, env }, f.read))),
    ['http://flag:3', 'flag', 'flag-token', 'flag'],
  );
  assert.deepEqual(pick(resolveConfig(inputs({ env }, f.read))), ['http://env:2', 'env', 'env-token', 'env']);
  assert.deepEqual(pick(resolveConfig(inputs({}, f.read))), ['http://file:1', 'file', 'file-token', 'file']);
  // mixed: server from the flag, token from the file
  assert.deepEqual(pick(resolveConfig(inputs({ flags: { server: 'http://flag:3' } }, f.read))), ['http://flag:3', 'flag', 'file-token', 'file']);
  // mixed: token from env, server from the file
  assert.deepEqual(pick(resolveConfig(inputs({ env: { WHARF_TOKEN: 'env-token' } }, f.read))), ['http://file:1', 'file', 'env-token', 'env']);
});

function pick(c: ReturnType<typeof resolveConfig>): unknown[] {
  return [c.server, c.serverSource, c.token, c.tokenSource];
}

test('empty env values count as unset', () => {
  const f = files({ [FILE]: '{"server": "http://file:1"}' });
  const c = resolveConfig(inputs({ env: { WHARF_SERVER: '', WHARF_TOKEN: ' ' } }, f.read));
  assert.equal(c.server, 'http://file:1');
  assert.equal(c.token, undefined);
});

test('the config file is not read when flags and env settle everything', () => {
  const f = files({ [FILE]: 'not json' });
  const c = resolveConfig(inputs({ flags: { server: 'http://a:1' }, env: { WHARF_TOKEN: 't', WHARF_TENANT: 'team-a' } }, f.read));
  assert.equal(c.server, 'http://a:1');
  assert.equal(c.tenant, 'team-a');
  assert.deepEqual(f.reads, []);
  // the tenant is a setting too: left open, the file is consulted
  assert.throws(() => resolveConfig(inputs({ flags: { server: 'http://a:1' }, env: { WHARF_TOKEN: 't' } }, f.read)), /not valid JSON/);
});

test('tenant: --tenant > WHARF_TENANT > "tenant" in the file > none (the server default)', () => {
  const f = files({ [FILE]: JSON.stringify({ tenant: 'from-file' }) });
  const tenant = (over: Partial<ConfigInputs>, read = f.read) => {
    const c = resolveConfig(inputs(over, read));
    return [c.tenant, c.tenantSource];
  };
  assert.deepEqual(tenant({ flags: { tenant: 'from-flag' }, env: { WHARF_TENANT: 'from-env' } }), ['from-flag', 'flag']);
  assert.deepEqual(tenant({ env: { WHARF_TENANT: 'from-env' } }), ['from-env', 'env']);
  assert.deepEqual(tenant({ env: { WHARF_TENANT: ' ' } }), ['from-file', 'file']);
  assert.deepEqual(tenant({}, files({}).read), [undefined, undefined]);
  assert.equal('tenant' in resolveConfig(inputs({}, files({}).read)), false);
});

test('a tenant that is not a tenant name is refused, naming where it came from', () => {
  assert.throws(() => resolveConfig(inputs({ flags: { tenant: 'Team A' } }, files({}).read)), { message: 'invalid tenant "Team A" (from --tenant): use lowercase letters, digits and "-", e.g. team-a' });
  assert.throws(() => resolveConfig(inputs({ env: { WHARF_TENANT: 'a_b' } }, files({}).read)), /invalid tenant "a_b" \(from WHARF_TENANT\)/);
  assert.throws(() => resolveConfig(inputs({}, files({ [FILE]: '{"tenant": "X"}' }).read)), /invalid tenant "X" \(from \/home\/u\/\.wharf\/config\.json\)/);
  assert.throws(() => resolveConfig(inputs({}, files({ [FILE]: '{"tenant": 3}' }).read)), /"tenant" must be a string/);
});

test('WHARF_CONFIG overrides the config file path', () => {
  const f = files({ '/etc/wharf.json': '{"server": "http://other:9"}' });
  const c = resolveConfig(inputs({ env: { WHARF_CONFIG: '/etc/wharf.json' } }, f.read));
  assert.equal(c.server, 'http://other:9');
  assert.equal(c.configPath, '/etc/wharf.json');
});

test('a malformed config file is a clear error', () => {
  assert.throws(() => resolveConfig(inputs({}, files({ [FILE]: '{"server": ' }).read)), (e: unknown) => e instanceof CliError && /config file .*config\.json is not valid JSON/.test(e.message));
  assert.throws(() => resolveConfig(inputs({}, files({ [FILE]: '[1]' }).read)), /must hold a JSON object/);
  assert.throws(() => resolveConfig(inputs({}, files({ [FILE]: '{"server": 7070}' }).read)), /"server" must be a string/);
});

test('server URLs are normalised and checked', () => {
  assert.equal(normalizeServer('127.0.0.1:7070', 'x'), 'http://127.0.0.1:7070');
  assert.equal(normalizeServer('https://wharf.example/', 'x'), 'https://wharf.example');
  assert.throws(() => normalizeServer('ftp://x', '--server'), /only http:\/\/ and https:\/\/.*/);
  assert.throws(() => normalizeServer('http://', 'WHARF_SERVER'), /invalid server URL "http:\/\/" \(from WHARF_SERVER\)/);
});
