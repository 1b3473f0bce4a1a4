/**
 * volume: what a hard quota costs.
 *
 * 1. Create: a volume with a hard limit in Wharf's btrfs pool (subvolume + qgroup
 *    limit, through the agent's driver) beside `docker volume create` (Docker's
 *    local driver: a plain directory, no limit) on a test dockerd, --volumes each,
 *    interleaved. Grow: raising a volume's limit online (Docker's local volumes have
 *    no size, so no peer).
 * 2. Write throughput inside a container: `dd` of --mb MiB with fsync into a
 *    quota'd volume vs into an unlimited directory on the same disk (the pool is a
 *    loop file on that disk), --runs times interleaved; ratio = quota'd/unlimited.
 *
 *   npm run bench -- volume [--volumes 50] [--runs 5] [--mb 256]
 *
 * The last line is JSON.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BtrfsDriver } from '../../packages/agent/dist/volumes/btrfs.js';
import { Commands } from '../../packages/agent/dist/volumes/commands.js';
import { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { quiet } from '../../e2e/dist/harness/exec.js';
import { median, percentile, positiveInt, round } from './stats.js';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '50' },
    runs: { type: 'string', default: '5' },
    mb: { type: 'string', default: '256' },
  },
});
const volumes = positiveInt('volumes', values.volumes);
const runs = positiveInt('runs', values.runs);
const mb = positiveInt('mb', values.mb);
const GiB = 1024 ** 3;
const ms = (t0: number) => performance.now() - t0;

// On the disk (not tmpfs): the pool's loop file and the unlimited directory share it.
const base = mkdtempSync('/var/tmp/wharf-bench-volume-');
const driver = new BtrfsDriver(new Commands(), { dataDir: base, sizeBytes: 20 * GiB });
let host: DockerHost | undefined;
try {
  await driver.setup();
  host = await DockerHost.start('bvol');
  const docker = async (args: string[]) => {
    const r = await (host as DockerHost).docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  // 1. create and grow
  const wharfCreate: number[] = [];
  const dockerCreate: number[] = [];
  const grow: number[] = [];
  for (let i = 0; i < volumes; i++) {
    const set = { tenant: 'bench', appkey: 'vol', id: String(i) };
    let t0 = performance.now();
    await driver.create(set, GiB);
    wharfCreate.push(ms(t0));
    t0 = performance.now();
    await docker(['volume', 'create', `bench${i}`]);
    dockerCreate.push(ms(t0));
    t0 = performance.now();
    await driver.setQuota(set, 2 * GiB);
    grow.push(ms(t0));
  }
  console.log(`create: Wharf btrfs volume with a hard limit p50 ${round(median(wharfCreate))} ms (p99 ${round(percentile(wharfCreate, 99))}), docker volume create p50 ${round(median(dockerCreate))} ms; ratio ${round(median(wharfCreate) / median(dockerCreate), 2)}`);
  console.log(`grow online (1Gi → 2Gi): p50 ${round(median(grow))} ms (p99 ${round(percentile(grow, 99))})`);

  // 2. write throughput: quota'd volume vs unlimited directory on the same disk
  const quotaSet = { tenant: 'bench', appkey: 'write', id: 'q' };
  await driver.create(quotaSet, 4 * GiB);
  const quotaDir = join(driver.pool, 'volumes', 'bench', 'write', 'q');
  const plainDir = join(base, 'plain');
  mkdirSync(plainDir, { recursive: true });
  const image = 'wharf/busybox:latest';
  const quotaId = await docker(['run', '-d', '-v', `${quotaDir}:/data`, image, 'sleep', '3600']);
  const plainId = await docker(['run', '-d', '-v', `${plainDir}:/data`, image, 'sleep', '3600']);
  // busybox dd prints no rate: the write is timed around `docker exec` (the same small
  // exec overhead on both sides), the file removed outside the timing.
  const dd = async (id: string) => {
    const t0 = performance.now();
    const r = await (host as DockerHost).docker(['exec', id, 'dd', 'if=/dev/zero', 'of=/data/f', 'bs=1M', `count=${mb}`, 'conv=fsync']);
    const secs = ms(t0) / 1000;
    if (r.code !== 0) throw new Error(`dd failed: ${r.stderr}`);
    await (host as DockerHost).docker(['exec', id, 'sh', '-c', 'rm -f /data/f; sync']);
    return mb / secs;
  };
  const quotaRates: number[] = [];
  const plainRates: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const q = await dd(quotaId);
    const p = await dd(plainId);
    quotaRates.push(q);
    plainRates.push(p);
    ratios.push(q / p);
    console.log(`run ${i + 1}: quota'd volume ${round(q)} MiB/s, unlimited directory ${round(p)} MiB/s, ratio ${round(q / p, 3)}`);
  }
  await docker(['rm', '-f', quotaId, plainId]);
  console.log(`write ${mb} MiB with fsync (median of ${runs}): quota'd ${round(median(quotaRates))} MiB/s, unlimited ${round(median(plainRates))} MiB/s, ratio ${round(median(ratios), 3)}`);

  console.log(JSON.stringify({
    benchmark: 'volume',
    volumes, runs, mb,
    createMs: { wharfP50: round(median(wharfCreate)), wharfP99: round(percentile(wharfCreate, 99)), dockerVolumeCreateP50: round(median(dockerCreate)), ratio: round(median(wharfCreate) / median(dockerCreate), 2) },
    growMs: { p50: round(median(grow)), p99: round(percentile(grow, 99)) },
    writeMiBs: { quota: round(median(quotaRates)), unlimited: round(median(plainRates)), ratio: round(median(ratios), 3) },
  }));
} finally {
  await host?.stop().catch(() => undefined);
  // Unmount the pool and free its loop device, then remove everything.
  quiet('umount', ['-R', join(base, 'pool')]);
  for (const line of quiet('losetup', ['-j', join(base, 'pool.img')]).split('\n')) {
    const dev = line.split(':')[0];
    if (dev) quiet('losetup', ['-d', dev]);
  }
  rmSync(base, { recursive: true, force: true });
}
