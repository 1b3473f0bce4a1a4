/**
 * `wharf rollout`: the parsers and views, the follower with a fake client and
 * clock, and the built CLI in child processes against a small fake server whose
 * pretend controller moves a rollout one step on every GET of it. The spawned
 * tests run in order and build on each other's rollouts.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rollout, RolloutRequest } from '@wharf/types';
import { progressLine, renderHistory, renderRollout } from '../format/rollouts.js';
import { recordingProgress } from '../progress.js';
import { iso, T0 } from '../testing/fixtures.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { parseBatch, parsePositiveInt } from './common.js';
import { followRollout, parseBatchTimeout, rolloutRequest } from './rollout.js';
import { sendError, sendJson, startRouteServer, type RecordedRequest } from '../testing/route-server.js';

function rollout(over: Partial<Rollout> = {}): Rollout {
  return {
    tenant: 'default', appkey: 'com.x', number: 3, container: 'web', image: 'img:2',
    batchSize: 2, maxUnavailable: 2, pauseAfterFirst: false, autoRollback: true, timeoutSeconds: 300,
    state: 'running', batch: 1, batches: 2, batchStartedAt: iso(T0 - 30_000),
    targets: [
      { id: '1', from: 'img:1', state: 'updated', batch: 1 },
      { id: '2', from: 'img:1', state: 'updating', batch: 1 },
      { id: '3', from: 'img:1', state: 'waiting' },
      { id: '4', from: 'img:1', state: 'waiting' },
    ],
    createdAt: iso(T0 - 60_000), updatedAt: iso(T0 - 30_000),
    ...over,
  };
}

test('--batch, --timeout and the request built from the flags', () => {
  assert.equal(parseBatch('25%'), '25%');
  assert.equal(parseBatch('3'), 3);
  for (const bad of ['0', '0%', '101%', 'half', '2.5']) assert.throws(() => parseBatch(bad), /a number of sets \(e\.g\. 2\) or a percentage/);
  assert.equal(parseBatchTimeout('5m'), 300);
  assert.equal(parseBatchTimeout('90'), 90);
  assert.throws(() => parseBatchTimeout('2s'), /from 5s to 24h/);
  assert.throws(() => parseBatchTimeout('soon'), /not a duration/);
  assert.equal(parsePositiveInt('2'), 2);
  assert.throws(() => parsePositiveInt('0'), /whole number ≥ 1/);
  assert.deepEqual(rolloutRequest({ container: 'web', image: 'img:2' }), { container: 'web', image: 'img:2' });
  assert.deepEqual(
    rolloutRequest({ container: 'web', image: 'img:2', set: '3', batch: '50%', pauseAfterFirst: true, maxUnavailable: 1, autoRollbackOnFailure: true, timeout: 120 }),
    { container: 'web', image: 'img:2', set: '3', batch: '50%', pauseAfterFirst: true, maxUnavailable: 1, autoRollback: true, timeoutSeconds: 120 },
  );
});

test('progress line: a bar of updated sets, the batch and the state; rollbacks count sets rolled back', () => {
  assert.equal(progressLine(rollout()), 'rollout 3 of com.x: [█████░░░░░░░░░░░░░░░] 1/4 updated · batch 1/2 · running');
  const back = rollout({
    state: 'rolling-back', batch: 1, batches: 1, message: 'batch 1/2 failed: set 2: image img:2 not found; rolling back',
    targets: [
      { id: '1', from: 'img:1', state: 'rolled-back', batch: 1 },
      { id: '2', from: 'img:1', state: 'rolling-back', batch: 1 },
      { id: '3', from: 'img:1', state: 'waiting' },
    ],
  });
  assert.equal(progressLine(back), 'rollout 3 of com.x: [██████████░░░░░░░░░░] 1/2 rolled back · rollback batch 1/1 · rolling-back (batch 1/2 failed: set 2: image img:2 not found; rolling back)');
});

test('status page and history table', () => {
  const page = renderRollout(rollout({ message: 'batch 2 waits: 1 set of the app is not ready (4) and at most 1 may be' }), T0);
  assert.deepEqual(page.split('\n'), [
    'Rollout:   3 of com.x',
    'Container: web → img:2',
    'State:     running, batch 1/2',
    'Progress:  [█████░░░░░░░░░░░░░░░] 1/4 updated',
    'Message:   batch 2 waits: 1 set of the app is not ready (4) and at most 1 may be',
    'Batches:   2 sets each, at most 2 not ready, timeout 5m',
    'Options:   roll back on failure',
    'Created:   2025-01-01T11:59:00.000Z (60s ago)',
    '',
    'SET   FROM    STATE      BATCH   MESSAGE',
    '1     img:1   updated    1       <none>',
    '2     img:1   updating   1       <none>',
    '3     img:1   waiting    -       <none>',
    '4     img:1   waiting    -       <none>',
  ]);
  const done = rollout({ number: 4, state: 'succeeded', batch: 2, finishedAt: iso(T0 - 5000), targets: rollout().targets.map((t) => ({ ...t, state: 'updated' as const })) });
  assert.deepEqual(renderHistory([done, rollout()], T0).split('\n'), [
    'NUMBER   CONTAINER   IMAGE   STATE       SETS          CREATED   FINISHED',
    '4        web         img:2   succeeded   4/4 updated   60s       5s',
    '3        web         img:2   running     1/4 updated   60s       -',
  ]);
});

test('following a rollout: progress on every change, until it ends', async () => {
  const script = [rollout(), rollout(), rollout({ batch: 2, targets: rollout().targets.map((t) => ({ ...t, state: 'updated' as const })), state: 'succeeded' })];
  let polls = 0;
  const client = { getRollout: async () => script[Math.min(polls++, script.length - 1)] as Rollout };
  const sleeps: number[] = [];
  const progress = recordingProgress();
  const r = await followRollout({ client, clock: { now: () => T0, sleep: async (ms) => void sleeps.push(ms) }, progress, appkey: 'com.x', number: 3 });
  assert.equal(r.state, 'succeeded');
  assert.deepEqual(progress.lines, ['rollout 3 of com.x: [█████░░░░░░░░░░░░░░░] 1/4 updated · batch 1/2 · running']);
  assert.deepEqual(progress.final, { ok: true, text: 'rollout 3 of com.x: [████████████████████] 4/4 updated · batch 2/2 · succeeded' });
  assert.deepEqual(sleeps, [200, 200]);
});

/** A stand-in for the rollout routes: four sets 1–4 on img:1; an image named `…missing…` fails to pull. */
async function startFakeRolloutServer() {
  const rollouts: Rollout[] = [];
  const pausedOnce = new Set<number>();
  const send = sendJson;
  const error = sendError;
  const active = (r: Rollout | undefined) => r !== undefined && ['running', 'paused', 'rolling-back'].includes(r.state);

  /** The pretend controller: one step. */
  function step(r: Rollout): void {
    const now = new Date().toISOString();
    if (r.state === 'rolling-back') {
      for (const t of r.targets) if (t.batch !== undefined) t.state = 'rolled-back';
      Object.assign(r, { state: 'rolled-back', finishedAt: now, message: `${r.message?.replace(/; rolling back$/, '')}; rolled back` });
      return;
    }
    if (r.state !== 'running') return;
    const updating = r.targets.filter((t) => t.state === 'updating');
    if (updating.length > 0) {
      const bad = r.image.includes('missing');
      for (const t of updating) Object.assign(t, bad ? { state: 'failed', message: `image ${r.image} not found` } : { state: 'updated' });
      if (!bad) return;
      const cause = `batch ${r.batch}/${r.batches} failed: ${updating.map((t) => `set ${t.id}: image ${r.image} not found`).join('; ')}`;
      Object.assign(r, r.autoRollback ? { state: 'rolling-back', message: `${cause}; rolling back`, batch: 1, batches: 1 } : { state: 'failed', message: cause, finishedAt: now });
      return;
    }
    const waiting = r.targets.filter((t) => t.state === 'waiting');
    if (waiting.length === 0) {
      Object.assign(r, { state: 'succeeded', finishedAt: now, message: `${r.targets.length} sets run ${r.image}` });
    } else if (r.pauseAfterFirst && r.batch === 1 && !pausedOnce.has(r.number)) {
      pausedOnce.add(r.number);
      Object.assign(r, { state: 'paused', message: 'paused after the first batch; resume to go on' });
    } else {
      r.batch++;
      for (const t of waiting.slice(0, r.batchSize)) Object.assign(t, { state: 'updating', batch: r.batch });
    }
  }

  function start(appkey: string, req: RolloutRequest): Rollout {
    const ids = req.set !== undefined ? [req.set] : ['1', '2', '3', '4'];
    const batch = req.batch ?? '25%';
    const batchSize = typeof batch === 'number' ? batch : Math.ceil((ids.length * parseInt(batch, 10)) / 100);
    const now = new Date().toISOString();
    const r: Rollout = {
      tenant: 'default', appkey, number: rollouts.length + 1, container: req.container, image: req.image, ...(req.set !== undefined ? { set: req.set } : {}),
      batchSize, maxUnavailable: req.maxUnavailable ?? batchSize, pauseAfterFirst: req.pauseAfterFirst ?? false, autoRollback: req.autoRollback ?? false,
      timeoutSeconds: req.timeoutSeconds ?? 300, state: 'running', batch: 0, batches: Math.ceil(ids.length / batchSize),
      targets: ids.map((id) => ({ id, from: 'img:1', state: 'waiting' })), createdAt: now, updatedAt: now,
    };
    rollouts.push(r);
    return r;
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const [v1, apps, appkey, resource, which, action] = url.pathname.split('/').filter(Boolean);
    if (v1 !== 'v1' || apps !== 'apps' || resource !== 'rollouts' || !appkey) return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
    const mine = rollouts.filter((r) => r.appkey === appkey);
    const current = mine.at(-1);
    if (req.method === 'POST' && which === undefined) {
      const r = JSON.parse(body) as RolloutRequest;
      if (appkey !== 'com.x') return error(res, 404, 'APP_NOT_FOUND', `app ${appkey} has no sets in tenant default`);
      if (r.container !== 'web') return error(res, 404, 'CONTAINER_NOT_FOUND', `no set of app ${appkey} has a container "${r.container}"; the containers there are: log, web`);
      if (current && active(current)) return error(res, 409, 'ROLLOUT_IN_PROGRESS', `rollout ${current.number} of app ${appkey} is ${current.state} (web → ${current.image}); wait for it to end or roll it back first`);
      return send(res, 201, start(appkey, r));
    }
    if (req.method === 'GET' && which === undefined) return send(res, 200, [...mine].reverse());
    const r = which === 'current' ? current : mine.find((x) => x.number === Number(which));
    if (!r) return error(res, 404, 'ROLLOUT_NOT_FOUND', `app ${appkey} has no rollout in tenant default`);
    if (req.method === 'GET' && action === undefined) {
      step(r);
      return send(res, 200, r);
    }
    if (req.method === 'POST' && which === 'current') {
      if (action === 'pause' && r.state === 'running') Object.assign(r, { state: 'paused' });
      else if (action === 'resume' && r.state === 'paused') Object.assign(r, { state: 'running', message: undefined });
      else if (action === 'rollback' && !['rolling-back', 'rolled-back'].includes(r.state)) Object.assign(r, { state: 'rolling-back', message: 'rollback requested; rolling back', batch: 0 });
      else return error(res, 409, 'CONFLICT', `rollout ${r.number} of app ${appkey} is ${r.state}; only a ${action === 'pause' ? 'running' : 'paused'} rollout can be ${action}d`.replace('is succeeded', 'has succeeded'));
      return send(res, 200, r);
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }

  const server = await startRouteServer(handle);
  return { ...server, rollouts };
}

describe('wharf rollout (built CLI, fake server)', () => {
  let server: Awaited<ReturnType<typeof startFakeRolloutServer>>;
  let home: string;
  const wharf = (...args: string[]): Promise<CliResult> => runCli(args, { server: server.url, home });
  const lastPost = () => server.requests.filter((r) => r.method === 'POST').at(-1);
  const pick = (r: RecordedRequest | undefined) => r && { method: r.method, url: r.url, body: r.body };

  before(async () => {
    server = await startFakeRolloutServer();
    home = mkdtempSync(join(tmpdir(), 'wharf-rollout-test-'));
  });

  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('start --wait follows the batches with a progress bar and exits 0 when it succeeds', async () => {
    const r = await wharf('rollout', 'start', 'com.x', '--container', 'web', '--image', 'img:2', '--batch', '50%', '--timeout', '5m', '--wait');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(lastPost()?.body ?? ''), { container: 'web', image: 'img:2', batch: '50%', timeoutSeconds: 300 });
    assert.equal(lastPost()?.url, '/v1/apps/com.x/rollouts');
    assert.equal(r.stdout, 'rollout 1 of com.x started: web → img:2 on 4 sets, 2 batches of 2\nrollout 1 of com.x succeeded: 4 sets run img:2\n');
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.includes('rollout 1 of com.x: [░░░░░░░░░░░░░░░░░░░░] 0/4 updated · batch 1/2 · running'), r.stderr);
    assert.ok(lines.includes('rollout 1 of com.x: [██████████░░░░░░░░░░] 2/4 updated · batch 2/2 · running'), r.stderr);
    assert.equal(lines.at(-1), 'rollout 1 of com.x: [████████████████████] 4/4 updated · batch 2/2 · succeeded (4 sets run img:2)');
  });

  it('history lists the rollouts; status shows the current one; a resume of a finished rollout is refused', async () => {
    const h = await wharf('rollout', 'history', 'com.x');
    assert.equal(h.code, 0, h.stderr);
    const [head, row] = h.stdout.trimEnd().split('\n');
    assert.match(head ?? '', /^NUMBER +CONTAINER +IMAGE +STATE +SETS +CREATED +FINISHED$/);
    assert.match(row ?? '', /^1 +web +img:2 +succeeded +4\/4 updated +\d+s +\d+s$/);
    const s = await wharf('rollout', 'status', 'com.x');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^State: +succeeded, batch 2\/2$/m);
    assert.match(s.stdout, /^SET +FROM +STATE +BATCH +MESSAGE\n1 +img:1 +updated +1 +<none>$/m);
    const json = await wharf('rollout', 'status', 'com.x', '-o', 'json');
    assert.equal((JSON.parse(json.stdout) as Rollout).state, 'succeeded');
    const resume = await wharf('rollout', 'resume', 'com.x');
    assert.deepEqual([resume.code, resume.stderr], [1, 'wharf: rollout 1 of app com.x has succeeded; only a paused rollout can be resumed\n']);
  });

  it('a failing batch with --auto-rollback-on-failure: exit 1 once it is rolled back, saying why', async () => {
    const r = await wharf('rollout', 'start', 'com.x', '--container', 'web', '--image', 'img:missing', '--auto-rollback-on-failure', '--wait');
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(lastPost()?.body ?? ''), { container: 'web', image: 'img:missing', autoRollback: true });
    assert.match(r.stderr, /^wharf: rollout 2 of com\.x was rolled back: batch 1\/4 failed: set 1: image img:missing not found; rolled back\n {2}details: wharf rollout status com\.x\n$/m);
    assert.equal(server.rollouts[1]?.state, 'rolled-back');
  });

  it('--pause-after-first; status --watch stops at the pause; resume, pause and rollback print the new state', async () => {
    const r = await wharf('rollout', 'start', 'com.x', '--container', 'web', '--image', 'img:3', '--batch', '1', '--pause-after-first', '--max-unavailable', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'rollout 3 of com.x started: web → img:3 on 4 sets, 4 batches of 1\n');
    assert.equal(r.stderr, 'follow it with: wharf rollout status com.x --watch\n');
    assert.deepEqual(JSON.parse(lastPost()?.body ?? ''), { container: 'web', image: 'img:3', batch: 1, pauseAfterFirst: true, maxUnavailable: 1 });

    const busy = await wharf('rollout', 'start', 'com.x', '--container', 'web', '--image', 'img:4');
    assert.deepEqual([busy.code, busy.stderr], [1, 'wharf: rollout 3 of app com.x is running (web → img:3); wait for it to end or roll it back first\n']);

    const watch = await wharf('rollout', 'status', 'com.x', '--watch');
    assert.equal(watch.code, 0, watch.stderr);
    assert.match(watch.stdout, /^State: +paused, batch 1\/4$/m);
    assert.match(watch.stdout, /^Message: +paused after the first batch; resume to go on$/m);

    assert.equal((await wharf('rollout', 'resume', 'com.x')).stdout, 'rollout 3 of com.x resumed (running)\n');
    assert.equal((await wharf('rollout', 'pause', 'com.x')).stdout, 'rollout 3 of com.x paused (1/4 batches started)\n');
    assert.deepEqual(pick(lastPost()), { method: 'POST', url: '/v1/apps/com.x/rollouts/current/pause', body: '' });
    const back = await wharf('rollout', 'rollback', 'com.x');
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'rollout 3 of com.x rolling back (4 batches of up to 1)\n');
    const watchBack = await wharf('rollout', 'status', 'com.x', '--watch');
    assert.equal(watchBack.code, 1, 'a watched rollout that ends rolled back is a failure');
    assert.match(watchBack.stdout, /^State: +rolled-back/m);
    assert.equal(watchBack.stderr.trimEnd().split('\n').at(-1), 'wharf: rollout 3 of com.x was rolled back');
  });

  it('--set sends the one set', async () => {
    const r = await wharf('rollout', 'start', 'com.x', '--container', 'web', '--image', 'img:5', '--set', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'rollout 4 of com.x started: web → img:5 on set 3, 1 batch of 1\n');
    assert.deepEqual(JSON.parse(lastPost()?.body ?? ''), { container: 'web', image: 'img:5', set: '3' });
  });

  it('what cannot be done is said: usage errors exit 2, API errors exit 1', async () => {
    for (const args of [['--image', 'img:2'], ['--container', 'web', '--image', 'i', '--batch', '0%'], ['--container', 'web', '--image', 'i', '--timeout', '2s']]) {
      const r = await wharf('rollout', 'start', 'com.x', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    const missing = await wharf('rollout', 'start', 'com.x', '--container', 'db', '--image', 'db:2');
    assert.deepEqual([missing.code, missing.stderr], [1, 'wharf: no set of app com.x has a container "db"; the containers there are: log, web\n']);
    const none = await wharf('rollout', 'status', 'com.none');
    assert.deepEqual([none.code, none.stderr], [1, 'wharf: app com.none has no rollout in tenant default\n']);
    const empty = await wharf('rollout', 'history', 'com.none');
    assert.deepEqual([empty.code, empty.stdout, empty.stderr], [0, '', 'app com.none has had no rollout\n']);
  });
});
