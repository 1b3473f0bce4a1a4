import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObservedContainer } from '../docker/engine.js';
import { HealthBook } from './book.js';

const REF = 't/app/1';

const exited = (finishedAt: string, over: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: 'c1', dockerName: 't_app_1_web', setRef: REF, tenant: 't', appkey: 'app', setId: '1', name: 'web', role: 'business', index: 0, image: 'app:1',
  state: 'exited', exitCode: 1, oomKilled: false, restartCount: 0, startedAt: '2026-01-01T00:00:00Z', finishedAt, ...over,
});

async function withBook(fn: (book: HealthBook, dir: string, clock: { t: number }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-health-'));
  const clock = { t: Date.parse('2026-01-01T00:01:00Z') };
  const book = new HealthBook(dir, undefined, () => clock.t);
  try {
    await book.load(REF);
    await fn(book, dir, clock);
  } finally {
    await book.flushed();
    await rm(dir, { recursive: true, force: true });
  }
}

test('book: an exit is recorded once; a crash loop backs off 1 s, 2 s, 4 s', () =>
  withBook(async (book, _dir, clock) => {
    const a = book.recordExit(REF, 'web', exited('2026-01-01T00:00:01Z'), { cause: 'exited', policy: 'always' });
    assert.deepEqual(a.lastTermination, { reason: 'Error', exitCode: 1, oomKilled: false, finishedAt: '2026-01-01T00:00:01Z' });
    assert.equal(a.backOffUntil, clock.t + 1_000);
    assert.equal(book.recordExit(REF, 'web', exited('2026-01-01T00:00:01Z'), { cause: 'exited', policy: 'always' }).streak, 1, 'the same exit again: no change');
    book.countRestart(REF, 'web');
    assert.equal(book.recordExit(REF, 'web', exited('2026-01-01T00:00:03Z'), { cause: 'exited', policy: 'always' }).backOffUntil, clock.t + 2_000);
    book.countRestart(REF, 'web');
    const third = book.recordExit(REF, 'web', exited('2026-01-01T00:00:07Z', { exitCode: 0 }), { cause: 'exited', policy: 'always' });
    assert.equal(third.backOffUntil, clock.t + 4_000);
    assert.equal(third.lastTermination?.reason, 'Completed');
    assert.equal(third.restarts, 2);
  }));

test('book: a run of 10 minutes starts a new streak; a policy that does not restart sets no back-off', () =>
  withBook(async (book, _dir, clock) => {
    for (const s of ['01', '02', '03']) book.recordExit(REF, 'web', exited(`2026-01-01T00:00:${s}Z`, { startedAt: '2026-01-01T00:00:00Z' }), { cause: 'exited', policy: 'always' });
    book.markAnnounced(REF, 'web');
    assert.equal(book.get(REF, 'web')?.streak, 3);
    const long = book.recordExit(REF, 'web', exited('2026-01-01T00:20:00Z', { startedAt: '2026-01-01T00:09:00Z' }), { cause: 'exited', policy: 'always' });
    assert.equal(long.streak, 1);
    assert.equal(long.backOffUntil, clock.t + 1_000);
    assert.equal(long.announced, undefined, 'a new streak is announced again');
    const never = book.recordExit(REF, 'side', exited('2026-01-01T00:00:05Z', { id: 'c2' }), { cause: 'exited', policy: 'never' });
    assert.equal(never.backOffUntil, undefined);
    const completed = book.recordExit(REF, 'job', exited('2026-01-01T00:00:05Z', { id: 'c3', exitCode: 0 }), { cause: 'exited', policy: 'on-failure' });
    assert.equal(completed.backOffUntil, undefined);
  }));

test('book: the agent\'s stops and liveness kills', () =>
  withBook(async (book) => {
    const stopped = book.recordExit(REF, 'web', exited('2026-01-01T00:00:01Z', { exitCode: 143 }), { cause: 'stopped', policy: 'never' });
    assert.equal(stopped.byAgent, true);
    assert.equal(stopped.lastTermination?.reason, 'Stopped');
    assert.equal(stopped.backOffUntil, undefined);
    const killed = book.recordExit(REF, 'web', exited('2026-01-01T00:00:09Z', { exitCode: 0 }), { cause: 'unhealthy', policy: 'on-failure', message: 'liveness probe failed 3 times: nope' });
    assert.equal(killed.byAgent, undefined);
    assert.deepEqual(killed.lastTermination, { reason: 'Unhealthy', exitCode: 0, oomKilled: false, finishedAt: '2026-01-01T00:00:09Z', message: 'liveness probe failed 3 times: nope' });
    assert.ok(killed.backOffUntil !== undefined, 'a liveness kill is a failure');

    const running: ObservedContainer = { ...exited('x'), state: 'running', startedAt: 'S1' };
    book.requestKill(REF, 'web', { id: 'c1', startedAt: 'S1', message: 'm' });
    assert.equal(book.pendingKill(REF, 'web', { ...running, startedAt: 'S2' }), undefined, 'a kill of an earlier run is dropped');
    assert.equal(book.pendingKill(REF, 'web', running), undefined);
    book.requestKill(REF, 'web', { id: 'c1', startedAt: 'S1', message: 'm' });
    assert.equal(book.pendingKill(REF, 'web', running)?.message, 'm');
    assert.equal(book.takeKill(REF, 'web')?.message, 'm');
    assert.equal(book.takeKill(REF, 'web'), undefined);
  }));

test('book: kept on disk across agent restarts; dropped with the set', () =>
  withBook(async (book, dir) => {
    book.recordExit(REF, 'web', exited('2026-01-01T00:00:01Z'), { cause: 'exited', policy: 'always' });
    book.countRestart(REF, 'web');
    await book.flushed();
    const file = join(dir, 'health', 't%2Fapp%2F1.json');
    assert.match(await readFile(file, 'utf8'), /"restarts": 1/);
    const again = new HealthBook(dir);
    await again.load(REF);
    assert.equal(again.get(REF, 'web')?.restarts, 1);
    assert.equal(again.get(REF, 'web')?.lastTermination?.reason, 'Error');
    await book.drop(REF);
    await assert.rejects(stat(file), /ENOENT/);
    assert.equal(book.get(REF, 'web'), undefined);
  }));
