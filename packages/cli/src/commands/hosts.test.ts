import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainProgress } from './hosts.js';
import { bar, hostState } from '../format/hosts.js';
import { makeHost } from '../testing/fixtures.js';

test('drain progress counts what is left to move and names what cannot move', () => {
  const h = makeHost({ name: 'h1', sets: 3, draining: true, drain: { remaining: 3, moving: 0, blocked: ['db/1'] } });
  assert.deepEqual(drainProgress(h), { done: false, text: 'draining h1: 2 sets left to move; 1 cannot move (local volume): db/1' });
  assert.deepEqual(drainProgress({ ...h, drain: { remaining: 1, moving: 1, blocked: ['db/1'] } }), { done: false, text: 'draining h1: 0 sets left to move, 1 starting elsewhere; 1 cannot move (local volume): db/1' });
  assert.deepEqual(drainProgress({ ...h, drain: { remaining: 1, moving: 0, blocked: ['db/1'] } }), { done: true, text: 'host h1 drained; 1 cannot move (local volume): db/1' });
  assert.deepEqual(drainProgress({ ...h, drain: { remaining: 0, moving: 0, blocked: [] } }), { done: true, text: 'host h1 drained' });
});

test('host state and allocation bars', () => {
  assert.equal(bar(3, 8), '███░░░░░');
  assert.equal(bar(9, 8), '████████');
  assert.equal(bar(1, 0), '░░░░░░░░');
  assert.equal(hostState(makeHost({ name: 'a', state: 'not-ready', cordoned: true })), 'not-ready,cordoned');
  assert.equal(hostState(makeHost({ name: 'a', state: 'draining', cordoned: true, draining: true })), 'draining');
});
