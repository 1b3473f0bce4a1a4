/**
 * network: the data plane and the IPAM.
 *
 * 1. Throughput set → set across two harness hosts (each set on its host's uplink
 *    with its platform IP, Docker macvlan, no overlay), beside host → host over the
 *    same underlay (the hosts' own eth0 addresses), interleaved, iperf3 (one TCP
 *    stream) for --seconds each, --runs times. Ratio = set/host per run, median over
 *    the runs (no overlay: ≥ 0.9 expected). On these VMs both paths are CPU-bound
 *    (veth and bridge in software), so the ratio shows the cost of the macvlan hop
 *    and the set's firewall per packet; a physical NIC would be the limit instead.
 * 2. IPAM: --sets sets written straight into a SQLite store (a file, so commits
 *    fsync as in production), then timed until the placement controller has placed
 *    them all; once on a network (each placement also claims an IP in the same
 *    transaction), once without networks (the peer: placement alone).
 *
 *   npm run bench -- network [--runs 5] [--seconds 5] [--sets 2000]
 *
 * The last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { Keys, PlacementController } from '@wharf/server';
import type { SetObject, SetView } from '@wharf/types';
import { Cluster } from '../../e2e/dist/harness/cluster.js';
import { waitFor } from '../../e2e/dist/harness/exec.js';
import { LOOP } from '../../e2e/dist/harness/images.js';
import { containerNetns, iperf } from '../../e2e/dist/harness/iperf.js';
import { netnsPath } from '../../e2e/dist/harness/network.js';
import { median, positiveInt, round } from './stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    sets: { type: 'string', default: '2000' },
  },
});
const runs = positiveInt('runs', values.runs);
const seconds = positiveInt('seconds', values.seconds);
const sets = positiveInt('sets', values.sets);


async function throughput(): Promise<{ set: number[]; host: number[] }> {
  const cluster = await Cluster.start({ hosts: [{ name: 'h1', zone: 'z1', rack: 'r1' }, { name: 'h2', zone: 'z2', rack: 'r2' }] });
  try {
    const c = cluster.platform.client;
    await cluster.addLan(200);
    for (const [id, zone] of [[1, 'z1'], [2, 'z2']] as const) {
      await c.applySet({ appkey: 'bench.net', id, resources: { cpu: 1, memory: '64Mi' }, placement: { zones: [zone] }, containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'main', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    }
    const placed = await waitFor('both sets running', async () => {
      const list = await c.listSets({ appkey: 'bench.net' });
      return list.length === 2 && list.every((s) => s.status === 'running') ? list : undefined;
    }, 60_000, 200);
    const ns = async (s: SetView) => containerNetns((await cluster.host(s.host as string).inspect(`${s.tenant}_${s.appkey}_${s.id}_infra`)).State.Pid as number);
    const [a, b] = placed.sort((x, y) => Number(x.id) - Number(y.id)) as [SetView, SetView];
    const [nsA, nsB] = [await ns(a), await ns(b)];
    const [h1, h2] = [cluster.host('h1'), cluster.host('h2')];
    const out = { set: [] as number[], host: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const viaSets = await iperf(nsA, nsB, b.ips[0]?.ip as string, seconds);
      const viaHosts = await iperf(netnsPath(h1.netns), netnsPath(h2.netns), h2.address as string, seconds);
      out.set.push(viaSets.mbits);
      out.host.push(viaHosts.mbits);
      console.log(`run ${i + 1}: set→set ${round(viaSets.mbits)} Mbit/s, host→host ${round(viaHosts.mbits)} Mbit/s, ratio ${round(viaSets.mbits / viaHosts.mbits, 3)}`);
    }
    return out;
  } finally {
    await cluster.stop();
  }
}

/** Seconds until the placement controller has placed `n` sets on 100 hosts (with or without a network). */
async function placementSeconds(n: number, withNetwork: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-ipam-'));
  const store = SqliteStore.open(join(dir, 'store.db'));
  const log = pino({ level: 'silent' });
  try {
    const now = new Date().toISOString();
    if (withNetwork) await store.put(Keys.network('lan'), { name: 'lan', subnet: '10.64.0.0/16', gateway: '10.64.0.1', default: true, createdAt: now });
    for (let i = 0; i < 100; i++) {
      const name = `h${String(i).padStart(3, '0')}`;
      await store.put(Keys.host(name), {
        name, zone: `z${i % 4}`, rack: `r${i}`, labels: {}, capacity: { cpu: 1000, memory: 2 ** 40, disk: 2 ** 44 },
        agentUrl: 'http://127.0.0.1:1', agentVersion: 'bench', dockerVersion: 'bench', registeredAt: now, lastHeartbeat: new Date(Date.now() + 3_600_000).toISOString(), cordoned: false,
        ...(withNetwork ? { networks: [{ name: 'lan', uplink: 'eth0' }] } : {}),
      });
    }
    const ops = Array.from({ length: n }, (_, i) => {
      const set: SetObject = {
        tenant: 'default', appkey: 'bench.ipam', id: String(i), generation: 1, desired: 'running', createdAt: now, updatedAt: now,
        spec: { appkey: 'bench.ipam', id: i, resources: { cpu: 0.1, memory: '32Mi', disk: '64Mi' }, containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'main' } }] },
      };
      return { type: 'put' as const, key: Keys.set('default', 'bench.ipam', String(i)), value: set };
    });
    await store.txn([], ops);
    const controller = new PlacementController(store, log, 60_000);
    const started = performance.now();
    await controller.start();
    await waitFor(`${n} sets placed`, async () => {
      const { items } = await store.list<SetObject>(Keys.setsPrefix);
      return items.every((kv) => kv.value.host && (!withNetwork || kv.value.ips?.length));
    }, 600_000, 50);
    const secs = (performance.now() - started) / 1000;
    controller.stop();
    if (withNetwork) {
      const { items } = await store.list(Keys.ipamPrefix);
      if (items.length !== n) throw new Error(`${items.length} IPs claimed for ${n} sets`);
    }
    return secs;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const tp = await throughput();
const setMbits = median(tp.set);
const hostMbits = median(tp.host);
const ratio = median(tp.set.map((x, i) => x / (tp.host[i] as number)));
console.log(`throughput (median of ${runs} × ${seconds} s): set→set ${round(setMbits)} Mbit/s, host→host ${round(hostMbits)} Mbit/s, ratio ${round(ratio, 3)} (median of the runs' ratios)`);

const withIp = await placementSeconds(sets, true);
const without = await placementSeconds(sets, false);
console.log(`IPAM: ${sets} sets placed with an IP each in ${round(withIp, 2)} s (${round(sets / withIp)} allocations/s); placement alone ${round(without, 2)} s (${round(sets / without)} sets/s); ratio ${round(withIp / without, 3)}`);

console.log(JSON.stringify({
  benchmark: 'network',
  runs, seconds,
  throughputMbits: { setToSet: round(setMbits), hostToHost: round(hostMbits), ratio: round(ratio, 3), setRuns: tp.set.map((x) => round(x)), hostRuns: tp.host.map((x) => round(x)) },
  ipam: { sets, secondsWithIp: round(withIp, 2), allocationsPerSecond: round(sets / withIp), secondsPlacementOnly: round(without, 2), ratio: round(withIp / without, 3) },
}));
