import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WharfError, type SetEvent, type SetView } from '@wharf/types';
import { CliError } from './errors.js';
import { recordingProgress } from './progress.js';
import { container, iso, makeSet, T0 } from './testing/fixtures.js';
import { assess, waitForSet, type Clock, type SetSource, type WaitGoal } from './wait.js';

/** A clock whose sleep only moves time forward. */
function fakeClock(start = T0): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** Answers getSet with the scripted views in turn (the last one repeats); an Error is thrown. */
function fakeClient(script: (SetView | Error)[], events: SetEvent[] = []): SetSource & { polls: number } {
  const c = {
    polls: 0,
    async getSet(): Promise<SetView> {
      const next = script[Math.min(c.polls, script.length - 1)];
      c.polls++;
      if (next instanceof Error) throw next;
      if (!next) throw new Error('empty script');
      return structuredClone(next);
    },
    async setEvents(): Promise<SetEvent[]> {
      return events;
    },
  };
  return c;
}

const ref = { appkey: 'com.x', id: '1' };
const starting = (running: number, over: Partial<SetView> = {}): SetView =>
  makeSet({
    status: 'starting',
    containers: [
      container({ name: 'infra', role: 'infra', index: 0 }),
      container({ name: 'web', index: 1, state: running >= 1 ? 'running' : 'created' }),
      container({ name: 'log', index: 2, state: running >= 2 ? 'running' : 'created' }),
    ],
    ...over,
  });

test('apply: succeeds once the agent has seen the generation and the set runs', async () => {
  const clock = fakeClock();
  const progress = recordingProgress();
  const client = fakeClient([
    starting(0, { generation: 2, observedGeneration: 1, status: 'running' }), // old generation still running: not done
    starting(1, { generation: 2, observedGeneration: 2 }),
    starting(1, { generation: 2, observedGeneration: 2 }),
    makeSet({ generation: 2, observedGeneration: 2 }),
  ]);
  const view = await waitForSet({ client, clock, progress, ref, goal: { kind: 'applied' }, timeoutMs: 120_000 });
  assert.equal(view?.status, 'running');
  assert.equal(client.polls, 4);
  assert.deepEqual(clock.sleeps, [200, 200, 200]);
  assert.deepEqual(progress.lines, [
    'com.x/1: running — 0/2 containers running (agent at generation 1 of 2)',
    'com.x/1: starting — 1/2 containers running',
  ]);
  assert.deepEqual(progress.final, { ok: true, text: 'com.x/1: running — 2/2 containers running' });
});

test('apply: a running set whose readiness probes still fail is not done', async () => {
  const clock = fakeClock();
  const progress = recordingProgress();
  const [infra, web, log] = makeSet().containers;
  const client = fakeClient([
    makeSet({ ready: false, containers: [infra!, web!, { ...log!, ready: false }] }),
    makeSet(),
  ]);
  const view = await waitForSet({ client, clock, progress, ref, goal: { kind: 'applied' }, timeoutMs: 120_000 });
  assert.equal(view?.ready, true);
  assert.equal(client.polls, 2);
  assert.deepEqual(progress.lines, ['com.x/1: running — 2/2 containers running, 1/2 ready']);
  assert.deepEqual(progress.final, { ok: true, text: 'com.x/1: running — 2/2 containers running' });
});

test('apply: fails fast with the status message and the last warning', async () => {
  const clock = fakeClock();
  const progress = recordingProgress();
  const events: SetEvent[] = [
    { time: iso(T0 - 30_000), type: 'Warning', reason: 'Old', message: 'older warning' },
    { time: iso(T0 - 5_000), type: 'Warning', reason: 'ImagePullFailed', message: 'no such image nginx:9' },
    { time: iso(T0 - 1_000), type: 'Normal', reason: 'Created', message: 'created infra' },
  ];
  const client = fakeClient(
    [starting(0, { generation: 2, observedGeneration: 2 }), makeSet({ status: 'failed', message: 'image nginx:9 not found', generation: 2, observedGeneration: 2 })],
    events,
  );
  await assert.rejects(
    waitForSet({ client, clock, progress, ref, goal: { kind: 'applied' }, timeoutMs: 120_000 }),
    (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.message, 'set com.x/1 failed: image nginx:9 not found');
      assert.deepEqual(e.lines, ['  last warning (5s ago): ImagePullFailed: no such image nginx:9']);
      return true;
    },
  );
  assert.equal(client.polls, 2, 'no polling after the failure');
  assert.equal(progress.final?.ok, false);
});

test('apply: a failure left over from the previous generation is not fatal', async () => {
  const clock = fakeClock();
  const client = fakeClient([
    makeSet({ status: 'failed', generation: 3, observedGeneration: 2, message: 'old failure' }),
    makeSet({ generation: 3, observedGeneration: 3 }),
  ]);
  const view = await waitForSet({ client, clock, progress: recordingProgress(), ref, goal: { kind: 'applied' }, timeoutMs: 10_000 });
  assert.equal(view?.observedGeneration, 3);
});

