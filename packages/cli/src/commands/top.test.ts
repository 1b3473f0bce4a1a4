/** `wharf top` as a user runs it: the built CLI in a child process against the fake server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startFakeServer, type FakeServer } from '../testing/fake-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { topHost, topSet } from '../testing/top-fixtures.js';
import { parsePositiveInt } from './common.js';

let server: FakeServer;
let dir: string;

function wharf(args: string[]): Promise<CliResult> {
  return runCli(args, { server: server.url, home: dir });
}

before(async () => {
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'wharf-cli-top-'));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('with nothing reported yet: a note on stderr, exit 0', async () => {
  const r = await wharf(['top', 'sets']);
  assert.deepEqual(r, { code: 0, stdout: '', stderr: 'No metrics yet: agents send them with their heartbeats every 10 s.\n' });
  assert.deepEqual(await wharf(['top', 'hosts', '-o', 'json']), { code: 0, stdout: '[]\n', stderr: '' });
});

test('top sets: the server sorts and limits; --sort mem asks for memory; the tenant is passed on', async () => {
  server.topSets.push(
    topSet({ id: '1', set: { cpu: 0.5, memory: 100 * 1024 ** 2, rxBytes: 10 } }),
    topSet({ id: '2', set: { cpu: 1.5, memory: 50 * 1024 ** 2, rxBytes: 5 } }),
    topSet({ appkey: 'com.y', id: '7', set: { cpu: 0.1, memory: 10 } }),
    topSet({ tenant: 'team-a', id: '9' }),
  );
  const all = await wharf(['top', 'sets']);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^APPKEY +ID +HOST +CPU +MEMORY +NET RX\/TX +DISK R\/W +PIDS +VOLUME$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/ +/).slice(0, 2).join('/')), ['com.x/2', 'com.x/1', 'com.y/7']);
  assert.equal(server.requests.at(-1)?.url, '/v1/metrics/sets?sort=cpu');

  const mem = await wharf(['top', 'sets', '--appkey', 'com.x', '--sort', 'mem', '--limit', '1', '-o', 'json']);
  assert.equal(server.requests.at(-1)?.url, '/v1/metrics/sets?appkey=com.x&sort=memory&limit=1');
  assert.deepEqual((JSON.parse(mem.stdout) as { id: string }[]).map((s) => s.id), ['1']);

  const other = await wharf(['--tenant', 'team-a', 'top', 'sets', '-o', 'yaml']);
  assert.deepEqual((parseYaml(other.stdout) as { id: string }[]).map((s) => s.id), ['9']);
  assert.equal(server.requests.at(-1)?.url, '/v1/metrics/sets?sort=cpu&tenant=team-a');
});

test('top hosts: sorted here by share of CPU or memory', async () => {
  server.topHosts.push(topHost({ host: 'big', cpu: 2, cpus: 32, memory: 60 * 1024 ** 3, memoryTotal: 64 * 1024 ** 3 }), topHost({ host: 'small', cpu: 1.5, cpus: 2, memory: 1024 ** 3, memoryTotal: 4 * 1024 ** 3 }));
  const byCpu = await wharf(['top', 'hosts']);
  assert.equal(byCpu.code, 0, byCpu.stderr);
  assert.deepEqual(byCpu.stdout.trimEnd().split('\n').map((l) => l.split(' ')[0]), ['HOST', 'small', 'big']);
  assert.match(byCpu.stdout, /small +1\.5\/2 \(75%\) +1Gi\/4Gi \(25%\)/);
  const byMem = await wharf(['top', 'hosts', '--sort', 'mem']);
  assert.deepEqual(byMem.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(' ')[0]), ['big', 'small']);
});

test('usage errors exit 2', async () => {
  for (const args of [['top', 'sets', '--sort', 'disk'], ['top', 'sets', '--limit', '0'], ['top', 'hosts', '--sort', 'net'], ['top', 'pods']]) {
    const r = await wharf(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.throws(() => parsePositiveInt('x'), /whole number/);
  assert.equal(parsePositiveInt('20'), 20);
});

test('--help shows the columns and examples', async () => {
  const r = await wharf(['top', 'sets', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /NET RX\/TX/);
  assert.match(r.stdout, /\$ wharf top sets -w/);
  assert.match((await wharf(['top', '--help'])).stdout, /wharf top hosts/);
});

test('--watch refreshes every 2 s until Ctrl-C, then exits 0', async () => {
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_')));
  const child = spawn(process.execPath, [main, 'top', 'hosts', '--watch'], { env: { ...env, HOME: dir, WHARF_SERVER: server.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const frames = () => stdout.split('Every 2s: wharf top hosts').length - 1;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    // Generous: two frames take ~2 s, but a loaded machine may be slow to start the child.
    const timer = setTimeout(() => reject(new Error(`no second frame in 30 s: ${stdout}`)), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (frames() >= 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.equal(frames(), 2);
  assert.equal(stdout.includes('\x1b[2J'), false, 'no screen clearing off a terminal');
  assert.match(stdout, /HOST +CPU +MEMORY/);
});
