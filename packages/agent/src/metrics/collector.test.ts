import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { MetricsReport } from '@wharf/types';
import type { ManagedContainer, ObservedContainer } from '../docker/engine.js';
import { Collector, type VolumeFigures } from './collector.js';
import type { Instant } from './rates.js';
import { MemoryFiles } from './testing.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const MiB = 1024 ** 2;
const INFRA = 'a'.repeat(64);
const WEB = 'b'.repeat(64);
const log = pino({ level: 'silent' });

const MOUNTINFO = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'].map((c, i) => `${30 + i} 25 0:${26 + i} / /sys/fs/cgroup/${c} rw - cgroup cgroup rw,${c}`).join('\n');
const netDev = (rx: number, tx: number) =>
  `Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n` +
  `    lo: 999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0\n  eth0: ${rx} ${rx / 100} 0 0 0 0 0 0 ${tx} ${tx / 100} 0 0 0 0 0 0\n`;

/** A host with one set (infra + web) whose counters the test moves forward. */
class World {
  readonly files = new MemoryFiles().set('/proc/self/mountinfo', MOUNTINFO).set('/proc/meminfo', 'MemTotal: 4000 kB\nMemAvailable: 1000 kB\n').set('/proc/loadavg', '0.50 0.40 0.30 1/100 42\n');
  readonly calls: string[] = [];
  readonly containers = new Map<string, ObservedContainer>();
  seconds = 0;

  constructor() {
    this.add(INFRA, 'infra', 100, T0 - 3_600_000);
    this.add(WEB, 'web', 101, T0 - 3_600_000, { nanoCpus: 0.5e9, memory: 64 * MiB });
  }

  add(id: string, name: string, pid: number, startedAt: number, limits: { nanoCpus?: number; memory?: number } = {}): void {
    this.containers.set(id, {
      id, dockerName: `t_app_1_${name}`, setRef: 't/app/1', tenant: 't', appkey: 'app', setId: '1', name, role: name === 'infra' ? 'infra' : 'business', index: name === 'infra' ? -1 : 0,
      image: 'busybox', state: 'running', oomKilled: false, restartCount: 0, pid, startedAt: new Date(startedAt).toISOString(), ...limits,
    });
    this.files.set(`/proc/${pid}/cgroup`, ['pids', 'blkio', 'memory', 'cpuacct', 'cpu'].map((c, i) => `${5 - i}:${c}:/docker/${id}`).join('\n'));
    this.cgroup(id, { cpuNs: 0, memory: 0 });
  }

  cgroup(id: string, v: { cpuNs: number; memory: number; inactiveFile?: number }): void {
    const dir = (c: string) => `/sys/fs/cgroup/${c}/docker/${id}`;
    this.files
      .set(`${dir('cpuacct')}/cpuacct.usage`, `${v.cpuNs}\n`)
      .set(`${dir('cpu')}/cpu.stat`, 'nr_periods 10\nnr_throttled 0\nthrottled_time 0\n')
      .set(`${dir('memory')}/memory.usage_in_bytes`, `${v.memory}\n`)
      .set(`${dir('memory')}/memory.stat`, `total_rss ${v.memory}\ntotal_cache 0\ntotal_inactive_file ${v.inactiveFile ?? 0}\n`)
      .set(`${dir('memory')}/memory.failcnt`, '0\n')
      .set(`${dir('pids')}/pids.current`, '1\n');
  }

  host(busyTicks: number, totalTicks: number, uplinkRx: number): void {
    this.files.set('/proc/stat', `cpu  ${busyTicks} 0 0 ${totalTicks - busyTicks} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n`);
    this.files.set('/proc/self/net/dev', netDev(uplinkRx, 0));
  }

  readonly engine = {
    listManaged: async (): Promise<ManagedContainer[]> => {
      this.calls.push('list');
      return [...this.containers.values()].map((c) => ({ id: c.id, setRef: c.setRef, tenant: c.tenant, appkey: c.appkey, setId: c.setId }));
    },
    inspect: async (id: string): Promise<ObservedContainer | undefined> => {
      this.calls.push(`inspect ${id.slice(0, 1)}`);
      return this.containers.get(id);
    },
  };

