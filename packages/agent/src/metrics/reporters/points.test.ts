import { test } from 'node:test';
import assert from 'node:assert/strict';
import { includes, snakeCase, toPoints } from './points.js';
import { sampleReport, T0 } from './testing.js';

const base = { host: 'h1', zone: 'z1' };

test('points: every numeric field of host, uplinks, sets, containers and volume, tagged', () => {
  const points = toPoints(sampleReport(), base);
  const byName = (name: string) => points.filter((p) => p.name === name);

  assert.deepEqual(byName('wharf.host.cpu').map((p) => [p.value, p.tags, p.time]), [[1.5, base, T0]]);
  assert.deepEqual(byName('wharf.host.memory_total').map((p) => p.value), [4e9]);
  assert.deepEqual(byName('wharf.host.load1').map((p) => p.value), [0.5]);
  assert.deepEqual(byName('wharf.host.uplink.rx_bytes').map((p) => [p.value, p.tags]), [[100, { ...base, uplink: 'eth0' }]]);

  const setTags = { ...base, tenant: 'default', appkey: 'com.x', set: '1' };
  assert.deepEqual(byName('wharf.set.cpu').map((p) => [p.value, p.tags]), [[0.42, setTags]]);
  assert.deepEqual(byName('wharf.set.memory_limit').map((p) => p.value), [1e8]);
  assert.deepEqual(byName('wharf.set.rx_bytes').map((p) => p.value), [10]);
  assert.deepEqual(byName('wharf.set.volume_used').map((p) => [p.value, p.tags]), [[1024, setTags]]);
  assert.deepEqual(byName('wharf.container.cpu').map((p) => [p.value, p.tags]), [[0.4, { ...setTags, container: 'web' }]]);

  // Absent fields and non-numbers make no point.
  assert.equal(byName('wharf.set.volume_quota').length, 0);
  assert.equal(byName('wharf.host.time').length, 0);
  assert.equal(byName('wharf.host.uplinks').length, 0);
  assert.ok(points.every((p) => Number.isFinite(p.value)));
});

test('points: a report without a parsable time takes the clock', () => {
  const r = sampleReport();
  r.host.time = 'soon';
  const points = toPoints(r, {}, () => 42);
  assert.equal(points.find((p) => p.name === 'wharf.host.cpu')?.time, 42);
});

test('points: field names in snake_case', () => {
  assert.deepEqual(['cpu', 'memoryRss', 'cpuThrottledSeconds', 'load15', 'oomKills'].map(snakeCase), ['cpu', 'memory_rss', 'cpu_throttled_seconds', 'load15', 'oom_kills']);
});

test('points: include selects by name prefix', () => {
  const cases: Array<[string[] | undefined, string, boolean]> = [
    [undefined, 'wharf.set.cpu', true],
    [[], 'wharf.set.cpu', true],
    [['wharf.set.'], 'wharf.set.cpu', true],
    [['wharf.set.'], 'wharf.container.cpu', false],
    [['wharf.host.cpu'], 'wharf.host.cpu', true],
    [['wharf.host.cpu'], 'wharf.host.cpus', false],
    [['wharf.host.uplink'], 'wharf.host.uplink.rx_bytes', true],
    [['wharf.set', 'wharf.host.load1'], 'wharf.host.load1', true],
    [['wharf.set', 'wharf.host.load1'], 'wharf.host.load5', false],
  ];
  for (const [include, name, want] of cases) assert.equal(includes(include, name), want, `${JSON.stringify(include)} ${name}`);
});
