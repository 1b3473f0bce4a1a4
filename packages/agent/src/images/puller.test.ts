import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FakeEngine } from '../docker/fake-engine.js';
import { ImagePuller, ImagePullError, type PullEvent, type PullSubscriber } from './puller.js';

const log = pino({ level: 'silent' });

/** A subscriber recording the messages it gets. */
function listener(key: string): PullSubscriber & { messages: string[] } {
  const messages: string[] = [];
  return { key, messages, onEvent: (e: PullEvent) => messages.push(e.message) };
}

/** Pulls held until released, by image. */
function gate(engine: FakeEngine): { release(image: string): void; waiting: Set<string>; running: () => number } {
  const held = new Map<string, () => void>();
  const waiting = new Set<string>();
  engine.pullGate = (image) => new Promise<void>((resolve) => {
    waiting.add(image);
    held.set(image, () => {
      waiting.delete(image);
      resolve();
    });
  });
  return { release: (image) => held.get(image)?.(), waiting, running: () => waiting.size };
}

const tick = () => new Promise((r) => setImmediate(r));

test('puller: an image on the host is not pulled; one that is not is pulled once however many ask', async () => {
  const engine = new FakeEngine(['have:1']);
  engine.registry.add('app:1');
  const puller = new ImagePuller({ engine, log });
  assert.equal(await puller.ensure('have:1'), false);
  const g = gate(engine);
  const a = listener('t/a/1');
  const b = listener('t/a/2');
  const first = puller.ensure('app:1', [a]);
  const second = puller.ensure('app:1', [a]);
  await tick();
  assert.deepEqual(puller.pulling(), ['app:1']);
  // A set that comes while the pull runs is told it is under way.
  const third = puller.ensure('app:1', [b]);
  await tick();
  g.release('app:1');
  assert.deepEqual(await Promise.all([first, second, third]), [true, true, true]);
  assert.deepEqual(engine.calls, ['pull app:1']);
  assert.deepEqual(puller.pulling(), []);
  assert.equal(a.messages[0], 'Pulling image app:1');
  assert.equal(a.messages.filter((m) => m.startsWith('Pulled')).length, 1, a.messages.join('\n'));
  assert.deepEqual(b.messages.map((m) => m.replace(/ in .*/, '')), a.messages.map((m) => m.replace(/ in .*/, '')));
});

test('puller: at most `concurrency` pulls at once; the others wait their turn', async () => {
  const engine = new FakeEngine();
  for (const i of ['a:1', 'b:1', 'c:1']) engine.registry.add(i);
  const g = gate(engine);
  const puller = new ImagePuller({ engine, log, concurrency: 2 });
  const all = Promise.all(['a:1', 'b:1', 'c:1'].map((i) => puller.ensure(i)));
  await tick();
  assert.deepEqual([...g.waiting], ['a:1', 'b:1']);
  g.release('a:1');
  for (let i = 0; i < 10 && !g.waiting.has('c:1'); i++) await tick();
  assert.deepEqual([...g.waiting].sort(), ['b:1', 'c:1']);
  g.release('b:1');
  g.release('c:1');
  await all;
  assert.deepEqual([...engine.images].sort(), ['a:1', 'b:1', 'c:1']);
});