  clock = (): Instant => ({ mono: this.seconds * 1000, wall: T0 + this.seconds * 1000 });
}

const volumes: VolumeFigures = {
  pool: { driver: 'btrfs', size: 100 * MiB, used: 30 * MiB, free: 70 * MiB, trash: 0, trashCount: 0 },
  volumes: [{ tenant: 't', appkey: 'app', id: '1', driver: 'btrfs', used: 5 * MiB, quota: 10 * MiB, path: '/x' }],
};

test('collector: rates per container summed per set, the set network from infra, host CPU, memory, load, uplinks, volume', async () => {
  const w = new World();
  const c = new Collector({ engine: w.engine, uplinks: ['eth0', 'eth0', 'missing0'], intervalMs: 10_000, log, read: w.files.read, volumes: () => volumes, clock: w.clock });
  w.host(1000, 10_000, 0);
  w.cgroup(WEB, { cpuNs: 100e9, memory: 40 * MiB });
  w.files.set('/proc/100/net/dev', netDev(1000, 500));
  assert.equal(await c.collect(), undefined, 'the first collection only sets the baselines');

  w.seconds = 10;
  w.host(1000 + 1000, 10_000 + 2000, 10_000_000); // 2 CPUs, half busy over the interval
  w.cgroup(WEB, { cpuNs: 105e9, memory: 48 * MiB, inactiveFile: 8 * MiB });
  w.cgroup(INFRA, { cpuNs: 0.01e9, memory: 1 * MiB });
  w.files.set('/proc/100/net/dev', netDev(1000 + 10 * MiB, 500 + 1 * MiB));
  const r = await c.collect();
  assert.ok(r);
  assert.equal(r.host.cpu, 1);
  assert.equal(r.host.cpus, 2);
  assert.equal(r.host.memory, 3000 * 1024);
  assert.equal(r.host.memoryTotal, 4000 * 1024);
  assert.deepEqual([r.host.load1, r.host.load5, r.host.load15], [0.5, 0.4, 0.3]);
  assert.deepEqual([r.host.poolUsed, r.host.poolSize], [30 * MiB, 100 * MiB]);
  assert.deepEqual(r.host.uplinks, [{ name: 'eth0', rxBytes: 1_000_000, txBytes: 0, rxPackets: 10_000, txPackets: 0 }]);
  assert.equal(r.host.containers, 2);
  assert.ok((r.host.collectMs ?? -1) >= 0 && (r.host.collectCpuMs ?? -1) >= 0);

  assert.equal(r.sets.length, 1);
  const set = r.sets[0]!;
  assert.deepEqual([set.tenant, set.appkey, set.id, set.time], ['t', 'app', '1', new Date(T0 + 10_000).toISOString()]);
  assert.deepEqual(Object.keys(set.containers), ['web'], 'business containers only');
  const web = set.containers.web!;
  assert.equal(web.cpu, 0.5);
  assert.equal(web.cpuLimit, 0.5);
  assert.equal(web.memory, 40 * MiB);
  assert.equal(web.memoryLimit, 64 * MiB);
  assert.equal(web.rxBytes, undefined, 'a business container has no network of its own');
  assert.equal(set.set.cpu, 0.501, 'infra counts in the set');
  assert.equal(set.set.memory, 41 * MiB);
  assert.equal(set.set.cpuLimit, 0.5);
  assert.equal(set.set.rxBytes, 1048576 / 1);
  assert.equal(set.set.txBytes, 104857.6);
  assert.deepEqual([set.volumeUsed, set.volumeQuota], [5 * MiB, 10 * MiB]);
  assert.deepEqual([...Value.Errors(MetricsReport, r)].map((e) => `${e.path} ${e.message}`), [], 'what the server\'s schema accepts');
  assert.deepEqual(w.calls, ['list', 'inspect a', 'inspect b', 'list'], 'one list per collection; inspects only for new containers');
});

