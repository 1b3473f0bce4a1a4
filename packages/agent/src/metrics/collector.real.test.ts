/**
 * The collector against a real dockerd and the kernel's cgroup and /proc files
 * (opt-in: WHARF_DOCKER_TESTS=1, as root; run with e2e/dist/harness/with-docker.js).
 * Everything it creates carries tenant "wharfmetrics" and is removed at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { MetricsReport, type SetMetrics, type SetSpec } from '@wharf/types';
import { DockerodeEngine } from '../docker/dockerode-engine.js';
import { ExitTracker } from '../exits.js';
import { resolvePrivilege } from '../privilege.js';
import { SetReconciler } from '../reconciler.js';
import { setObject } from '../testing/fixtures.js';
import { testVolumes } from '../testing/dir-volumes.js';
import { Collector } from './collector.js';

const enabled = process.env.WHARF_DOCKER_TESTS === '1';
const skip = !enabled && 'set WHARF_DOCKER_TESTS=1';
const IMAGE = 'wharf/busybox:latest';
const TENANT = 'wharfmetrics';
const MiB = 1024 ** 2;
const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
const engine = new DockerodeEngine(socket);
const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const events = new AbortController();
let dataDir = '';
let reconciler: SetReconciler;
let collector: Collector;

const sh = (name: string, script: string, cpu = 100, mem = 100) => ({ index: 0, image: IMAGE, options: { name, cpu, mem, command: { cmd: 'sh', args: ['-c', script] } } });
const SLEEP = "trap 'exit 0' TERM; sleep 100000 & wait";

async function runSet(appkey: string, resources: SetSpec['resources'], containers: SetSpec['containers']): Promise<void> {
  const r = await reconciler.reconcile(setObject({ appkey, id: 1, resources, containers }, { tenant: TENANT }), { onEvent: () => undefined });
  assert.ok(r.report && 'status' in r.report && r.report.status.phase === 'running', JSON.stringify(r.report));
}

async function exec(container: string, cmd: string[]): Promise<string> {
  const e = await engine.docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  engine.docker.modem.demuxStream(stream, out, out);
  await new Promise((r) => stream.on('end', r));
  return Buffer.concat(chunks).toString().trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const setOf = (r: MetricsReport | undefined, appkey: string): SetMetrics | undefined => r?.sets.find((s) => s.tenant === TENANT && s.appkey === appkey);
const seconds = (a: MetricsReport, b: MetricsReport) => (Date.parse(b.host.time) - Date.parse(a.host.time)) / 1000;
const within = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${what}: ${actual} is not within ±${tolerance * 100}% of ${expected}`);

/** CPU seconds of one process from /proc/<pid>/stat (utime + stime, USER_HZ 100): a second opinion. */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The busy loop should read 0.5 cores (±15%) — when it gets them: on a saturated
 * host (other tests) it gets less, and then the reading must match what its process
 * actually got (±15%).
 */
function checkBusyLoop(cores: number, truth: number, host: MetricsReport['host']): void {
  within(cores, truth, 0.15, 'cores against the process\'s own CPU time');
  const saturated = host.cpu >= host.cpus - 0.3;
  if (saturated && truth < 0.5 * 0.85) console.log(`# host saturated (${host.cpu} of ${host.cpus} cores busy, load ${host.load1}): the loop got ${truth.toFixed(3)} cores, not its 0.5`);
  else within(cores, 0.5, 0.15, 'cores');
}

async function cleanup(): Promise<void> {
  const list = await engine.docker.listContainers({ all: true, filters: { label: [`wharf.tenant=${TENANT}`] } });
  await Promise.all(list.map((c) => engine.docker.getContainer(c.Id).remove({ force: true })));
}

before(async () => {
  if (!enabled) return;
  await cleanup();
  dataDir = await mkdtemp(join(tmpdir(), 'wharf-metrics-'));
  const { volumes } = await testVolumes(dataDir);
  reconciler = new SetReconciler({ engine, host: 'local', dataDir, infraImage: IMAGE, infraPrivilege: resolvePrivilege('auto'), log, exits: new ExitTracker(), volumes });
  collector = new Collector({ engine, uplinks: [], intervalMs: 5_000, log });
  // As the agent does: a Docker event for a container makes the collector inspect it again.
  void engine.watchEvents((e) => collector.inventory.invalidate(e.containerId), events.signal);
  await collector.collect();
});

