import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WharfError, type SetEvent, type StatusReport } from '@wharf/types';
import { MAX_EVENTS, StatusReporter } from './reporter.js';
import type { ReportedStatus } from './reconciler.js';

const log = pino({ level: 'silent' });
const A = { tenant: 't', appkey: 'app', id: '1' };
const B = { tenant: 't', appkey: 'app', id: '2' };
const status = (phase: ReportedStatus['phase']): { status: ReportedStatus } => ({ status: { phase, observedGeneration: 1, containers: [] } });
const event = (reason: string): SetEvent => ({ time: '2026-01-01T00:00:00Z', type: 'Normal', reason, message: reason });

test('reporter: what is ready in one tick goes out in one POST, at once', async () => {
  const sent: StatusReport[] = [];
  const r = new StatusReporter(async (rep) => void sent.push(rep), log);
  r.update('t/app/1', A, status('running'));
  r.update('t/app/2', B, status('starting'));
  r.addEvent('t/app/1', A, event('Started'));
  // No batching timer: the POST has gone out before any timer could fire.
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  assert.equal(sent.length, 1, 'sent within the same turn of the event loop');
  await r.flushed();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]?.sets.map((s) => [s.id, s.status?.phase, s.events?.length]), [['1', 'running', 1], ['2', 'starting', undefined]]);
  r.close();
});

test('reporter: updates during a POST are coalesced into the next one', async () => {
  const sent: StatusReport[] = [];
  let release!: () => void;
  const r = new StatusReporter(async (rep) => {
    sent.push(rep);
    if (sent.length === 1) await new Promise<void>((res) => (release = res));
  }, log);
  r.update('t/app/1', A, status('starting'));
  await new Promise((res) => setImmediate(res));
  r.update('t/app/1', A, status('starting'));
  r.update('t/app/1', A, status('running'));
  release();
  await r.flushed();
  assert.deepEqual(sent.map((s) => s.sets[0]?.status?.phase), ['starting', 'running']);
  r.close();
});

test('reporter: an unchanged status is not sent again unless forced', async () => {
  const sent: StatusReport[] = [];
  const r = new StatusReporter(async (rep) => void sent.push(rep), log);
  r.update('t/app/1', A, status('running'));
  await r.flushed();
  r.update('t/app/1', A, status('running'));
  await r.flushed();
  assert.equal(sent.length, 1);
  r.update('t/app/1', A, status('running'), true);
  await r.flushed();
  assert.equal(sent.length, 2);
  r.close();
});

test('reporter: events are resent after a failure, capped to the last 50', async () => {
  const sent: StatusReport[] = [];
  let fail = true;
  const r = new StatusReporter(async (rep) => {
    if (fail) throw new Error('connect ECONNREFUSED');
    sent.push(rep);
  }, log);
  for (let i = 0; i < MAX_EVENTS + 10; i++) r.addEvent('t/app/1', A, event(`e${i}`));
  await new Promise((res) => setTimeout(res, 20));
  fail = false;
  await r.flushed();
  const events = sent.flatMap((s) => s.sets.flatMap((x) => x.events ?? []));
  assert.equal(events.length, MAX_EVENTS);
  assert.equal(events[0]?.reason, 'e10');
  r.addEvent('t/app/1', A, event('later'));
  await r.flushed();
  assert.deepEqual(sent.at(-1)?.sets[0]?.events?.map((e) => e.reason), ['later'], 'sent events are not sent twice');
  r.close();
});

test('reporter: a set the server refuses is dropped, the others still go', async () => {
  const sent: string[] = [];
  const r = new StatusReporter(async (rep) => {
    if (rep.sets.some((s) => s.id === '2')) throw new WharfError('SET_NOT_FOUND', 'no such set');
    sent.push(...rep.sets.map((s) => s.id));
  }, log);
  r.update('t/app/1', A, status('running'));
  r.update('t/app/2', B, { deleted: true });
  await r.flushed();
  assert.deepEqual(sent, ['1']);
  r.close();
});
