import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseBytes } from './quantity.js';

test('parseBytes', () => {
  const cases: [string | number, number | undefined][] = [
    ['1Gi', 1024 ** 3], ['512Mi', 512 * 1024 ** 2], ['2G', 2e9], ['100M', 1e8], ['1.5Gi', 1.5 * 1024 ** 3], ['1024', 1024], ['10GiB', 10 * 1024 ** 3],
    [4096, 4096], ['lots', undefined], ['-1Gi', undefined], ['1Pi', undefined], [-5, undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseBytes(input), want, String(input));
});

test('formatBytes', () => {
  assert.equal(formatBytes(1024 ** 3), '1Gi');
  assert.equal(formatBytes(1.5 * 1024 ** 2), '1.5Mi');
  assert.equal(formatBytes(100), '100');
});
