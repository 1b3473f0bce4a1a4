/**
 * End-to-end-ish: runs the built `dist/main.js` in a child process against a fake
 * wharf-server on 127.0.0.1:0, so exit codes, stdout and stderr are the real ones.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer, type FakeServer } from './testing/fake-server.js';
import { runCli, type CliResult } from './testing/run-cli.js';

let server: FakeServer;
let dir: string;

function wharf(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  return runCli(args, { server: server.url, home: dir, ...opts });
}

const SPEC = {
  version: '1',
  appkey: 'com.x',
  id: 1,
  resources: { cpu: 2, memory: '1Gi' },
  containers: [
    { index: 2, image: 'fluent:2', options: { name: 'log', cpu: 20 } },
    { index: 1, image: 'nginx:1', options: { name: 'web', cpu: 80 } },
  ],
};

before(async () => {
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'wharf-cli-test-'));
  writeFileSync(join(dir, 'set.json'), JSON.stringify(SPEC));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('apply: created, then configured', async () => {
  const first = await wharf(['apply', '-f', join(dir, 'set.json')]);
  assert.deepEqual(first, { code: 0, stdout: 'set com.x/1 created\n', stderr: '' });
  const again = await wharf(['apply', '-f', join(dir, 'set.json')]);
  assert.deepEqual(again, { code: 0, stdout: 'set com.x/1 configured\n', stderr: '' });
  const put = server.requests.find((r) => r.method === 'PUT');
  assert.equal(put?.url, '/v1/sets/com.x/1');
  assert.deepEqual(JSON.parse(put?.body ?? ''), SPEC);
});

test('apply -f - reads YAML from stdin', async () => {
  const yaml = 'appkey: com.y\nid: web-1\ncontainers:\n  - index: 0\n    image: nginx:1\n    options:\n      name: web\n';
  const r = await wharf(['apply', '-f', '-'], { stdin: yaml });
  assert.deepEqual(r, { code: 0, stdout: 'set com.y/web-1 created\n', stderr: '' });
});

test('get sets -o json prints the SetView array as the API returns it', async () => {
  const r = await wharf(['get', 'sets', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const items = JSON.parse(r.stdout) as { appkey: string; id: string; status: string; containers: unknown[] }[];
  assert.deepEqual(items, [...server.sets.values()].map((s) => JSON.parse(JSON.stringify(s)) as unknown));
  assert.deepEqual(
    items.map((s) => `${s.appkey}/${s.id}`),
    ['com.x/1', 'com.y/web-1'],
  );
  for (const s of items) assert.ok(typeof s.status === 'string' && Array.isArray(s.containers));
});

test('get sets --appkey filters and prints a table', async () => {
  const r = await wharf(['get', 'sets', '--appkey', 'com.y']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^APPKEY +ID +STATUS +READY +HOST +AGE$/);
  assert.equal(lines.length, 2);
  assert.match(lines[1] ?? '', /^com\.y +web-1 /);
  assert.ok(server.requests.some((q) => q.url === '/v1/sets?appkey=com.y'));
});

test('validation errors: exit 1, one headline and every field error', async () => {
  const bad = { ...SPEC, appkey: 'com.bad', containers: [{ index: 1, image: 'a', options: { name: 'a', cpu: 0 } }, { index: 2, image: 'b', options: { name: 'b', cpu: 150 } }] };
  writeFileSync(join(dir, 'bad.yaml'), JSON.stringify(bad));
  const r = await wharf(['apply', '-f', join(dir, 'bad.yaml')]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    [`wharf: invalid set spec in ${join(dir, 'bad.yaml')} (2 errors):`, '  containers[0].options.cpu: must be 1..100', '  containers[1].options.cpu: must be 1..100', ''].join('\n'),
  );
});

test('connection refused: one line with the URL and a hint, exit 1', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const r = await wharf(['get', 'sets'], { env: { WHARF_SERVER: url } });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `wharf: cannot reach wharf-server at ${url}: connect ECONNREFUSED 127.0.0.1:${port} (is it running? start it with 'npm start')\n`);
});

test('--server flag beats WHARF_SERVER, config file is the fallback, token is sent', async () => {
  const r = await wharf(['--server', server.url, 'get', 'sets', '-o', 'json', '--token', 's3cret'], { env: { WHARF_SERVER: 'http://127.0.0.1:9' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(server.requests.at(-1)?.authorization, 'Bearer s3cret');

  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ server: server.url, token: 'from-file' }));
  const viaFile = await wharf(['version'], { env: { WHARF_SERVER: '', WHARF_CONFIG: join(dir, 'cfg.json') } });
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.match(viaFile.stdout, /^Client Version: \d+\.\d+\.\d+.*\nServer Version: 0\.1\.0-fake \(revision 7\)\n/);
  assert.equal(server.requests.at(-1)?.authorization, 'Bearer from-file');
});

test('usage errors exit 2 with commander’s message', async () => {
  const unknown = await wharf(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error: unknown command 'frobnicate'/);
  const flag = await wharf(['get', 'sets', '--nope']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^error: unknown option '--nope'/);
  const ref = await wharf(['describe', 'set', 'no-slash']);
  assert.equal(ref.code, 2);
  assert.match(ref.stderr, /no-slash.*expected APPKEY\/ID/);
});

test('--help shows examples and exits 0', async () => {
  const r = await wharf(['apply', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: wharf apply \[options\]/);
  assert.match(r.stdout, /Examples:\n {2}\$ wharf apply -f web\.yaml/);
});

test('apply --wait follows the set until it runs (line per change off a TTY)', async () => {
  const spec = { ...SPEC, appkey: 'com.w' };
  writeFileSync(join(dir, 'w.json'), JSON.stringify(spec));
  const r = await wharf(['apply', '-f', join(dir, 'w.json'), '--wait', '--timeout', '10s']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'set com.w/1 created\n');
  assert.equal(
    r.stderr,
    [
      'com.w/1: pending — 0/2 containers running (agent at generation 0 of 1)',
      'com.w/1: starting — 1/2 containers running',
      'com.w/1: running — 2/2 containers running',
      '',
    ].join('\n'),
  );
});

test('logs: the first business container by default', async () => {
  const r = await wharf(['logs', 'com.x/1', '--tail', '5']);
  assert.deepEqual(r, { code: 0, stdout: 'log of web\nline 2\n', stderr: '' });
  assert.ok(server.requests.some((q) => q.url === '/v1/sets/com.x/1/logs?container=web&tail=5'));
});

test('delete --wait returns once the set is gone; a missing set is exit 1', async () => {
  const r = await wharf(['delete', 'set', 'com.w/1', '--wait']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'set com.w/1 deleted\n');
  const gone = await wharf(['get', 'set', 'com.w/1']);
  assert.deepEqual(gone, { code: 1, stdout: '', stderr: 'wharf: set com.w/1 not found\n' });
});
