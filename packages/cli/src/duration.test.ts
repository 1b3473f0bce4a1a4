import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

test('durations: units, combinations and plain seconds', () => {
  const cases: [string, number][] = [
    ['90s', 90_000],
    ['2m', 120_000],
    ['120', 120_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    [' 30s ', 30_000],
    ['0.5', 500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('what is not a positive duration is refused', () => {
  for (const text of ['', 'abc', '5x', '-5s', '2 m', 's', '1d', '0', '0s']) {
    assert.throws(() => parseDuration(text), /not a (positive )?duration; use e\.g\. 90s, 2m or a number of seconds/, text);
  }
});

test('formatDuration is the inverse for whole units', () => {
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(45_000), '45s');
  assert.equal(formatDuration(1_500), '1.5s');
  assert.equal(formatDuration(200), '200ms');
  assert.equal(formatDuration(3_600_000), '1h');
});
