import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CgroupGone, flatKeyed } from './cgroup-sample.js';
import { parseBlkio, readCgroupV1 } from './cgroup-v1.js';
import { parseIoStat, readCgroupV2 } from './cgroup-v2.js';
import { MemoryFiles, rootedReader, TESTDATA } from './testing.js';

const V1_ID = '629ba26f1edcb4c4e7bac793641ff3af836ff9d0e4fb8ba64b0f79a6b1e0db1d';
const V2_DIR = '/sys/fs/cgroup/system.slice/docker-5b2c8f0e6d7a41c3b9e8f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a.scope';
const v1Dirs = (root = '/sys/fs/cgroup') => ({
  cpu: `${root}/cpu/docker/${V1_ID}`, cpuacct: `${root}/cpuacct/docker/${V1_ID}`, memory: `${root}/memory/docker/${V1_ID}`,
  blkio: `${root}/blkio/docker/${V1_ID}`, pids: `${root}/pids/docker/${V1_ID}`,
});

test('cgroup v1 reader on recorded files (0.5 CPU busy loop, 64Mi limit)', () => {
  const s = readCgroupV1(rootedReader(join(TESTDATA, 'v1')), v1Dirs());
  assert.deepEqual(s.counters, { cpuNs: 2141895262, throttledPeriods: 40, throttledNs: 1623819920, readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 });
  // usage_in_bytes 8454144 less total_inactive_file 0
  assert.deepEqual(s.gauges, { memory: 8454144, rss: 8151040, cache: 4096, failcnt: 0, oomKills: 0, pids: 1 });
});

test('cgroup v1: memory less inactive file cache, blkio sums per direction, optional files may be missing', () => {
  const d = v1Dirs();
  const files = new MemoryFiles()
    .set(`${d.cpuacct}/cpuacct.usage`, '5000000000\n')
    .set(`${d.memory}/memory.usage_in_bytes`, '104857600\n')
    .set(`${d.memory}/memory.stat`, 'cache 50\nrss 1\ninactive_file 2\ntotal_cache 41943040\ntotal_rss 60000000\ntotal_inactive_file 31457280\n')
    .set(`${d.blkio}/blkio.throttle.io_service_bytes`, '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\n7:1 Read 100\n7:1 Write 0\nTotal 12388\n')
    .set(`${d.blkio}/blkio.throttle.io_serviced`, '8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n');
  const s = readCgroupV1(files.read, d);
  assert.deepEqual(s.counters, { cpuNs: 5e9, readBytes: 4196, writeBytes: 8192, readOps: 1, writeOps: 2 });
  assert.deepEqual(s.gauges, { memory: 104857600 - 31457280, rss: 60000000, cache: 41943040 });
  assert.ok(files.reads.includes(`${d.blkio}/blkio.throttle.io_service_bytes_recursive`), 'the _recursive file is tried first');
  assert.deepEqual(parseBlkio('Total 0\n'), { read: 0, write: 0 });
});

test('cgroup v1: a vanished cgroup (stopped container) is CgroupGone', () => {
  assert.throws(() => readCgroupV1(new MemoryFiles().read, v1Dirs()), CgroupGone);
});

test('cgroup v2 reader on recorded files', () => {
  const s = readCgroupV2(rootedReader(join(TESTDATA, 'v2')), V2_DIR);
  assert.deepEqual(s.counters, {
    cpuNs: 12563311 * 1000, throttledPeriods: 1245, throttledNs: 61873210 * 1000,
    readBytes: 1441792 + 4096, writeBytes: 20971520 + 8192, readOps: 34, writeOps: 162,
  });
  assert.deepEqual(s.gauges, { memory: 71794688 - 2826240, rss: 67665920, cache: 3936256, failcnt: 17, oomKills: 1, pids: 5 });
});

test('cgroup v2: without the memory, io and pids controllers only CPU; no cpu.stat is CgroupGone', () => {
  const files = new MemoryFiles().set('/cg/cpu.stat', 'usage_usec 1000\nuser_usec 600\nsystem_usec 400\n');
  assert.deepEqual(readCgroupV2(files.read, '/cg'), { counters: { cpuNs: 1e6 }, gauges: { memory: 0 } });
  assert.throws(() => readCgroupV2(new MemoryFiles().read, '/cg'), CgroupGone);
  assert.deepEqual(parseIoStat(''), { rbytes: 0, wbytes: 0, rios: 0, wios: 0 });
});

test('flat keyed files: a key only at a line start and whole, blanks of any width, whole numbers only', () => {
  const text = 'total_rss 7\nrss_huge 3\nrss 5\ncache\t\t9\nswap -1\npgfault 12x\nmapped_file 1 2\nlast 42';
  assert.equal(flatKeyed(text, 'rss'), 5);
  assert.equal(flatKeyed(text, 'total_rss'), 7);
  assert.equal(flatKeyed(text, 'rss_huge'), 3);
  assert.equal(flatKeyed(text, 'cache'), 9);
  assert.equal(flatKeyed(text, 'last'), 42, 'no newline at the end');
  assert.equal(flatKeyed(text, 'swap'), undefined, 'not a whole number');
  assert.equal(flatKeyed(text, 'pgfault'), undefined, 'digits then garbage');
  assert.equal(flatKeyed(text, 'mapped_file'), undefined, 'a second field');
  assert.equal(flatKeyed(text, 'huge'), undefined);
  assert.equal(flatKeyed(text, 'total'), undefined);
  assert.equal(flatKeyed('', 'rss'), undefined);
  assert.deepEqual(parseBlkio('8:0 Read 10\n8:0 Write x\n8:16 Write 5\nRead 99\n8:0 Readahead 1\nTotal 15'), { read: 10, write: 5 });
});
