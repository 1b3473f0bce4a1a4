/**
 * End-to-end-ish, like cli.test.ts: the built CLI in a child process against the
 * fake server, for volumes, snapshots, the recycle bin, export and set moves.
 * The tests run in order and build on each other's state.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrashEntry } from '@wharf/types';
import { fakeHost, startFakeServer, type FakeServer } from './testing/fake-server.js';
import { runCli, type CliResult } from './testing/run-cli.js';

let server: FakeServer;
let dir: string;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function wharf(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  return runCli(args, { server: server.url, home: dir, ...opts });
}

async function sent(run: () => Promise<CliResult>): Promise<{ result: CliResult; requests: FakeServer['requests'] }> {
  const from = server.requests.length;
  const result = await run();
  return { result, requests: server.requests.slice(from) };
}

function columns(line: string | undefined): string[] {
  return (line ?? '').trim().split(/\s{2,}/);
}

/** One instant for every entry: entries made a millisecond apart would sort by it. */
const NOW = Date.now();

function trash(over: Partial<TrashEntry> & { trashId: string }): TrashEntry {
  return {
    host: 'h1', tenant: 'default', appkey: 'com.db', id: '7', driver: 'btrfs', used: 300 * MiB, quota: GiB,
    deletedAt: new Date(NOW - 3_600_000).toISOString(), purgeAt: new Date(NOW + 3 * 86_400_000).toISOString(), ...over,
  };
}

function setStatus(key: string, status: 'running' | 'stopped'): void {
  const s = server.sets.get(key);
  assert.ok(s, key);
  s.status = status;
  if (status === 'stopped') s.desired = 'stopped';
}

