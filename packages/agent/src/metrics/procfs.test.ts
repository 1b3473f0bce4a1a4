import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSetInterface, parseLoadavg, parseMeminfo, parseNetDev, parsePidStat, parseProcStat, sumNet } from './procfs.js';
import { TESTDATA } from './testing.js';

const recorded = (name: string): Promise<string> => readFile(join(TESTDATA, 'proc', name), 'utf8');

test('net/dev: counters per interface; a set counts all but lo and ifb devices', async () => {
  const devs = parseNetDev(await recorded('net-dev'));
  assert.deepEqual([...devs.keys()], ['lo', 'ifb0', 'ifb1', 'eth0']);
  assert.deepEqual(devs.get('eth0'), { rxBytes: 371278298, rxPackets: 18735, rxErrors: 0, rxDropped: 0, txBytes: 2288438, txPackets: 17484, txErrors: 0, txDropped: 0 });
  assert.equal(sumNet(devs, isSetInterface).rxBytes, 371278298);
  assert.equal(isSetInterface('wharf-ifb'), false);
  assert.equal(isSetInterface('eth1'), true);

  const two = parseNetDev(`Inter-|   Receive |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0
  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0
  eth1:5000 50 0 0 0 0 0 0 6000 60 0 1 0 0 0 0
wharf-ifb: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0
`);
  assert.deepEqual(sumNet(two, isSetInterface), { rxBytes: 6000, rxPackets: 60, rxErrors: 1, rxDropped: 2, txBytes: 8000, txPackets: 80, txErrors: 3, txDropped: 5 });
});

test('/proc/stat: busy and total ticks (guest time not counted twice) and the CPU count', async () => {
  // cpu  353349 0 112493 260417 3601 0 2967 6906 0 0
  assert.deepEqual(parseProcStat(await recorded('stat')), { busy: 739733 - 260417 - 3601, total: 739733, cpus: 2 });
  assert.deepEqual(parseProcStat('cpu  10 0 10 70 10 0 0 0 5 0\ncpu0 10 0 10 70 10 0 0 0 5 0\n'), { busy: 20, total: 100, cpus: 1 });
  assert.equal(parseProcStat('intr 1 2 3\n'), undefined);
});

test('/proc/meminfo and /proc/loadavg', async () => {
  assert.deepEqual(parseMeminfo(await recorded('meminfo')), { total: 24683584 * 1024, available: 23184600 * 1024 });
  assert.deepEqual(parseMeminfo('MemTotal: 1000 kB\nMemFree: 200 kB\n'), { total: 1024000, available: 204800 });
  assert.equal(parseMeminfo('nothing'), undefined);
  assert.deepEqual(parseLoadavg(await recorded('loadavg')), [3.41, 4.43, 4.66]);
  assert.equal(parseLoadavg(''), undefined);
});

test('/proc/PID/stat: CPU times and start, counted after a command name with spaces and parentheses', () => {
  const line = '4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1 0 0 0 120 35 0 0 20 0 3 0 98765 1000 10 18446744073709551615\n';
  assert.deepEqual(parsePidStat(line), { utime: 120, stime: 35, start: 98765 });
  assert.equal(parsePidStat('4242 (cut'), undefined);
  assert.equal(parsePidStat('4242 (x) S 1'), undefined);
});