test('collector: a restarted container starts fresh — sane rates, never negative — and is inspected again', async () => {
  const w = new World();
  const c = new Collector({ engine: w.engine, uplinks: [], intervalMs: 10_000, log, read: w.files.read, clock: w.clock });
  w.host(0, 100, 0);
  w.cgroup(WEB, { cpuNs: 900e9, memory: 10 * MiB });
  await c.collect();
  w.seconds = 10;
  w.host(10, 200, 0);
  w.cgroup(WEB, { cpuNs: 905e9, memory: 10 * MiB });
  assert.equal((await c.collect())?.sets[0]?.containers.web?.cpu, 0.5);

  // docker restart at 15 s, announced by an event: new PID and start time, counters from 0.
  w.add(WEB, 'web', 102, T0 + 15_000, { nanoCpus: 0.5e9 });
  w.cgroup(WEB, { cpuNs: 2.5e9, memory: 3 * MiB });
  c.inventory.invalidate(WEB);
  w.seconds = 20;
  w.host(20, 300, 0);
  const afterEvent = await c.collect();
  assert.equal(afterEvent?.sets[0]?.containers.web?.cpu, 0.5, 'measured from its start 5 s ago');
  assert.equal(w.calls.filter((x) => x === 'inspect b').length, 2);

  // A restart nobody announced: the counters go backwards. No rate (the set waits a round), then an inspect.
  w.add(WEB, 'web', 103, T0 + 27_000, { nanoCpus: 0.5e9 });
  w.cgroup(WEB, { cpuNs: 1e9, memory: 3 * MiB });
  w.seconds = 30;
  w.host(30, 400, 0);
  const unseen = await c.collect();
  assert.deepEqual(unseen?.sets, [], 'a set with a container without a rate is left out rather than summed in part');
  w.seconds = 40;
  w.host(40, 500, 0);
  w.cgroup(WEB, { cpuNs: 7.5e9, memory: 3 * MiB });
  const next = await c.collect();
  const cpu = next?.sets[0]?.containers.web?.cpu ?? -1;
  assert.ok(cpu >= 0 && cpu <= 1, `cpu ${cpu}`);
  assert.equal(w.calls.filter((x) => x === 'inspect b').length, 3);

  // Stopped: its cgroup is gone; it is inspected again and no longer measured.
  w.files.delete(`/sys/fs/cgroup/cpuacct/docker/${WEB}`);
  w.containers.set(WEB, { ...w.containers.get(WEB)!, state: 'exited' });
  w.seconds = 50;
  w.host(50, 600, 0);
  assert.deepEqual((await c.collect())?.sets, []);
  w.seconds = 60;
  w.host(60, 700, 0);
  const stopped = await c.collect();
  assert.equal(stopped?.host.containers, 1);
  assert.deepEqual(Object.keys(stopped?.sets[0]?.containers ?? {}), [], 'infra alone: the set, no business container');
});

test('collector: docker down gives host figures only; a foreign PID (not in the container\'s cgroup) is not measured', async () => {
  const w = new World();
  w.files.set('/proc/101/cgroup', '5:pids:/user.slice\n4:blkio:/\n3:memory:/user.slice\n2:cpuacct:/\n1:cpu:/\n');
  let down = false;
  const engine = { ...w.engine, listManaged: async () => (down ? Promise.reject(new Error('connect ENOENT')) : w.engine.listManaged()) };
  const c = new Collector({ engine, uplinks: [], intervalMs: 10_000, log, read: w.files.read, clock: w.clock });
  w.host(0, 100, 0);
  await c.collect();
  w.seconds = 10;
  w.host(10, 200, 0);
  const r = await c.collect();
  assert.equal(r?.host.containers, 1, 'infra only');
  down = true;
  w.seconds = 20;
  w.host(20, 300, 0);
  const d = await c.collect();
  assert.deepEqual(d?.sets, []);
  assert.equal(d?.host.cpu, 0.2);
});
