import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropInvalidMetrics } from './screen.js';

const host = { time: '2025-01-01T12:00:00Z', cpu: 1, cpus: 2, memory: 1, memoryTotal: 2, load1: 0, load5: 0, load15: 0, uplinks: [], containers: 0 };

test('a valid report, or none, stays; an invalid one is taken out and named', () => {
  const good = { name: 'h1', metrics: { host, sets: [] } };
  assert.equal(dropInvalidMetrics(good), undefined);
  assert.ok(good.metrics);
  assert.equal(dropInvalidMetrics({ name: 'h1' }), undefined);
  assert.equal(dropInvalidMetrics(null), undefined);
  const bad: { name: string; metrics?: unknown } = {
    name: 'h1',
    metrics: { host, sets: [{ tenant: 'default', appkey: 'a', id: '1', time: 'x', set: { cpu: 0, memory: 0, rxBytes: -5 }, containers: {} }] },
  };
  assert.match(dropInvalidMetrics(bad) ?? '', /^metrics\.sets\.0\.set\.rxBytes: /);
  assert.equal('metrics' in bad, false);
  assert.equal(bad.name, 'h1');
});
