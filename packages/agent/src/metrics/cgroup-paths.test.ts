import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseMountinfo, parseProcCgroup, resolveCgroup } from './cgroup-paths.js';
import { rootedReader, TESTDATA } from './testing.js';

const V1_ID = '629ba26f1edcb4c4e7bac793641ff3af836ff9d0e4fb8ba64b0f79a6b1e0db1d';
const V2_ID = '5b2c8f0e6d7a41c3b9e8f1a2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a';

test('cgroup v1 (recorded, cpu and cpuacct mounted apart): a directory per controller from /proc/<pid>/cgroup', () => {
  const read = rootedReader(join(TESTDATA, 'v1'));
  const mounts = parseMountinfo(read('/proc/self/mountinfo'));
  assert.deepEqual([...mounts.v1.keys()].sort(), ['blkio', 'cpu', 'cpuacct', 'memory', 'pids']);
  assert.deepEqual(mounts.v2, { root: '/', mountPoint: '/sys/fs/cgroup/unified' });
  const cg = resolveCgroup(mounts, parseProcCgroup(read('/proc/15111/cgroup')));
  assert.deepEqual(cg, {
    version: 1,
    dirs: {
      cpu: `/sys/fs/cgroup/cpu/docker/${V1_ID}`,
      cpuacct: `/sys/fs/cgroup/cpuacct/docker/${V1_ID}`,
      memory: `/sys/fs/cgroup/memory/docker/${V1_ID}`,
      blkio: `/sys/fs/cgroup/blkio/docker/${V1_ID}`,
      pids: `/sys/fs/cgroup/pids/docker/${V1_ID}`,
    },
  });
});

test('cgroup v2: the unified directory (systemd driver)', () => {
  const read = rootedReader(join(TESTDATA, 'v2'));
  const cg = resolveCgroup(parseMountinfo(read('/proc/self/mountinfo')), parseProcCgroup(read('/proc/4242/cgroup')));
  assert.deepEqual(cg, { version: 2, dir: `/sys/fs/cgroup/system.slice/docker-${V2_ID}.scope` });
});

test('co-mounted controllers, a custom cgroup parent, a mount of part of a hierarchy, escaped mount points', () => {
  const mounts = parseMountinfo([
    '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
    '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
    '32 25 0:27 /wharf /mnt/mem\\040bind rw - cgroup cgroup rw,memory',
    '33 25 0:28 /ci /mnt/blkio rw - cgroup cgroup rw,blkio',
  ].join('\n'));
  assert.equal(mounts.v1.get('memory')?.mountPoint, '/sys/fs/cgroup/memory', 'the mount showing the whole hierarchy wins');
  const proc = parseProcCgroup('4:blkio:/ci/abc\n3:memory:/ci/abc\n2:cpu,cpuacct:/ci/abc\n1:name=systemd:/ci/abc\n');
  assert.deepEqual(resolveCgroup(mounts, proc), {
    version: 1,
    dirs: { cpu: '/sys/fs/cgroup/cpu,cpuacct/ci/abc', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/ci/abc', memory: '/sys/fs/cgroup/memory/ci/abc', blkio: '/mnt/blkio/abc' },
  });
  assert.equal(parseMountinfo('32 25 0:27 /wharf /mnt/mem\\040bind rw - cgroup cgroup rw,memory').v1.get('memory')?.mountPoint, '/mnt/mem bind');
});

test('a cgroup outside what is mounted here is not resolved', () => {
  const mounts = parseMountinfo('31 25 0:27 /agent /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n30 25 0:26 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct');
  assert.equal(resolveCgroup(mounts, parseProcCgroup('3:memory:/docker/abc\n2:cpuacct:/docker/abc\n')), undefined);
  assert.equal(resolveCgroup(parseMountinfo(''), parseProcCgroup('0::/docker/abc\n')), undefined);
});