test('puller: a failed image is not pulled again before its back-off (5 s, doubling, bounded) has passed', async () => {
  const engine = new FakeEngine();
  let now = 1_000_000;
  const puller = new ImagePuller({ engine, log, now: () => now, maxBackoffMs: 12_000 });
  const failure = async () => {
    const err = await puller.ensure('gone:1').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ImagePullError, String(err));
    return err;
  };
  const first = await failure();
  assert.equal(first.message, 'cannot pull image gone:1: pull access denied for gone:1: no such host');
  assert.equal(first.retryAt, now + 5_000);
  assert.equal((await failure()).message, first.message, 'the same reason while it waits');
  assert.deepEqual(engine.calls, ['pull gone:1']);
  now += 5_000;
  assert.equal((await failure()).retryAt, now + 10_000);
  now += 10_000;
  assert.equal((await failure()).retryAt, now + 12_000, 'at most maxBackoffMs');
  assert.equal(engine.calls.length, 3);
  // Once it can be had, the next try after the back-off gets it, and the streak is over.
  engine.registry.add('gone:1');
  now += 12_000;
  assert.equal(await puller.ensure('gone:1'), true);
  // An image that appears on the host (loaded by hand) is there at once, back-off or not.
  const other = await puller.ensure('elsewhere:1').catch((e: unknown) => e);
  assert.ok(other instanceof ImagePullError);
  engine.images.add('elsewhere:1');
  assert.equal(await puller.ensure('elsewhere:1'), false);
});

test('puller: through a mirror, the image is named as asked and the mirror name dropped; a failing mirror falls back to the upstream', async () => {
  const engine = new FakeEngine();
  engine.registry.add('10.0.0.5:5001/team/app:1');
  const mirrorFor = async (image: string) => (image.startsWith('up.internal:5000/') ? image.replace('up.internal:5000', '10.0.0.5:5001') : undefined);
  const puller = new ImagePuller({ engine, log, mirrorFor });
  const l = listener('t/a/1');
  await puller.ensure('up.internal:5000/team/app:1', [l]);
  assert.deepEqual(engine.calls, ['pull 10.0.0.5:5001/team/app:1', 'tag 10.0.0.5:5001/team/app:1 up.internal:5000/team/app:1', 'rmi 10.0.0.5:5001/team/app:1']);
  assert.deepEqual([...engine.images], ['up.internal:5000/team/app:1']);
  assert.equal(l.messages[0], 'Pulling image up.internal:5000/team/app:1 from the mirror 10.0.0.5:5001');
  assert.match(l.messages.at(-1) ?? '', /^Pulled image up\.internal:5000\/team\/app:1 in /);

  engine.calls.length = 0;
  engine.registry.add('up.internal:5000/team/app:2');
  await puller.ensure('up.internal:5000/team/app:2');
  assert.deepEqual(engine.calls.filter((c) => c.startsWith('pull')), ['pull 10.0.0.5:5001/team/app:2', 'pull up.internal:5000/team/app:2']);
  assert.ok(engine.images.has('up.internal:5000/team/app:2'));

  const err = await puller.ensure('up.internal:5000/team/none:1').catch((e: unknown) => e);
  assert.ok(err instanceof ImagePullError);
  assert.equal(err.reason, 'pull access denied for up.internal:5000/team/none:1: no such host (through the mirror: pull access denied for 10.0.0.5:5001/team/none:1: no such host)');
});

test('puller: a pre-pull runs in the background and keeps its failure to itself; close() cancels what runs', async () => {
  const engine = new FakeEngine();
  engine.registry.add('app:1');
  const puller = new ImagePuller({ engine, log });
  const l = listener('t/a/1');
  puller.prePull('app:1', [l]);
  puller.prePull('gone:1', [l]);
  for (let i = 0; i < 20 && !engine.images.has('app:1'); i++) await tick();
  assert.ok(engine.images.has('app:1'));
  assert.equal(l.messages.filter((m) => m.startsWith('Pulled image app:1')).length, 1);
  // The set's own reconcile then tells the failure (from the back-off, without pulling again).
  const calls = engine.calls.length;
  await assert.rejects(puller.ensure('gone:1'), /cannot pull image gone:1: pull access denied/);
  assert.equal(engine.calls.length, calls);

  engine.registry.add('late:1');
  const g = gate(engine);
  const late = puller.ensure('late:1');
  await tick();
  puller.close();
  g.release('late:1');
  await assert.rejects(late, /the agent is stopping/);
  puller.prePull('after:1', [l]);
  assert.ok(!engine.calls.includes('pull after:1'));
});
