import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backOffMessage, exitReason, leftExitedMessage, restartAllowed, restartDelay, waitingMessage } from './restart-policy.js';

test('restartDelay: 1 s, 2 s, 4 s … at most 5 min', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 10, 50].map(restartDelay), [1_000, 2_000, 4_000, 8_000, 16_000, 128_000, 256_000, 300_000, 300_000]);
});

test('restartAllowed per policy', () => {
  const table: [Parameters<typeof restartAllowed>[0], boolean, boolean][] = [
    ['always', false, true], ['always', true, true],
    ['on-failure', false, false], ['on-failure', true, true],
    ['never', false, false], ['never', true, false],
  ];
  for (const [policy, failed, want] of table) assert.equal(restartAllowed(policy, failed), want, `${policy} failed=${failed}`);
});

test('exitReason and messages', () => {
  assert.equal(exitReason(0, false), 'Completed');
  assert.equal(exitReason(2, false), 'Error');
  assert.equal(exitReason(137, true), 'OOMKilled');
  assert.equal(leftExitedMessage('web', { reason: 'Completed', exitCode: 0 }, 'never'), 'web completed (exit code 0; restart policy never)');
  assert.equal(leftExitedMessage('web', { reason: 'Error', exitCode: 3 }, 'never'), 'web failed (exit code 3; restart policy never)');
  assert.equal(backOffMessage('web', 8_000), 'back-off 8s restarting failed container web');
  assert.equal(backOffMessage('web', 300_000), 'back-off 5m restarting failed container web');
  const exited = { lastTermination: { reason: 'Completed' as const, exitCode: 0 }, streak: 0 };
  assert.equal(waitingMessage('web', 'on-failure', exited, 0), 'web completed (exit code 0; restart policy on-failure)');
  assert.equal(waitingMessage('web', 'always', exited, 0), undefined, 'started at once');
  assert.equal(waitingMessage('web', 'always', { ...exited, streak: 4, backOffUntil: 10 }, 5), 'back-off 8s restarting failed container web');
  assert.equal(waitingMessage('web', 'never', { ...exited, byAgent: true }, 0), undefined, 'the agent stopped it');
});
