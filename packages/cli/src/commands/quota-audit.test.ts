/**
 * `wharf quota get|set` and `wharf audit`: the local checks and views in-process; then
 * the built CLI against a real wharf-server (child processes both), so the limits, the
 * admission errors, the audit records and the exit codes are the real ones.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WharfClient } from '@wharf/client';
import type { AuditRecord, QuotaView } from '@wharf/types';
import { run } from '../cli.js';
import type { Io } from '../context.js';
import { renderAudit } from '../format/audit.js';
import { renderQuota } from '../format/quotas.js';
import { startRealServer, type RealServer } from '../testing/real-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { systemClock } from '../wait.js';
import { parseAuditLimit, parseSince, sinceTime } from './audit.js';
import { countParser, parseQuotaBytes, parseQuotaCores } from './quota.js';

const GiB = 1024 ** 3;

test('quota amounts, --since and --limit are checked before anything is sent', () => {
  assert.equal(parseQuotaCores('0.5'), 0.5);
  assert.equal(parseQuotaCores('0'), 0);
  assert.throws(() => parseQuotaCores('-1'), /expected CPU cores/);
  assert.throws(() => parseQuotaCores('lots'), /expected CPU cores/);
  assert.equal(parseQuotaBytes('256Gi'), 256 * GiB);
  assert.equal(parseQuotaBytes('1G'), 1e9);
  assert.throws(() => parseQuotaBytes('12X'), /expected a size such as 256Gi/);
  assert.equal(countParser(10)('10'), 10);
  assert.throws(() => countParser(10)('11'), /from 0 to 10/);
  assert.throws(() => countParser(10)('1.5'), /from 0 to 10/);

  const now = Date.parse('2025-01-01T12:00:00.000Z');
  assert.equal(sinceTime(parseSince('1h'), now), '2025-01-01T11:00:00.000Z');
  assert.equal(sinceTime(parseSince('1m30s'), now), '2025-01-01T11:58:30.000Z');
  assert.equal(sinceTime(parseSince('2025-01-01T10:00:00+02:00'), now), '2025-01-01T08:00:00.000Z');
  for (const bad of ['yesterday', '5x', '2025-01-01', '0s']) assert.throws(() => parseSince(bad), /expected a duration back from now .* or an RFC 3339 time/, bad);
  assert.equal(parseAuditLimit('10000'), 10_000);
  assert.throws(() => parseAuditLimit('0'), /≥ 1/);
  assert.throws(() => parseAuditLimit('10001'), /from 1 to 10000/);
});

test('the quota table: cores, bytes, counts, unlimited and USE%; the audit table', () => {
  const q: QuotaView = { tenant: 't', limits: { cpu: 4, memory: 8 * GiB, sets: 2 }, used: { cpu: 1.5, memory: 12 * GiB, disk: 10 * GiB, sets: 1, ips: 0, lbPorts: 0 } };
  assert.deepEqual(renderQuota(q).split('\n'), [
    'RESOURCE   USED   LIMIT       USE%',
    'cpu        1.5    4           38%',
    'memory     12Gi   8Gi         150%',
    'disk       10Gi   unlimited   -',
    'sets       1      2           50%',
    'ips        0      unlimited   -',
    'lb-ports   0      unlimited   -',
  ]);
  const now = Date.parse('2025-01-01T12:00:00.000Z');
  const records: AuditRecord[] = [
    { time: '2025-01-01T11:55:00.000Z', actor: 'alice', actorKind: 'user', tenant: 't', action: 'PUT /v1/sets/:appkey/:id', object: 'sets/web/1', status: 403, result: 'failed', error: 'QUOTA_EXCEEDED', sourceIp: '10.0.0.7' },
    { time: '2025-01-01T11:59:30.000Z', actor: 'bootstrap-admin', actorKind: 'admin', action: 'PUT /v1/quotas/:tenant', object: 'quotas/t', status: 200, result: 'ok', sourceIp: '127.0.0.1' },
  ];
  assert.deepEqual(renderAudit(records, now).split('\n'), [
    'TIME   ACTOR             ACTION                     OBJECT       STATUS               FROM',
    '5m     alice             PUT /v1/sets/:appkey/:id   sets/web/1   403 QUOTA_EXCEEDED   10.0.0.7',
    '30s    bootstrap-admin   PUT /v1/quotas/:tenant     quotas/t     200                  127.0.0.1',
  ]);
});

/** Polls `probe` until it returns something (records are written just after each answer). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const setSpec = (appkey: string, id: number, cpu: number) => ({ appkey, id: String(id), resources: { cpu, memory: '64Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] });

describe('quota and audit commands against a real wharf-server', () => {
  let server: RealServer;
  /** One folder for the test: the admin's and bob's home folders in it. */
  const root = mkdtempSync(join(tmpdir(), 'wharf-cli-quota-'));
  const adminHome = join(root, 'admin');
  const bobHome = join(root, 'bob');
  /** As the platform admin (the bootstrap admin token). */
  const admin = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { server: server.url, home: adminHome, ...opts, env: { WHARF_TOKEN: server.admin, ...opts.env } });
  const bob = (args: string[], stdin?: string) => runCli(args, { server: server.url, home: bobHome, ...(stdin !== undefined ? { stdin } : {}) });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  /** The failure every refused command gives: the exit code and, for exit 1, one line. */
  const fails = (r: CliResult, code: number, message: RegExp) => {
    assert.equal(r.code, code, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    if (code === 1) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  };
  const quotaOf = async (tenant: string) => {
    const r = await admin(['quota', 'get', tenant, '-o', 'json']);
    ok(r, 'quota get -o json');
    return JSON.parse(r.stdout) as QuotaView;
  };
  const auditJson = async (args: string[], env?: Record<string, string>) => {
    const r = await admin(['audit', ...args, '-o', 'json'], env ? { env } : {});
    ok(r, `audit ${args.join(' ')}`);
    return JSON.parse(r.stdout) as AuditRecord[];
  };
  /** Applies `spec` from a file through `wharf apply`, in tenant team-q. */
  const apply = (spec: object) => {
    const file = join(adminHome, 'set.json');
    writeFileSync(file, JSON.stringify(spec));
    return admin(['--tenant', 'team-q', 'apply', '-f', file]);
  };

  before(async () => {
    for (const home of [adminHome, bobHome]) mkdirSync(home);
    server = await startRealServer();
    const created = await admin(['tenant', 'create', 'team-q']);
    assert.equal(created.code, 0, created.stderr);
  });
  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('a platform admin sets a quota; quota get shows it with the usage', async () => {
    const set = await admin(['quota', 'set', 'team-q', '--cpu', '1', '--sets', '2']);
    ok(set, 'quota set');
    assert.equal(set.stdout, 'quota of tenant team-q set: limits cpu 1, sets 2; unlimited: memory, disk, ips, lb-ports\n');
    assert.equal(set.stderr, '');

    const client = new WharfClient({ server: server.url, token: server.admin, tenant: 'team-q' });
    assert.equal((await client.applySet(setSpec('db', 1, 0.5))).created, true);

    // The selected tenant (the global --tenant) when no TENANT is named.
    const table = await admin(['--tenant', 'team-q', 'quota', 'get']);
    ok(table, 'quota get');
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^RESOURCE\s+USED\s+LIMIT\s+USE%$/);
    assert.match(table.stdout, /\ncpu\s+0\.5\s+1\s+50%\n/);
    assert.match(table.stdout, /\nmemory\s+64Mi\s+unlimited\s+-\n/);
    assert.match(table.stdout, /\nsets\s+1\s+2\s+50%\n/);
    assert.match(table.stdout, /\nlb-ports\s+0\s+unlimited\s+-\n$/);
    assert.equal(lines.length, 7, 'a header and six resources');

    const view = await quotaOf('team-q');
    assert.deepEqual(view.limits, { cpu: 1, sets: 2 });
    assert.deepEqual([view.used.cpu, view.used.sets, view.used.memory], [0.5, 1, 64 * 1024 ** 2]);
    // Without a tenant setting: the default tenant, which has no quota and no sets.
    assert.match((await admin(['quota', 'get'])).stdout, /\nsets\s+0\s+unlimited\s+-\n/);
  });

  it('wharf apply beyond the quota fails in one line with the QUOTA_EXCEEDED message', async () => {
    const overCpu = await apply(setSpec('db', 2, 1));
    fails(overCpu, 1, /^wharf: set db\/2 would pass tenant "team-q"'s cpu quota: 0\.5 cores used \+ 1 cores asked > 1 cores\n$/);
    assert.equal(overCpu.stdout, '');

    ok(await apply(setSpec('db', 2, 0.25)), 'a set that fits');
    const overSets = await apply(setSpec('db', 3, 0.1));
    fails(overSets, 1, /^wharf: set db\/3 would pass tenant "team-q"'s sets quota: 2 sets used \+ 1 sets asked > 2 sets\n$/);
    assert.deepEqual([(await quotaOf('team-q')).used.sets], [2]);
  });

  it('quota set --keep keeps the other limits; without it they become unlimited; --clear lifts all', async () => {
    const kept = await admin(['quota', 'set', 'team-q', '--keep', '--sets', '5']);
    ok(kept, 'quota set --keep');
    assert.equal(kept.stdout, 'quota of tenant team-q set: limits cpu 1, sets 5; unlimited: memory, disk, ips, lb-ports\n');
    assert.deepEqual((await quotaOf('team-q')).limits, { cpu: 1, sets: 5 });

    const replaced = await admin(['quota', 'set', 'team-q', '--memory', '1Gi', '--sets', '1']);
    ok(replaced, 'quota set without --keep');
    assert.equal(replaced.stdout, 'quota of tenant team-q set: limits memory 1Gi, sets 1; unlimited: cpu, disk, ips, lb-ports\n');
    assert.match(replaced.stderr, /^note: tenant team-q uses 2 sets, above the new limit of 1; it keeps them, but nothing that adds to them is admitted\n$/);
    assert.deepEqual((await quotaOf('team-q')).limits, { memory: GiB, sets: 1 });

    const cleared = await admin(['quota', 'set', 'team-q', '--clear', '-o', 'json']);
    ok(cleared, 'quota set --clear');
    assert.deepEqual((JSON.parse(cleared.stdout) as QuotaView).limits, {});
    const rows = (await admin(['quota', 'get', 'team-q'])).stdout.trimEnd().split('\n').slice(1);
    assert.deepEqual(rows.map((l) => l.split(/\s+/)[2]), ['unlimited', 'unlimited', 'unlimited', 'unlimited', 'unlimited', 'unlimited']);
    ok(await apply(setSpec('db', 3, 4)), 'no limit left');
  });

  it('a member of the tenant reads its quota; setting it needs a platform admin', async () => {
    ok(await admin(['user', 'create', 'bob', '--role', 'team-q=viewer', '--password-stdin'], { stdin: 'bob-secret-1\n' }), 'user create');
    ok(await bob(['login', 'bob', '--password-stdin'], 'bob-secret-1\n'), 'login');
    const get = await bob(['quota', 'get', 'team-q']);
    ok(get, 'quota get as a viewer');
    assert.match(get.stdout, /\nsets\s+3\s+unlimited\s+-\n/);
    fails(await bob(['quota', 'set', 'team-q', '--cpu', '100']), 1, /^wharf: this needs a platform admin\n$/);
    fails(await bob(['quota', 'get', 'default']), 1, /^wharf: no tenant "default" among yours\n$/);
    // bob sees only his own records: the refused quota change (his login was made before he was anyone).
    const mine = await waitFor('bob\'s record', async () => {
      const r = await bob(['audit', '-o', 'json']);
      ok(r, 'audit as bob');
      const records = JSON.parse(r.stdout) as AuditRecord[];
      return records.length > 0 ? records : undefined;
    });
    assert.deepEqual(mine.map((r) => [r.actor, r.action, r.object, r.status, r.result]), [['bob', 'PUT /v1/quotas/:tenant', 'quotas/team-q', 403, 'failed']]);
  });

  it('wharf audit lists the changes with their outcome, filtered by user, object, tenant, time and number', async () => {
    const all = await waitFor('the admin\'s records', async () => {
      const records = await auditJson(['--user', 'bootstrap-admin']);
      const done = records.some((r) => r.object === 'users/bob') && records.some((r) => r.object === 'quotas/team-q' && r.request === '{}');
      return done ? records : undefined;
    });
    assert.ok(all.every((r) => r.actor === 'bootstrap-admin' && r.actorKind === 'admin'), 'only the admin token\'s');
    const quotaChanges = all.filter((r) => r.object === 'quotas/team-q');
    assert.deepEqual(quotaChanges.map((r) => [r.action, r.status, r.request]), [
      ['PUT /v1/quotas/:tenant', 200, '{"cpu":1,"sets":2}'],
      ['PUT /v1/quotas/:tenant', 200, '{"cpu":1,"sets":5}'],
      ['PUT /v1/quotas/:tenant', 200, `{"memory":${GiB},"sets":1}`],
      ['PUT /v1/quotas/:tenant', 200, '{}'],
    ]);
    const refused = all.filter((r) => r.result === 'failed').map((r) => [r.object, r.status, r.error, r.tenant]);
    assert.deepEqual(refused, [['sets/db/2', 403, 'QUOTA_EXCEEDED', 'team-q'], ['sets/db/3', 403, 'QUOTA_EXCEEDED', 'team-q']]);

    const table = await admin(['audit', '--user', 'bootstrap-admin', '--object', 'sets/db/3']);
    ok(table, 'audit table');
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^TIME\s+ACTOR\s+ACTION\s+OBJECT\s+STATUS\s+FROM$/);
    assert.equal(lines.length, 3, table.stdout);
    assert.match(lines[1] ?? '', /^\S+\s+bootstrap-admin\s+PUT \/v1\/sets\/:appkey\/:id\s+sets\/db\/3\s+403 QUOTA_EXCEEDED\s+\S*127\.0\.0\.1$/);
    assert.match(lines[2] ?? '', /^\S+\s+bootstrap-admin\s+PUT \/v1\/sets\/:appkey\/:id\s+sets\/db\/3\s+201\s+\S*127\.0\.0\.1$/);

    // --tenant filters (records of tenant resources carry it); WHARF_TENANT does not.
    const inTenant = await auditJson(['--tenant', 'team-q']);
    assert.ok(inTenant.length >= 5 && inTenant.every((r) => r.tenant === 'team-q'), JSON.stringify(inTenant));
    assert.deepEqual(await auditJson(['--user', 'bootstrap-admin'], { WHARF_TENANT: 'team-q' }), all);

    assert.deepEqual(await auditJson(['--user', 'bootstrap-admin', '--since', '1h']), all);
    const newest = all[all.length - 1] as AuditRecord;
    const afterNewest = new Date(Date.parse(newest.time) + 1).toISOString();
    assert.deepEqual(await auditJson(['--user', 'bootstrap-admin', '--since', afterNewest]), []);
    assert.deepEqual(await auditJson(['--user', 'bootstrap-admin', '--since', newest.time]), [newest]);
    const none = await admin(['audit', '--since', afterNewest, '--user', 'bootstrap-admin']);
    ok(none, 'audit without records');
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^No audit records match/);
    assert.deepEqual(await auditJson(['--user', 'bootstrap-admin', '--limit', '1']), [newest]);
  });

  it('bad amounts, flags and times are refused before anything is sent (exit 2)', async () => {
    // Nothing listens on port 1: an error that names the input proves nothing was sent.
    const offline = (args: string[]) => runCli(args, { server: 'http://127.0.0.1:1', home: adminHome, env: { WHARF_TOKEN: server.admin } });
    fails(await offline(['quota', 'set', 'team-q', '--cpu', 'lots']), 2, /option '--cpu <cores>' argument 'lots' is invalid\. expected CPU cores/);
    fails(await offline(['quota', 'set', 'team-q', '--memory', '12X']), 2, /expected a size such as 256Gi/);
    fails(await offline(['quota', 'set', 'team-q', '--sets', '-1']), 2, /expected a whole number from 0 to 10000000/);
    fails(await offline(['quota', 'set', 'team-q', '--lb-ports', '70000']), 2, /from 0 to 65535/);
    fails(await offline(['quota', 'set', 'team-q']), 2, /give the limits to set \(--cpu, --memory, --disk, --sets, --ips, --lb-ports\), or --clear/);
    fails(await offline(['quota', 'set', 'team-q', '--keep']), 2, /give the limits to set/);
    fails(await offline(['quota', 'set', 'team-q', '--clear', '--cpu', '1']), 2, /'--clear' cannot be used with option '--cpu/);
    fails(await offline(['quota', 'set', 'team-q', '--clear', '--keep']), 2, /cannot be used with option/);
    fails(await offline(['quota', 'get', 'Team_Q']), 2, /expected a tenant name/);
    fails(await offline(['audit', '--since', 'yesterday']), 2, /argument 'yesterday' is invalid\. expected a duration back from now/);
    fails(await offline(['audit', '--limit', '0']), 2, /expected a whole number ≥ 1/);
  });
});

test('quota and audit have --help with examples; quota set says what becomes unlimited', async () => {
  for (const args of [['quota'], ['quota', 'get'], ['quota', 'set'], ['audit']]) {
    let out = '';
    const stdout = new PassThrough().setEncoding('utf8').on('data', (d: string) => (out += d));
    const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, homedir: '/nonexistent', clock: systemClock };
    assert.equal(await run([...args, '--help'], io), 0, args.join(' '));
    assert.match(out, new RegExp(`Examples:\\n\\s+\\$ wharf .*${args[0]}`), args.join(' '));
    if (args[1] === 'set') assert.match(out.replace(/\s+/g, ' '), /without --keep, every resource whose flag is not given becomes UNLIMITED/);
  }
});
