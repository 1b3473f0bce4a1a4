import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeGcSchedule, nextGcRun, parseGcSchedule } from './gc-schedule.js';

test('--registry-gc: off, a time of day, an interval of at least 10m; anything else named', () => {
  assert.deepEqual(parseGcSchedule('off'), { kind: 'off' });
  assert.deepEqual(parseGcSchedule('03:30'), { kind: 'daily', minute: 210 });
  assert.deepEqual(parseGcSchedule('6h'), { kind: 'every', ms: 6 * 3_600_000 });
  for (const bad of ['24:00', '3:60', '5m', 'sometimes', '']) assert.throws(() => parseGcSchedule(bad), /--registry-gc: ".*" is not off, a time of day/, bad);
  assert.deepEqual(['off', '3:05', '90m', '1d'].map((s) => describeGcSchedule(parseGcSchedule(s))), ['off', 'daily at 03:05', 'every 90m', 'every 24h']);
});

test('the next run: today or tomorrow at the time; an interval from the last run, never in the past', () => {
  const now = new Date(2026, 0, 10, 12, 0, 0);
  assert.equal(nextGcRun(parseGcSchedule('13:15'), now)?.getTime(), new Date(2026, 0, 10, 13, 15).getTime());
  assert.equal(nextGcRun(parseGcSchedule('03:00'), now)?.getTime(), new Date(2026, 0, 11, 3, 0).getTime());
  assert.equal(nextGcRun(parseGcSchedule('12:00'), now)?.getTime(), new Date(2026, 0, 11, 12, 0).getTime());
  const every = parseGcSchedule('6h');
  assert.equal(nextGcRun(every, now)?.getTime(), now.getTime() + 6 * 3_600_000);
  assert.equal(nextGcRun(every, now, new Date(now.getTime() - 3_600_000))?.getTime(), now.getTime() + 5 * 3_600_000);
  assert.equal(nextGcRun(every, now, new Date(now.getTime() - 7 * 3_600_000))?.getTime(), now.getTime());
  assert.equal(nextGcRun(parseGcSchedule('off'), now), undefined);
});
