import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectNetwork, drainProgress, hostPatch } from './hosts.js';
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

test('host set flags become a PATCH: a list replaces, null goes back to the agent, nothing is nothing', () => {
  const none = { networksOverride: true, bandwidthOverride: true };
  assert.equal(hostPatch(none), undefined);
  const nets = collectNetwork('v20=bond0.20', collectNetwork('net1=eth0', undefined));
  assert.deepEqual(hostPatch({ ...none, network: nets, bandwidth: 2500 }), { networks: [{ name: 'net1', uplink: 'eth0' }, { name: 'v20', uplink: 'bond0.20' }], bandwidth: 2500 });
  assert.deepEqual(hostPatch({ networksOverride: false, bandwidthOverride: false }), { networks: null, bandwidth: null });
  assert.deepEqual(hostPatch({ ...none, bandwidthOverride: false }), { bandwidth: null });
  assert.throws(() => collectNetwork('net1=', undefined), /"" is not an interface name/);
  assert.throws(() => collectNetwork('NET=eth0', undefined), /"NET" is not a network name/);
  assert.throws(() => collectNetwork('net1=averyveryverylongname0', undefined), /not an interface name/);
});
