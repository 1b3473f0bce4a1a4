/**
 * `wharf resize`: the flag parsers and views as units, then the built CLI in a child
 * process against the fake server (exit codes, stdout and stderr as users see them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container, makeSet } from '../testing/fixtures.js';
import { startFakeServer, type FakeServer } from '../testing/fake-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { assess } from '../wait.js';
import { parseBatch } from './common.js';
import { ContainerFlags, batches, describeChange, parseCores, parsePercent, resizedGoal } from './resize.js';

const GiB = 1024 ** 3;
let server: FakeServer;
let dir: string;

function wharf(args: string[]): Promise<CliResult> {
  return runCli(args, { server: server.url, home: dir });
}

/** A set of two containers: web (80% of the CPU) and log (20%); `containers` replaces them. */
function spec(appkey: string, id: number, containers?: unknown[]) {
  return {
    appkey,
    id,
    resources: { cpu: 2, memory: '1Gi', disk: '1Gi' },
    containers: containers ?? [
      { index: 1, image: 'nginx:1', options: { name: 'web', cpu: 80 } },
      { index: 2, image: 'fluent:2', options: { name: 'log', cpu: 20 } },
    ],
  };
}

async function apply(...specs: unknown[]): Promise<void> {
  for (const s of specs) {
    const file = join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify(s));
    const r = await wharf(['apply', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
  }
}

/** Requests the CLI sends while `run` runs. */
async function sent(run: () => Promise<CliResult>): Promise<{ result: CliResult; requests: FakeServer['requests'] }> {
  const from = server.requests.length;
  const result = await run();
  return { result, requests: server.requests.slice(from) };
}

before(async () => {
  server = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'wharf-resize-test-'));
  await apply(spec('com.x', 1));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('flag parsers: cores, percentages, batches', () => {
  assert.equal(parseCores('0.5'), 0.5);
  for (const bad of ['0', '-1', 'two', '2000']) assert.throws(() => parseCores(bad), /expected CPU cores/);
  assert.equal(parsePercent('60'), 60);
  assert.equal(parsePercent('60%'), 60);
  for (const bad of ['0', '101', 'half']) assert.throws(() => parsePercent(bad), /1 to 100/);
  assert.equal(parseBatch('2'), 2);
  assert.equal(parseBatch('25%'), '25%');
  for (const bad of ['0', '0%', '150%', 'x']) assert.throws(() => parseBatch(bad), /number of sets/);
  const seven = [1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual(batches(seven, 3), [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual(batches(seven, '25%'), [[1, 2], [3, 4], [5, 6], [7]]);
  assert.deepEqual(batches([1, 2, 3], '10%'), [[1], [2], [3]]);
});

test('container flags: each percentage belongs to the --container before it', () => {
  const resolve = (steps: [string, string | number][]) => {
    const f = new ContainerFlags();
    for (const [flag, v] of steps) {
      if (flag === 'container') f.container(String(v));
      else f.percent(flag as 'cpu' | 'mem', Number(v));
    }
    return f.resolve();
  };
  assert.deepEqual(resolve([['container', 'web'], ['cpu', 60], ['mem', 40], ['container', 'log'], ['cpu', 40]]), [{ name: 'web', cpu: 60, mem: 40 }, { name: 'log', cpu: 40 }]);
  assert.deepEqual(resolve([['cpu', 60], ['container', 'web']]), [{ name: 'web', cpu: 60 }], 'one container: any order');
  assert.deepEqual(resolve([]), []);
  assert.match(String(resolve([['cpu', 60]])), /write --container NAME before them/);
  assert.match(String(resolve([['cpu', 60], ['container', 'web'], ['container', 'log'], ['cpu', 40]])), /write --container NAME before them/);
  assert.equal(resolve([['container', 'web']]), '--container web needs --cpu-pct or --mem-pct');
  assert.equal(resolve([['container', 'web'], ['cpu', 1], ['container', 'web'], ['mem', 1]]), '--container web is given twice');
  assert.throws(() => resolve([['container', 'web'], ['cpu', 60], ['cpu', 70]]), /--cpu-pct is given twice for container web/);
});

test('describeChange and the --wait goal: the limits the new spec resolves to', () => {
  const was = makeSet();
  const now = makeSet({
    generation: 2,
    resources: { ...was.resources, cpu: 4, memory: 2 * GiB },
    spec: { ...was.spec, resources: { cpu: 4, memory: '2Gi', disk: '10Gi' }, containers: was.spec.containers.map((c) => ({ ...c, options: { ...c.options, cpu: c.options.name === 'web' ? 70 : 30 } })) },
  });
  assert.equal(describeChange(was, now), 'cpu 2 → 4 cores, memory 1Gi → 2Gi, web cpu 80% → 70%, log cpu 20% → 30%');
  assert.equal(describeChange(was, was), 'no change');

  const goal = resizedGoal(now);
  assert.deepEqual(goal, {
    kind: 'resized',
    generation: 2,
    limits: [{ name: 'web', nanoCpus: 2.8e9, memory: GiB }, { name: 'log', nanoCpus: 1.2e9, memory: GiB }],
  });
  const memory = { initiallyFailed: false, sawNotFailed: false };
  const old = { ...now, observedGeneration: 1 };
  assert.deepEqual(assess(old, goal, memory), { done: false, failed: false, state: 'running — 0/2 containers at the new limits (agent at generation 1 of 2)' });
  const half = { ...now, observedGeneration: 2, containers: [container({ name: 'web', nanoCpus: 2.8e9, memory: GiB }), container({ name: 'log', index: 2, nanoCpus: 4e8, memory: GiB })] };
  assert.equal(assess(half, goal, memory).state, 'running — 1/2 containers at the new limits');
  const all = { ...half, containers: [half.containers[0]!, container({ name: 'log', index: 2, nanoCpus: 1.2e9, memory: GiB })] };
  assert.equal(assess(all, goal, memory).done, true);
  assert.equal(assess({ ...all, status: 'failed' }, goal, memory).failed, true);
});

test('resize SET: sends the request, says what changes; unchanged says so', async () => {
  const { result, requests } = await sent(() => wharf(['resize', 'com.x/1', '--cpu', '4', '--memory', '2Gi']));
  assert.deepEqual(result, { code: 0, stdout: 'resizing com.x/1: cpu 2 → 4 cores, memory 1Gi → 2Gi\n', stderr: '' });
  const post = requests.find((q) => q.method === 'POST');
  assert.deepEqual([post?.url, JSON.parse(post?.body ?? '')], ['/v1/sets/com.x/1/resize', { cpu: 4, memory: 2 * GiB }]);
  assert.deepEqual(await wharf(['resize', 'com.x/1', '--cpu', '4']), { code: 0, stdout: 'set com.x/1 already has that size; nothing changed\n', stderr: '' });
  writeFileSync(join(dir, 'team.json'), JSON.stringify(spec('com.x', 1)));
  assert.equal((await wharf(['--tenant', 'team-a', 'apply', '-f', join(dir, 'team.json')])).code, 0);
  const t = await sent(() => wharf(['resize', 'com.x/1', '--disk', '5Gi', '--tenant', 'team-a']));
  assert.deepEqual(t.result, { code: 0, stdout: 'resizing com.x/1: disk 1Gi → 5Gi\n', stderr: '' });
  assert.deepEqual(t.requests.map((q) => `${q.method} ${q.url}`), ['GET /v1/sets/com.x/1?tenant=team-a', 'POST /v1/sets/com.x/1/resize?tenant=team-a']);
});

test('resize SET --wait: follows the set until its containers report the new limits', async () => {
  const { result, requests } = await sent(() => wharf(['resize', 'com.x/1', '--container', 'web', '--cpu-pct', '70', '--container', 'log', '--cpu-pct', '30', '--wait', '--timeout', '10s']));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'resized com.x/1: web cpu 80% → 70%, log cpu 20% → 30%\n');
  assert.deepEqual(JSON.parse(requests.find((q) => q.method === 'POST')?.body ?? ''), { containers: [{ name: 'web', cpu: 70 }, { name: 'log', cpu: 30 }] });
  assert.equal(result.stderr.trimEnd().split('\n').at(-1), 'com.x/1: running — 2/2 containers at the new limits');
  const web = server.sets.get('default/com.x/1')?.containers.find((c) => c.name === 'web');
  assert.deepEqual([web?.nanoCpus, web?.memory], [2.8e9, GiB]);
});

test('resize SET: refusals exit 1 with what to do', async () => {
  assert.deepEqual(await wharf(['resize', 'com.x/1', '--cpu', '16']), {
    code: 1,
    stdout: '',
    stderr: 'wharf: host h1 cannot fit the new size of set com.x/1: insufficient cpu: requested 16 cores, free 8 cores\n  add --move-if-needed to move the set to a host that fits it\n',
  });
  assert.deepEqual(await wharf(['resize', 'com.x/1', '--container', 'nope', '--cpu-pct', '10']), { code: 1, stdout: '', stderr: 'wharf: set com.x/1 has no container "nope" (it has web, log)\n' });
  assert.deepEqual(await wharf(['resize', 'com.x/1', '--container', 'web', '--cpu-pct', '90']), {
    code: 1,
    stdout: '',
    stderr: 'wharf: the request is invalid (1 error):\n  containers[].options.cpu: percentages sum to 120; they may not exceed 100\n',
  });
  assert.equal((await wharf(['resize', 'com.nope/1', '--cpu', '1'])).stderr, 'wharf: set com.nope/1 not found\n');
});

test('resize SET --move-if-needed --wait: the set moves to a host that fits', async () => {
  const r = await wharf(['resize', 'com.x/1', '--cpu', '16', '--move-if-needed', '--wait', '--timeout', '10s']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'resized com.x/1: cpu 4 → 16 cores (moved from host h1 to h2)\n');
});

test('resize: usage errors exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['resize', 'com.x/1'], /nothing to resize/],
    [['resize', 'com.x/1', '--cpu-pct', '50'], /write --container NAME before them/],
    [['resize', 'com.x/1', '--container', 'web'], /--container web needs --cpu-pct or --mem-pct/],
    [['resize', 'com.x/1', '--cpu', 'lots'], /argument 'lots' is invalid\. expected CPU cores/],
    [['resize', 'com.x/1', '--cpu', '2', '--batch', '2'], /--batch goes with "wharf resize app APPKEY"/],
    [['resize', 'com.x', '--cpu', '2'], /not a set reference.*or "app APPKEY"/],
    [['resize', 'app', '--cpu', '2'], /needs the APPKEY/],
    [['resize', 'com.x/1', 'com.y', '--cpu', '2'], /unexpected "com\.y"/],
  ];
  for (const [args, message] of cases) {
    const r = await wharf(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('resize app: batch by batch, each waited for before the next', async () => {
  await apply(spec('com.a', 1), spec('com.a', 2), spec('com.a', 3));
  const { result, requests } = await sent(() => wharf(['resize', 'app', 'com.a', '--memory', '2Gi', '--batch', '2', '--timeout', '10s']));
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trimEnd().split('\n'), [
    'resized com.a/1: memory 1Gi → 2Gi',
    'resized com.a/2: memory 1Gi → 2Gi',
    'resized com.a/3: memory 1Gi → 2Gi',
    'app com.a resized: 3 sets in 2 batches',
  ]);
  const notes = result.stderr.split('\n');
  assert.deepEqual(notes.filter((l) => !l.startsWith('com.a/')).slice(0, 3), ['resizing 3 sets of app com.a in 2 batches', 'batch 1/2: com.a/1, com.a/2', 'batch 2/2: com.a/3']);
  const at = (method: string, url: string) => requests.findIndex((q) => q.method === method && q.url === url);
  const lastLook = (url: string) => requests.map((q) => `${q.method} ${q.url}`).lastIndexOf(`GET ${url}`);
  assert.ok(at('POST', '/v1/sets/com.a/2/resize') < lastLook('/v1/sets/com.a/1'), 'a batch\'s sets are asked before any is waited for');
  assert.ok(at('POST', '/v1/sets/com.a/3/resize') > lastLook('/v1/sets/com.a/2'), 'the next batch starts once the previous one runs at the new size');
});

test('resize app: stops at the first failure, saying where every set stands', async () => {
  await apply(spec('com.b', 1), spec('com.b', 2, [{ index: 1, image: 'app:1', options: { name: 'app' } }]), spec('com.b', 3));
  const r = await wharf(['resize', 'app', 'com.b', '--container', 'web', '--cpu-pct', '60', '--container', 'log', '--cpu-pct', '40', '--timeout', '10s']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'resized com.b/1: web cpu 80% → 60%, log cpu 20% → 40%\n');
  assert.match(r.stderr, /batch 2\/3: com\.b\/2\n/);
  assert.ok(
    r.stderr.endsWith('wharf: resize of app com.b stopped in batch 2/3 at com.b/2: set com.b/2 has no container "web" (it has app)\n  resized: com.b/1\n  not resized: com.b/3\n'),
    r.stderr,
  );
  assert.deepEqual(await wharf(['resize', 'app', 'com.none', '--cpu', '2']), { code: 1, stdout: '', stderr: 'wharf: app com.none has no sets\n' });
});