before(async () => {
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'wharf-vol-test-'));
  writeFileSync(join(dir, 'db.json'), JSON.stringify({ appkey: 'com.db', id: 1, containers: [{ index: 1, image: 'postgres:16', options: { name: 'pg', volumes: [{ path: '/var/lib/postgresql' }] } }] }));
  const applied = await wharf(['apply', '-f', join(dir, 'db.json'), '--wait', '--timeout', '10s']);
  assert.equal(applied.code, 0, applied.stderr);
  server.volumes.set('default/com.db/1', { used: 512 * MiB, quota: GiB, snapshots: [] });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('volume ls: usage against the quota; --app and -o json', async () => {
  const ls = await wharf(['volume', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  const [header, row] = ls.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(header), ['SET', 'HOST', 'DRIVER', 'USED', 'QUOTA', 'USE%', 'SIZE']);
  assert.deepEqual(columns(row), ['com.db/1', 'h1', 'btrfs', '512Mi', '1Gi', '50%', '1Gi']);

  const { result, requests } = await sent(() => wharf(['--tenant', 'team-a', 'volume', 'ls', '--app', 'com.db', '-o', 'json']));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(requests[0]?.url, '/v1/volumes?appkey=com.db&tenant=team-a');
  assert.deepEqual(JSON.parse(result.stdout), []);
  assert.deepEqual(await wharf(['volume', 'ls', '--app', 'nope']), { code: 0, stdout: '', stderr: 'No volumes for appkey nope.\n' });

  const wide = await wharf(['volume', 'ls', '-o', 'wide']);
  assert.deepEqual(columns(wide.stdout.split('\n')[0]).slice(7), ['TENANT', 'PATH', 'REPORTED']);
});

test('volume resize: sends the size; a bad size is a usage error; server refusals exit 1', async () => {
  const { result, requests } = await sent(() => wharf(['volume', 'resize', 'com.db/1', '--size', '2Gi']));
  assert.deepEqual(result, { code: 0, stdout: 'volume of set com.db/1 resized to 2Gi (used 512Mi, 25%) on host h1\n', stderr: '' });
  assert.deepEqual([requests[0]?.method, requests[0]?.url, JSON.parse(requests[0]?.body ?? '')], ['POST', '/v1/volumes/com.db/1/resize', { size: '2Gi' }]);

  const bad = await wharf(['volume', 'resize', 'com.db/1', '--size', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /option '--size <size>' argument 'lots' is invalid\. expected a size such as 20Gi/);
  assert.equal((await wharf(['volume', 'resize', 'com.db/1'])).code, 2);
  const full = await wharf(['volume', 'resize', 'com.db/1', '--size', '200Gi']);
  assert.deepEqual(full, { code: 1, stdout: '', stderr: 'wharf: host h1 has 90Gi of disk unreserved; growing by 198Gi needs more\n' });
  const small = await wharf(['volume', 'resize', 'com.db/1', '--size', '1Mi']);
  assert.match(small.stderr, /^wharf: the volume holds 536870912 bytes; it cannot shrink to 1048576\n$/);
});

test('volume snapshot, snapshots, snapshot-restore (stopped only) and snapshot-rm', async () => {
  assert.deepEqual(await wharf(['volume', 'snapshot', 'com.db/1', '--name', 'pre']), { code: 0, stdout: "snapshot pre of set com.db/1's volume taken (512Mi)\n", stderr: '' });
  const auto = await sent(() => wharf(['volume', 'snapshot', 'com.db/1']));
  assert.equal(auto.result.stdout, "snapshot 20250101T120000Z of set com.db/1's volume taken (512Mi)\n");
  assert.deepEqual(JSON.parse(auto.requests[0]?.body ?? ''), {});

  const ls = await wharf(['volume', 'snapshots', 'com.db/1']);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(lines[0]), ['NAME', 'CREATED', 'USED']);
  assert.deepEqual(columns(lines[1]).filter((_, i) => i !== 1), ['pre', '512Mi']);
  assert.equal(lines.length, 3);

  const busy = await wharf(['volume', 'snapshot-restore', 'com.db/1', 'pre']);
  assert.deepEqual(busy, {
    code: 1,
    stdout: '',
    stderr: 'wharf: set com.db/1 has running containers\n  stop the set first (wharf stop set com.db/1 --wait), then start it again (wharf start set com.db/1)\n',
  });
  setStatus('default/com.db/1', 'stopped');
  assert.deepEqual(await wharf(['volume', 'snapshot-restore', 'com.db/1', 'pre']), { code: 0, stdout: 'volume of set com.db/1 rolled back to snapshot pre\n', stderr: '' });
  const rm = await sent(() => wharf(['volume', 'snapshot-rm', 'com.db/1', '20250101T120000Z']));
  assert.deepEqual(rm.result, { code: 0, stdout: 'snapshot 20250101T120000Z of set com.db/1 deleted\n', stderr: '' });
  assert.deepEqual([rm.requests[0]?.method, rm.requests[0]?.url], ['DELETE', '/v1/volumes/com.db/1/snapshots/20250101T120000Z']);
  assert.deepEqual(await wharf(['volume', 'snapshot-rm', 'com.db/1', 'gone']), { code: 1, stdout: '', stderr: 'wharf: volume of set com.db/1 has no snapshot gone\n' });
});

test('volume inspect: size, usage and snapshots', async () => {
  const r = await wharf(['volume', 'inspect', 'com.db/1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Set: +com\.db\/1$/m);
  assert.match(r.stdout, /^Host: +h1$/m);
  assert.match(r.stdout, /^Driver: +btrfs$/m);
  assert.match(r.stdout, /^Size: +2Gi \(the set's resources\.disk\)$/m);
  assert.match(r.stdout, /^Used: +512Mi \(25%\)$/m);
  assert.match(r.stdout, /^Snapshots:\n {2}NAME +CREATED +USED\n {2}pre +\S+ ago +512Mi$/m);
  const yaml = await wharf(['volume', 'inspect', 'com.db/1', '-o', 'yaml']);
  assert.match(yaml.stdout, /^size: 2147483648$/m);
  assert.deepEqual(await wharf(['volume', 'inspect', 'com.nope/1']), { code: 1, stdout: '', stderr: 'wharf: set com.nope/1 not found\n' });
});

test('volume export: to a file with progress on stderr, or to stdout', async () => {
  const file = join(dir, 'db-1.tar');
  const r = await wharf(['volume', 'export', 'com.db/1', '-o', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.deepEqual(readFileSync(file), server.exportData);
  assert.ok(!existsSync(`${file}.part`));
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines[0], 'com.db/1: 0 of 200Ki (0%)');
  assert.equal(lines.at(-2), 'com.db/1: 200Ki of 200Ki (100%)');
  assert.equal(lines.at(-1), `volume of set com.db/1 exported to ${file} (200Ki)`);

  const out = await wharf(['volume', 'export', 'com.db/1', '-o', '-']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.length, server.exportData.length);
  const nowhere = await wharf(['volume', 'export', 'com.db/1', '-o', join(dir, 'no', 'such', 'dir.tar')]);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /^wharf: ENOENT/);
  const missing = await wharf(['volume', 'export', 'com.nope/1', '-o', join(dir, 'x.tar')]);
  assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'wharf: set com.nope/1 not found\n' });
  assert.ok(!existsSync(join(dir, 'x.tar.part')));
});

test('volume trash ls, restore and purge', async () => {
  server.hosts.set('h2', fakeHost('h2', { networks: [] }));
  server.trash = [trash({ trashId: 't1' }), trash({ trashId: 't2', id: '8', used: 100 * MiB }), trash({ trashId: 't3', appkey: 'com.web' }), trash({ trashId: 'u1', host: 'h2', tenant: 'team-a' })];
  server.unreachableHosts = ['h9'];
  const ls = await wharf(['volume', 'trash', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.equal(ls.stderr, 'warning: host h9 did not answer; its recycle bin is not listed\n');
  const lines = ls.stdout.trimEnd().split('\n');
  assert.deepEqual(columns(lines[0]), ['ID', 'SET', 'DRIVER', 'USED', 'QUOTA', 'DELETED', 'PURGED IN']);
  assert.deepEqual(columns(lines[1]), ['h1/t1', 'com.db/7', 'btrfs', '300Mi', '1Gi', '60m ago', '2d23h']);
  assert.equal(lines.length, 4);
  server.unreachableHosts = [];
  const other = await sent(() => wharf(['--tenant', 'team-a', 'volume', 'trash', 'ls', '--host', 'h2', '-o', 'json']));
  assert.equal(other.requests[0]?.url, '/v1/trash?host=h2&tenant=team-a');
  assert.deepEqual((JSON.parse(other.result.stdout) as TrashEntry[]).map((e) => e.trashId), ['u1']);
  assert.deepEqual(await wharf(['volume', 'trash', 'ls', '--host', 'h2']), { code: 0, stdout: '', stderr: 'The recycle bin of host h2 is empty.\n' });

  const wrongApp = await wharf(['volume', 'restore', 'h1/t3', '--to', 'com.db/1']);
  assert.deepEqual(wrongApp, { code: 1, stdout: '', stderr: 'wharf: the request is invalid (1 error):\n  appkey: the volume h1/t3 was of app com.web\n' });
  assert.equal((await wharf(['volume', 'restore', 'h1-t1', '--to', 'com.db/1'])).code, 2);
  assert.equal((await wharf(['volume', 'restore', 'h1/t1'])).code, 2);
  const r = await sent(() => wharf(['volume', 'restore', 'h1/t1', '--to', 'com.db/1']));
  assert.deepEqual(r.result, { code: 0, stdout: 'volume h1/t1 restored into set com.db/1 (300Mi)\n', stderr: '' });
  assert.deepEqual([r.requests[0]?.url, JSON.parse(r.requests[0]?.body ?? '')], ['/v1/trash/h1/t1/restore', { appkey: 'com.db', id: '1' }]);

  const both = await wharf(['volume', 'purge', 'h1/t2', '--host', 'h1', '--all']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^error: give either HOST\/TRASHID or --host HOST --all, not both/);
  const noAll = await wharf(['volume', 'purge', '--host', 'h1']);
  assert.equal(noAll.code, 2);
  assert.match(noAll.stderr, /^error: add --all to purge every volume in the recycle bin of h1/);
  assert.equal((await wharf(['volume', 'purge'])).code, 2);
  assert.deepEqual(await wharf(['volume', 'purge', 'h1/t2']), { code: 0, stdout: 'volume h1/t2 purged (100Mi freed)\n', stderr: '' });
  assert.deepEqual(await wharf(['volume', 'purge', 'h1/t2']), { code: 1, stdout: '', stderr: 'wharf: there is no volume t2 in the recycle bin of host h1\n' });
  const all = await sent(() => wharf(['volume', 'purge', '--host', 'h1', '--all']));
  assert.deepEqual(all.result, { code: 0, stdout: '1 volume purged from the recycle bin of host h1 (300Mi freed)\n', stderr: '' });
  assert.deepEqual([all.requests[0]?.method, all.requests[0]?.url], ['DELETE', '/v1/trash/h1']);
  assert.deepEqual(server.trash.map((e) => e.trashId), ['u1']);
});

test('set move: refused while running; --wait follows it until it runs on the new host', async () => {
  setStatus('default/com.db/1', 'running');
  const running = await wharf(['set', 'move', 'com.db/1', '--to', 'h2']);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /wharf: set com\.db\/1 is running on host h1; stop it first: wharf stop set com\.db\/1 --wait\n$/);
  assert.equal((await wharf(['set', 'move', 'com.db/1'])).code, 2);
  setStatus('default/com.db/1', 'stopped');
  const { result, requests } = await sent(() => wharf(['set', 'move', 'com.db/1', '--to', 'h2', '--wait', '--timeout', '10s']));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'set com.db/1 moved to host h2 and running\n');
  const post = requests.find((q) => q.method === 'POST');
  assert.deepEqual([post?.url, JSON.parse(post?.body ?? '')], ['/v1/sets/com.db/1/move', { host: 'h2' }]);
  assert.deepEqual(result.stderr.split('\n').slice(0, 2), ['com.db/1: copying its volume to host h2…', 'com.db/1: volume copied to h2, checksums match']);
  assert.match(result.stderr, /com\.db\/1: running — 1\/1 containers running\n$/);
  assert.equal(server.sets.get('default/com.db/1')?.host, 'h2');
  assert.deepEqual(await wharf(['set', 'move', 'com.db/1', '--to', 'nope']), { code: 1, stdout: '', stderr: 'com.db/1: copying its volume to host nope…\ncom.db/1: not moved\nwharf: host nope not found\n' });
});

test('set move: a lost connection is not a failure; the set is followed until it moved, or a MoveFailed says why not', async () => {
  const key = 'default/com.db/1';
  setStatus(key, 'stopped');
  server.moveBehaviour = 'drop-and-fail';
  server.events.set(key, [{ time: new Date().toISOString(), type: 'Warning', reason: 'MoveFailed', message: 'an old failure' }]);
  const failed = await wharf(['set', 'move', 'com.db/1', '--to', 'h1']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /the connection was lost; the server goes on copying, following the set…\n/);
  assert.match(failed.stderr, /\nwharf: set com\.db\/1 was not moved: move to host h1 failed: checksums differ\n$/);
  assert.equal(server.sets.get(key)?.host, 'h2');

  server.moveBehaviour = 'drop';
  const moved = await wharf(['set', 'move', 'com.db/1', '--to', 'h1']);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(moved.stdout, 'set com.db/1 moved to host h1; starting there\n');
  assert.equal(server.sets.get(key)?.host, 'h1');
  server.moveBehaviour = 'normal';
});

test('get hosts -o wide and describe host show the volume pool', async () => {
  const h1 = server.hosts.get('h1');
  assert.ok(h1);
  h1.host.pool = { driver: 'btrfs', size: 100 * GiB, used: 12 * GiB, free: 88 * GiB, trash: 2 * GiB, trashCount: 3 };
  const wide = await wharf(['get', 'hosts', '-o', 'wide']);
  assert.equal(wide.code, 0, wide.stderr);
  const [header, row1, row2] = wide.stdout.trimEnd().split('\n');
  const at = columns(header).indexOf('POOL');
  assert.equal(columns(row1)[at], 'btrfs 12Gi/100Gi, bin 2Gi (3)');
  assert.equal(columns(row2)[at], '-');
  const page = await wharf(['describe', 'host', 'h1']);
  assert.match(page.stdout, /^Volume pool: +btrfs, 12Gi used of 100Gi, 88Gi free; recycle bin: 3 volumes, 2Gi \(wharf volume trash ls --host h1\)$/m);
});

test('every volume command has --help with examples', async () => {
  for (const args of [
    ['volume'],
    ['volume', 'ls'],
    ['volume', 'inspect'],
    ['volume', 'resize'],
    ['volume', 'snapshot'],
    ['volume', 'snapshots'],
    ['volume', 'snapshot-restore'],
    ['volume', 'snapshot-rm'],
    ['volume', 'export'],
    ['volume', 'trash'],
    ['volume', 'trash', 'ls'],
    ['volume', 'restore'],
    ['volume', 'purge'],
    ['set'],
    ['set', 'move'],
  ]) {
    const r = await wharf([...args, '--help']);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, new RegExp(`^Usage: wharf ${args.join(' ')}`), args.join(' '));
    assert.match(r.stdout, /\nExamples:\n {2}\$ wharf /, args.join(' '));
  }
});
