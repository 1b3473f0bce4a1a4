import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cell, renderTable } from './table.js';
import { humanDuration } from './age.js';

test('columns are aligned to the widest cell, three spaces apart, no trailing spaces', () => {
  const out = renderTable(['NAME', 'STATE', 'AGE'], [
    ['a', 'running', '5m'],
    ['longer-name', 'stopped', '3d4h'],
  ]);
  assert.equal(
    out,
    ['NAME          STATE     AGE', 'a             running   5m', 'longer-name   stopped   3d4h'].join('\n'),
  );
  for (const line of out.split('\n')) assert.equal(line, line.trimEnd());
});

test('every column starts at the same offset on every line', () => {
  const rows = [
    ['com.example.web', '1', 'running'],
    ['x', '12345', 'degraded'],
  ];
  const lines = renderTable(['APPKEY', 'ID', 'STATUS'], rows).split('\n');
  const starts = (line: string, word: string): number => line.indexOf(word);
  assert.equal(starts(lines[0] ?? '', 'ID'), starts(lines[1] ?? '', '1'));
  assert.equal(starts(lines[0] ?? '', 'ID'), starts(lines[2] ?? '', '12345'));
  assert.equal(starts(lines[0] ?? '', 'STATUS'), starts(lines[2] ?? '', 'degraded'));
});

test('indent, gap, empty last cells and short rows', () => {
  const out = renderTable(['A', 'B', 'C'], [['1'], ['22', '', 'x']], { indent: '  ', gap: 2 });
  assert.equal(out, ['  A   B  C', '  1', '  22     x'].join('\n'));
});

test('header only when there are no rows', () => {
  assert.equal(renderTable(['A', 'BB'], []), 'A   BB');
});

test('cell() keeps one line and marks empty values', () => {
  assert.equal(cell(undefined), '<none>');
  assert.equal(cell(''), '<none>');
  assert.equal(cell('a\n  b'), 'a b');
  assert.equal(cell(3), '3');
});

test('ages read like kubectl', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [150 * s, '2m30s'],
    [5 * 60 * s, '5m'],
    [45 * 60 * s, '45m'],
    [(3 * 60 + 20) * 60 * s, '3h20m'],
    [30 * 3600 * s, '30h'],
    [(3 * 24 + 5) * 3600 * s, '3d5h'],
    [40 * 86400 * s, '40d'],
    [(3 * 365 + 10) * 86400 * s, '3y10d'],
    [10 * 365 * 86400 * s, '10y'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});
