import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topHost, topSet } from '../testing/top-fixtures.js';
import { cpuCell, rate, ratePair, renderTopHosts, renderTopSets, size, sortHosts, usedOf } from './top.js';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;

test('units: sizes, rates, shares of a limit', () => {
  assert.equal(size(0), '0');
  assert.equal(size(512.4), '512');
  assert.equal(size(1536), '1.5Ki');
  assert.equal(rate(1.2 * Mi), '1.2MiB/s');
  assert.equal(rate(300.7), '301B/s');
  assert.equal(rate(Gi), '1GiB/s');
  assert.equal(rate(undefined), '-');
  assert.equal(ratePair(undefined, undefined), '-');
  assert.equal(ratePair(10, undefined), '10B/s / -');
  assert.equal(cpuCell(0.4234, 2), '0.42 (21%)');
  assert.equal(cpuCell(1.5, undefined), '1.5');
  assert.equal(usedOf(412 * Mi, Gi), '412Mi/1Gi (40%)');
  assert.equal(usedOf(412 * Mi, undefined), '412Mi');
});

test('top sets: a row per set in the order given, "-" for what was not measured', () => {
  const bare = topSet({ id: '2', host: 'h2', set: { cpu: 0, memory: 1000 }, containers: {} });
  delete bare.volumeUsed;
  delete bare.volumeQuota;
  assert.equal(
    renderTopSets([topSet(), bare]),
    [
      'APPKEY   ID   HOST   CPU          MEMORY            NET RX/TX             DISK R/W           PIDS   VOLUME',
      'com.x    1    h1     0.42 (21%)   412Mi/1Gi (40%)   1.2MiB/s / 300KiB/s   0B/s / 50.8KiB/s   12     1.5Gi/10Gi (15%)',
      'com.x    2    h2     0            1000              -                     -                  -      -',
    ].join('\n'),
  );
});

test('top hosts: busy/cores, memory, load, pool, containers, each uplink; sorted by share of CPU or memory', () => {
  const small = topHost({ host: 'h2', cpu: 1.9, cpus: 2, memory: 1 * Gi, memoryTotal: 4 * Gi, uplinks: [] });
  delete small.poolUsed;
  delete small.poolSize;
  const rows = [topHost(), small];
  assert.deepEqual(sortHosts(rows, 'cpu').map((h) => h.host), ['h2', 'h1']);
  assert.deepEqual(sortHosts(rows, 'mem').map((h) => h.host), ['h1', 'h2']);
  assert.equal(
    renderTopHosts(sortHosts(rows, 'cpu')),
    [
      'HOST   CPU           MEMORY             LOAD             POOL               CONTAINERS   UPLINK RX/TX',
      'h2     1.9/2 (95%)   1Gi/4Gi (25%)      0.52 0.48 0.40   -                  14           -',
      'h1     1.3/8 (16%)   6.2Gi/16Gi (39%)   0.52 0.48 0.40   12Gi/100Gi (12%)   14           eth0 2MiB/s / 512B/s',
    ].join('\n'),
  );
});
