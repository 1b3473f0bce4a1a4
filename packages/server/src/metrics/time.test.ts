import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WharfError } from '@wharf/types';
import { parseDuration, parseSince, parseStep } from './time.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');

test('durations', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('500ms'), 500);
  for (const bad of ['', '10', 'abc', '0s', '-5m', '1x']) assert.equal(parseDuration(bad), undefined, bad);
});

test('since: an ISO time or a duration back from now; anything else names the field', () => {
  assert.equal(parseSince('2025-01-01T11:00:00Z', NOW), NOW - 3_600_000);
  assert.equal(parseSince('2025-01-01T12:00:00.000+01:00', NOW), NOW - 3_600_000);
  assert.equal(parseSince('-10m', NOW), NOW - 600_000);
  assert.equal(parseSince('10m', NOW), NOW - 600_000);
  for (const bad of ['yesterday', '1', '2025-13-45T99:00:00Z', '-']) {
    assert.throws(() => parseSince(bad, NOW), (err: unknown) => err instanceof WharfError && err.code === 'VALIDATION_FAILED' && err.message.startsWith('since: '), bad);
  }
});

test('step: at least a second', () => {
  assert.equal(parseStep('1m'), 60_000);
  assert.throws(() => parseStep('100ms'), /step: "100ms" is not a step/);
  assert.throws(() => parseStep('often'), /step: /);
});
