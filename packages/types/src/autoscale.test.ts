import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoscaleErrors, cronMatches, cronTimes, parseCron, parseDurationSeconds, type Cron } from './autoscale.js';

function cron(text: string): Cron {
  const r = parseCron(text);
  assert.ok(r.ok, text);
  return r.cron;
}

const utc = (s: string) => Date.parse(`${s}Z`);

test('cron fields: numbers, *, lists, ranges, steps; Sunday is 0 or 7', () => {
  const c = cron('*/15 9-17 * * 1-5');
  assert.deepEqual([...c.minute], [0, 15, 30, 45]);
  assert.deepEqual([...c.hour], [9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual([...cron('0 0 1,15 * *').dayOfMonth], [1, 15]);
  assert.deepEqual([...cron('0 0 * * 7').dayOfWeek].sort(), [0, 7]);
  assert.deepEqual([...cron('5-20/5 * * * *').minute], [5, 10, 15, 20]);
  assert.deepEqual([...cron('10/20 * * * *').minute], [10, 30, 50]);
});

test('cron errors name the field', () => {
  const cases: [string, RegExp][] = [
    ['0 11 * *', /expected 5 fields/],
    ['60 * * * *', /minute: "60" is outside 0-59/],
    ['0 24 * * *', /hour: "24" is outside 0-23/],
    ['0 0 0 * *', /day-of-month: "0" is outside 1-31/],
    ['0 0 * 13 *', /month/],
    ['0 0 * * 8', /day-of-week/],
    ['*/0 * * * *', /step must be at least 1/],
    ['a * * * *', /minute: "a" is not a number/],
    ['5-2 * * * *', /outside/],
  ];
  for (const [text, re] of cases) {
    const r = parseCron(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, re, text);
  }
});

test('cron matches in a time zone', () => {
  const c = cron('0 11 * * *');
  // 11:00 in Shanghai (UTC+8) is 03:00 UTC.
  assert.equal(cronMatches(c, utc('2026-12-02T03:00:00'), 'Asia/Shanghai'), true);
  assert.equal(cronMatches(c, utc('2026-12-02T11:00:00'), 'Asia/Shanghai'), false);
  assert.equal(cronMatches(c, utc('2026-12-02T11:00:00')), true);
  // New York in winter is UTC-5, in summer UTC-4.
  assert.equal(cronMatches(c, utc('2026-01-15T16:00:00'), 'America/New_York'), true);
  assert.equal(cronMatches(c, utc('2026-07-15T15:00:00'), 'America/New_York'), true);
  assert.deepEqual(cronTimes(c, utc('2026-12-01T00:00:00'), utc('2026-12-03T00:00:00'), 'Asia/Shanghai').map((t) => new Date(t).toISOString()), [
    '2026-12-01T03:00:00.000Z', '2026-12-02T03:00:00.000Z',
  ]);
});

test('cron: day-of-month and day-of-week both restricted means either', () => {
  const c = cron('0 0 1 * 1');
  assert.equal(cronMatches(c, utc('2026-12-01T00:00:00')), true); // the 1st, a Tuesday
  assert.equal(cronMatches(c, utc('2026-12-07T00:00:00')), true); // a Monday
  assert.equal(cronMatches(c, utc('2026-12-08T00:00:00')), false);
  assert.equal(cronMatches(cron('0 0 * * 1'), utc('2026-12-01T00:00:00')), false);
});

test('durations and autoscale checks with field names', () => {
  assert.equal(parseDurationSeconds('3h'), 10_800);
  assert.equal(parseDurationSeconds('90m'), 5400);
  assert.ok(Number.isNaN(parseDurationSeconds('3 hours')));
  assert.deepEqual(autoscaleErrors({ min: 2, max: 40, schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 }] }), []);
  assert.deepEqual(autoscaleErrors({
    min: 5, max: 2, metrics: [{ name: 'qps', target: 1 }, { name: 'qps', target: 2 }],
    schedules: [{ cron: '0 25 * * *', timezone: 'Mars/Olympus', duration: '0h', min: 9, max: 3 }, { cron: '0 1 * * *', duration: '1h' }],
  }), [
    { path: 'max', message: 'must be at least min (5)' },
    { path: 'schedules[0].cron', message: 'hour: "25" is outside 0-23' },
    { path: 'schedules[0].timezone', message: '"Mars/Olympus" is not an IANA time zone (e.g. Asia/Shanghai)' },
    { path: 'schedules[0].max', message: 'must be at least min (9)' },
    { path: 'schedules[0].duration', message: 'must be longer than 0' },
    { path: 'schedules[1]', message: 'give min, max or both' },
    { path: 'metrics[1].name', message: '"qps" is listed twice' },
  ]);
});
