import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSample, networkSample, setSample } from './samples.js';

test('container sample: cores, seconds and limits from ns and NanoCpus; absent stays absent', () => {
  assert.deepEqual(containerSample({ cpuNs: 0.5e9, throttledPeriods: 3, throttledNs: 0.25e9 }, { memory: 100, rss: 80, oomKills: 0 }, { nanoCpus: 1.5e9, memory: 1024 }), {
    cpu: 0.5, cpuLimit: 1.5, cpuThrottledPeriods: 3, cpuThrottledSeconds: 0.25, memory: 100, memoryRss: 80, memoryLimit: 1024, oomKills: 0,
  });
  assert.deepEqual(containerSample({ cpuNs: 123456 }, { memory: 0 }, {}), { cpu: 0, memory: 0 });
});

test('set sample: sums (infra included), limits of business containers only, unlimited when one has none', () => {
  const infra = { role: 'infra' as const, sample: { cpu: 0.001, memory: 1000 } };
  const web = { role: 'business' as const, sample: { cpu: 0.5, cpuLimit: 0.6, memory: 5000, memoryLimit: 8000, pids: 3 } };
  const side = { role: 'business' as const, sample: { cpu: 0.2, cpuLimit: 0.4, memory: 2000, memoryLimit: 8000, pids: 1 } };
  assert.deepEqual(setSample([infra, web, side], networkSample({ rxBytes: 10.5, txBytes: 3 })), {
    cpu: 0.701, memory: 8000, cpuLimit: 1, memoryLimit: 16000, pids: 4, rxBytes: 10.5, txBytes: 3,
  });
  const unlimited = { role: 'business' as const, sample: { cpu: 0.1, memory: 10 } };
  const s = setSample([infra, web, unlimited], {});
  assert.equal(s.cpuLimit, undefined);
  assert.equal(s.memoryLimit, undefined);
});