test('timeout: says what it waited for and the current state', async () => {
  const clock = fakeClock();
  const progress = recordingProgress();
  const client = fakeClient([starting(1, { message: 'pulling fluent:2' })]);
  await assert.rejects(waitForSet({ client, clock, progress, ref, goal: { kind: 'applied' }, timeoutMs: 1_000 }), (e: unknown) => {
    assert.ok(e instanceof CliError);
    assert.equal(e.message, 'timed out after 1s waiting for com.x/1 to be running at generation 1; it is starting — 1/2 containers running (pulling fluent:2)');
    return true;
  });
  assert.equal(clock.now() - T0, 1_000, 'stops at the deadline, not later');
  assert.equal(client.polls, 6);
  assert.equal(progress.final?.ok, false);
});

test('stop: success when stopped; a set that was failed before the request does not fail fast', async () => {
  const clock = fakeClock();
  const client = fakeClient([makeSet({ status: 'failed' }), makeSet({ status: 'stopping' }), makeSet({ status: 'stopped' })]);
  const view = await waitForSet({
    client,
    clock,
    progress: recordingProgress(),
    ref,
    goal: { kind: 'stopped', since: T0 },
    timeoutMs: 10_000,
    initial: makeSet({ status: 'failed' }),
  });
  assert.equal(view?.status, 'stopped');
});

test('start: fails fast when the set becomes failed', async () => {
  const client = fakeClient([starting(0), makeSet({ status: 'failed', message: 'web exited with code 1' })]);
  await assert.rejects(
    waitForSet({ client, clock: fakeClock(), progress: recordingProgress(), ref, goal: { kind: 'running', since: T0 }, timeoutMs: 10_000, initial: makeSet({ status: 'stopped' }) }),
    /set com\.x\/1 failed: web exited with code 1/,
  );
});

test('restart: waits until every container started after the request and the set runs', async () => {
  const clock = fakeClock();
  const since = T0;
  const before = iso(T0 - 60_000);
  const after = iso(T0 + 100);
  const view = (starts: string[], status: SetView['status'] = 'running'): SetView =>
    makeSet({
      status,
      containers: ['infra', 'web', 'log'].map((name, i) =>
        container({ name, index: i, role: i === 0 ? 'infra' : 'business', startedAt: starts[i] ?? before }),
      ),
    });
  const progress = recordingProgress();
  const client = fakeClient([view([before, before, before]), view([after, before, before], 'starting'), view([after, after, after], 'starting'), view([after, after, after])]);
  const done = await waitForSet({ client, clock, progress, ref, goal: { kind: 'restarted', since }, timeoutMs: 10_000 });
  assert.equal(done?.status, 'running');
  assert.equal(client.polls, 4);
  assert.deepEqual(progress.lines, [
    'com.x/1: running — 0/3 containers restarted',
    'com.x/1: starting — 1/3 containers restarted',
    'com.x/1: starting — 3/3 containers restarted',
  ]);
});

test('delete: done when the server says SET_NOT_FOUND', async () => {
  const progress = recordingProgress();
  const client = fakeClient([
    makeSet({ status: 'deleting' }),
    makeSet({ status: 'deleting', containers: [container({ name: 'infra', role: 'infra', index: 0 })] }),
    new WharfError('SET_NOT_FOUND', 'set com.x/1 not found'),
  ]);
  const view = await waitForSet({ client, clock: fakeClock(), progress, ref, goal: { kind: 'deleted' }, timeoutMs: 10_000 });
  assert.equal(view, undefined);
  assert.deepEqual(progress.lines, ['com.x/1: deleting — 3 containers left', 'com.x/1: deleting — 1 container left']);
  assert.deepEqual(progress.final, { ok: true, text: 'com.x/1: deleted' });
});

test('a set deleted while waiting for something else is an error; other API errors pass through', async () => {
  await assert.rejects(
    waitForSet({ client: fakeClient([new WharfError('SET_NOT_FOUND', 'gone')]), clock: fakeClock(), progress: recordingProgress(), ref, goal: { kind: 'applied' }, timeoutMs: 1_000 }),
    /set com\.x\/1 was deleted while waiting/,
  );
  await assert.rejects(
    waitForSet({ client: fakeClient([new WharfError('FORBIDDEN', 'no')]), clock: fakeClock(), progress: recordingProgress(), ref, goal: { kind: 'applied' }, timeoutMs: 1_000 }),
    (e: unknown) => e instanceof WharfError && e.code === 'FORBIDDEN',
  );
});

test('assess: a stopped set applied with desired stopped is done', () => {
  const goal: WaitGoal = { kind: 'applied' };
  const a = assess(makeSet({ desired: 'stopped', status: 'stopped', containers: [] }), goal, { initiallyFailed: false, sawNotFailed: false });
  assert.equal(a.done, true);
  assert.equal(a.state, 'stopped — 0/2 containers running');
});
