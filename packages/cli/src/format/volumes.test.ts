import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrashEntry, VolumeView } from '@wharf/types';
import { T0, iso } from '../testing/fixtures.js';
import { describeVolume, poolCell, poolText, renderTrash, renderVolumes, usePercent } from './volumes.js';

const GiB = 1024 ** 3;

function columns(line: string | undefined): string[] {
  return (line ?? '').trim().split(/\s{2,}/);
}

function vol(over: Partial<VolumeView> = {}): VolumeView {
  return { tenant: 'default', appkey: 'com.x', id: '1', host: 'h1', driver: 'xfs', used: 3 * GiB, quota: 10 * GiB, size: 10 * GiB, path: '/var/lib/wharf/volumes/default/com.x/1', reportedAt: iso(T0 - 4_000), ...over };
}

test('volume ls: sorted by set, dashes for what is not reported', () => {
  const lines = renderVolumes([vol({ id: '10' }), vol({ id: '2', host: undefined, driver: undefined, used: undefined, quota: undefined, path: undefined, reportedAt: undefined })], false, T0).split('\n');
  assert.deepEqual(columns(lines[0]), ['SET', 'HOST', 'DRIVER', 'USED', 'QUOTA', 'USE%', 'SIZE']);
  assert.deepEqual(columns(lines[1]), ['com.x/2', '<none>', '-', '-', '-', '-', '10Gi']);
  assert.deepEqual(columns(lines[2]), ['com.x/10', 'h1', 'xfs', '3Gi', '10Gi', '30%', '10Gi']);
  const wide = renderVolumes([vol()], true, T0).split('\n');
  assert.deepEqual(columns(wide[1]).slice(7), ['default', '/var/lib/wharf/volumes/default/com.x/1', '4s ago']);
  assert.equal(usePercent(1, 0), '-');
  assert.equal(usePercent(2, 3), '67%');
});

test('volume inspect: a size not yet in force, snapshots unknown when the host did not answer', () => {
  const page = describeVolume(vol({ size: 20 * GiB }), T0);
  assert.match(page, /^Size: +20Gi \(the set's resources\.disk; the host enforces 10Gi\)$/m);
  assert.match(page, /^Used: +3Gi \(30%\)$/m);
  assert.match(page, /^Reported: +\S+ \(4s ago\)$/m);
  assert.match(page, /^Snapshots: +<unknown: host h1 did not answer>$/m);
  assert.match(describeVolume(vol({ snapshots: [] }), T0), /^Snapshots: +<none>$/m);
  assert.match(describeVolume(vol({ host: undefined, used: undefined }), T0), /^Host: +<none> \(the set is not placed yet\)\n[^]*^Used: +<not reported yet>$/m);
});

test('trash ls: HOST/TRASHID first, newest first per host, time left until the agent purges', () => {
  const e = (over: Partial<TrashEntry>): TrashEntry => ({
    trashId: 'a', host: 'h1', tenant: 'default', appkey: 'com.x', id: '1', driver: 'btrfs', used: GiB, quota: 2 * GiB,
    deletedAt: iso(T0 - 7_200_000), purgeAt: iso(T0 + 86_400_000), ...over,
  });
  const lines = renderTrash([e({ trashId: 'old', deletedAt: iso(T0 - 86_400_000) }), e({ trashId: 'new' }), e({ host: 'h0', trashId: 'z', purgeAt: iso(T0 - 1) })], T0).split('\n');
  assert.deepEqual(lines.slice(1).map((l) => columns(l)[0]), ['h0/z', 'h1/new', 'h1/old']);
  assert.deepEqual(columns(lines[2]), ['h1/new', 'com.x/1', 'btrfs', '1Gi', '2Gi', '120m ago', '24h']);
  assert.equal(columns(lines[1])[6], 'due');
});

test('the pool of a host', () => {
  const pool = { driver: 'xfs' as const, size: 100 * GiB, used: 40 * GiB, free: 60 * GiB, trash: 0, trashCount: 0 };
  assert.equal(poolCell(pool), 'xfs 40Gi/100Gi');
  assert.equal(poolCell(undefined), '-');
  assert.equal(poolText(pool, 'h1'), 'xfs, 40Gi used of 100Gi, 60Gi free; recycle bin: empty');
  assert.equal(poolText({ ...pool, trash: GiB, trashCount: 1 }, 'h1'), 'xfs, 40Gi used of 100Gi, 60Gi free; recycle bin: 1 volume, 1Gi (wharf volume trash ls --host h1)');
  assert.equal(poolText(undefined, 'h1'), '<not reported by the agent>');
});