after(async () => {
  if (!enabled) return;
  events.abort();
  await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

test('real: a busy loop limited to 0.5 CPU reads 0.5 cores (±15%)', { skip }, async () => {
  await runSet('mcpu', { cpu: 0.5, memory: '64Mi' }, [sh('busy', 'while :; do :; done')]);
  const pid = (await engine.docker.getContainer('wharfmetrics_mcpu_1_busy').inspect()).State.Pid;
  await sleep(2_000);
  await collector.collect();
  let cpu0 = await processCpuSeconds(pid);
  let t0 = performance.now();
  for (let i = 0; i < 2; i++) {
    await sleep(5_000);
    const r = await collector.collect();
    const cpu1 = await processCpuSeconds(pid);
    const t1 = performance.now();
    const truth = (cpu1 - cpu0) / ((t1 - t0) / 1000);
    [cpu0, t0] = [cpu1, t1];
    const set = setOf(r, 'mcpu');
    assert.ok(r && set, JSON.stringify(r?.sets));
    const busy = set.containers.busy;
    assert.ok(busy);
    assert.equal(busy.cpuLimit, 0.5);
    assert.deepEqual([...Value.Errors(MetricsReport, r)].map((e) => `${e.path} ${e.message}`), []);
    console.log(`# busy loop at 0.5 CPU: ${busy.cpu} cores (set ${set.set.cpu}; its process got ${truth.toFixed(3)}); throttled ${busy.cpuThrottledPeriods} periods/s, ${busy.cpuThrottledSeconds} s/s; host ${r.host.cpu}/${r.host.cpus} cores busy; collection ${r.host.collectMs} ms wall, ${r.host.collectCpuMs} ms CPU for ${r.host.containers} containers`);
    checkBusyLoop(busy.cpu, truth, r.host);
  }
});

test('real: a process holding 64 MiB in /dev/shm reads 64 MiB (±15%)', { skip }, async () => {
  await runSet('mmem', { cpu: 1, memory: '256Mi' }, [sh('hog', `head -c ${64 * MiB} /dev/zero > /dev/shm/hog; ${SLEEP}`)]);
  const hog = 'wharfmetrics_mmem_1_hog';
  for (let i = 0; i < 50 && (await exec(hog, ['sh', '-c', 'wc -c < /dev/shm/hog'])) !== String(64 * MiB); i++) await sleep(100);
  await collector.collect();
  await sleep(2_000);
  const set = setOf(await collector.collect(), 'mmem');
  assert.ok(set?.containers.hog);
  console.log(`# 64 MiB hog: container ${(set.containers.hog.memory / MiB).toFixed(2)} MiB (rss ${((set.containers.hog.memoryRss ?? 0) / MiB).toFixed(2)}, cache ${((set.containers.hog.memoryCache ?? 0) / MiB).toFixed(2)}), set ${(set.set.memory / MiB).toFixed(2)} MiB, limit ${(set.set.memoryLimit ?? 0) / MiB} MiB`);
  within(set.containers.hog.memory, 64 * MiB, 0.15, 'container memory');
  within(set.set.memory, 64 * MiB, 0.15, 'set memory');
  assert.equal(set.set.memoryLimit, 256 * MiB);
  assert.ok((set.containers.hog.pids ?? 0) >= 1);
});

test('real: a 10 MiB transfer between two sets reads 10 MiB sent by one and received by the other (±10%)', { skip }, async () => {
  const size = 10 * MiB;
  await runSet('msrv', { cpu: 1, memory: '64Mi' }, [sh('www', `mkdir -p /www && head -c ${size} /dev/zero > /www/f && exec httpd -f -p 8080 -h /www`)]);
  // NET_RAW for ping (business containers run without it unless their spec asks).
  const get = sh('get', SLEEP);
  await runSet('mcli', { cpu: 1, memory: '64Mi' }, [{ ...get, options: { ...get.options, security: { capAdd: ['NET_RAW'] } } }]);
  const info = await engine.docker.getContainer('wharfmetrics_msrv_1_infra').inspect();
  const ip = info.NetworkSettings.Networks.bridge?.IPAddress;
  assert.ok(ip, 'the server set has an address on the default bridge');
  await sleep(1_500);
  const before = await collector.collect();
  assert.ok(before);
  assert.equal(await exec('wharfmetrics_mcli_1_get', ['sh', '-c', `wget -q -O - http://${ip}:8080/f | wc -c`]), String(size));
  await sleep(1_000);
  const after = await collector.collect();
  assert.ok(after);
  const dt = seconds(before, after);
  const srv = setOf(after, 'msrv');
  const cli = setOf(after, 'mcli');
  assert.ok(srv && cli);
  const sent = (srv.set.txBytes ?? 0) * dt;
  const received = (cli.set.rxBytes ?? 0) * dt;
  console.log(`# 10 MiB over HTTP in ${dt.toFixed(2)} s: server set sent ${(sent / MiB).toFixed(3)} MiB, client set received ${(received / MiB).toFixed(3)} MiB (packets ${((srv.set.txPackets ?? 0) * dt).toFixed(0)} / ${((cli.set.rxPackets ?? 0) * dt).toFixed(0)})`);
  within(sent, size, 0.1, 'sent');
  within(received, size, 0.1, 'received');
  assert.equal(srv.containers.www?.txBytes, undefined, 'network is per set (one namespace)');
});

test('real: uplink traffic is read in the Docker host\'s namespace (--netns /run/netns/NAME)', { skip }, async () => {
  // The harness's dockerd runs in namespace wharf-e2e-<id>, <id> being its socket's directory; docker0 is there.
  const netns = `/run/netns/wharf-e2e-${basename(dirname(socket))}`;
  if (!existsSync(netns)) return;
  const host = new Collector({ engine, uplinks: ['docker0'], netns, intervalMs: 5_000, log });
  await host.collect();
  const gateway = (await engine.docker.getContainer('wharfmetrics_mcli_1_infra').inspect()).NetworkSettings.Networks.bridge?.Gateway;
  assert.ok(gateway);
  // Rates need the host's CPU ticks to have moved since the first collection (at 100 Hz, a tick is 10 ms).
  await sleep(300);
  const before = await host.collect();
  assert.ok(before);
  // 50 echo requests of 1000 bytes to the bridge's own address: the host side of docker0 sees them all.
  assert.match(await exec('wharfmetrics_mcli_1_get', ['ping', '-q', '-c', '50', '-i', '0.02', '-s', '1000', gateway]), /50 packets transmitted/);
  await sleep(500);
  const after = await host.collect();
  assert.ok(after);
  const dt = seconds(before, after);
  const docker0 = after.host.uplinks.find((u) => u.name === 'docker0');
  assert.ok(docker0, JSON.stringify(after.host.uplinks));
  const frame = 1000 + 8 + 20 + 14;
  console.log(`# docker0 in ${netns}: received ${(docker0.rxBytes * dt).toFixed(0)} B, ${(docker0.rxPackets * dt).toFixed(1)} packets; sent ${(docker0.txBytes * dt).toFixed(0)} B (50 pings of ${frame} B each way)`);
  within(docker0.rxBytes * dt, 50 * frame, 0.1, 'received on docker0');
  within(docker0.txBytes * dt, 50 * frame, 0.1, 'sent on docker0');
});

test('real: after docker restart the rates are sane (never negative, never huge), from the first collection on', { skip }, async () => {
  const busy = 'wharfmetrics_mcpu_1_busy';
  const before = await engine.docker.getContainer(busy).inspect();
  await collector.collect();
  await engine.docker.getContainer(busy).restart({ t: 1 });
  const after = await engine.docker.getContainer(busy).inspect();
  assert.notEqual(after.State.Pid, before.State.Pid);
  const seen: number[] = [];
  let cpu0 = await processCpuSeconds(after.State.Pid);
  let t0 = performance.now();
  for (let i = 0; i < 3; i++) {
    await sleep(3_000);
    const r = await collector.collect();
    const cpu1 = await processCpuSeconds(after.State.Pid);
    const t1 = performance.now();
    const truth = (cpu1 - cpu0) / ((t1 - t0) / 1000);
    [cpu0, t0] = [cpu1, t1];
    assert.ok(r);
    for (const s of r.sets) {
      for (const [k, v] of Object.entries(s.set)) assert.ok(Number.isFinite(v) && v >= 0, `${s.appkey} ${k} = ${v}`);
      assert.ok(s.set.cpu <= r.host.cpus, `${s.appkey} cpu ${s.set.cpu} on ${r.host.cpus} cores`);
      assert.ok((s.set.rxBytes ?? 0) < 1e9 && (s.set.txBytes ?? 0) < 1e9);
    }
    const cpu = setOf(r, 'mcpu')?.containers.busy?.cpu;
    if (cpu === undefined) continue;
    seen.push(cpu);
    // The first reading after the restart covers the time since its start, not since the last collection.
    if (i > 0) checkBusyLoop(cpu, truth, r.host);
    else assert.ok(cpu <= 0.5 * 1.15, `first reading after the restart ${cpu}`);
  }
  console.log(`# after docker restart: busy loop reads ${seen.join(', ')} cores`);
  assert.ok(seen.length >= 2, 'measured again at once');
});
