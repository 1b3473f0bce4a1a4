/**
 * image: the platform registry on the path of a set and of an upload.
 *
 * 1. Set start, cold vs warm: API create → running for a set whose image is in the
 *    platform registry but not on the host (the agent pulls it over TLS with the host
 *    credentials, then runs it), against the same set with the image already on the
 *    host; --runs each, interleaved (the image is removed from the host before each
 *    cold run).
 * 2. Upload: a new image each run (busybox plus a layer of --mb MiB of binaries,
 *    unique per run, so the registry lacks it), `docker save`d; `wharf image push` of
 *    the tar (through wharf-server, which skips the busybox layer the registry has)
 *    against `docker push` of the same image to the same registry (which also skips
 *    its base layer), --runs times interleaved. Wall time of each CLI, start to end.
 *
 *   npm run bench -- image [--runs 5] [--mb 16]
 *
 * The last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Platform } from '../../e2e/dist/harness/platform.js';
import { run, waitFor } from '../../e2e/dist/harness/exec.js';
import { LOOP, buildImage } from '../../e2e/dist/harness/images.js';
import { median, percentile, positiveInt, round } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, mb: { type: 'string', default: '16' } } });
const runs = positiveInt('runs', values.runs);
const mb = positiveInt('mb', values.mb);
const APP = 'bench.image';
const scratch = mkdtempSync('/var/tmp/wharf-bench-image-');
const cliConfig = join(scratch, 'docker-cli');
const ms = (t0: number) => performance.now() - t0;

let wharf: Platform | undefined;
try {
  wharf = await Platform.onOwnHost('bimg', { registry: true });
  const w = wharf;
  const host = w.host('bimg');
  const addr = w.registryAddress!;
  const docker = async (args: string[], input?: string) => {
    const r = await run('docker', ['--config', cliConfig, '-H', `unix://${host.socket}`, ...args], input !== undefined ? { input } : {});
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  await docker(['login', addr, '--username', 'bench', '--password-stdin'], w.adminToken);

  /** A new image: busybox and --mb MiB of copies of its binary, with a per-run marker so every layer is new. */
  const newImage = async (tag: string, marker: string) => {
    await buildImage(host, tag, [`RUN echo ${marker} > /marker && n=$(( ${mb} * 1048576 / $(stat -c %s /bin/busybox) + 1 )) && for i in $(seq $n); do cp /bin/busybox /bin-$i; echo ${marker}-$i >> /bin-$i; done`]);
  };

  // ---- 1. cold vs warm set start ----
  const image = `${addr}/bench/app:1`;
  await newImage('bench-app:1', 'start');
  await docker(['tag', 'bench-app:1', image]);
  await docker(['push', image]);
  await docker(['rmi', image, 'bench-app:1']);
  const imageSize = (await w.client.forTenant('bench').getImage('app')).size;
  const startOnce = async (id: number) => {
    const t0 = performance.now();
    await w.client.applySet({ id, appkey: APP, containers: [{ index: 0, image, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    await waitFor('running', async () => (await w.client.getSet(APP, id)).status === 'running', 120_000, 5);
    const took = ms(t0);
    await w.client.deleteSet(APP, id);
    await waitFor('deleted', async () => (await w.client.listSets({ appkey: APP })).length === 0, 60_000, 20);
    return took;
  };
  // Warm-up: server, agent and the infra image.
  await startOnce(1000);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    await docker(['rmi', image]);
    cold.push(await startOnce(i * 2));
    warm.push(await startOnce(i * 2 + 1));
    process.stderr.write(`\rstart ${i + 1}/${runs}: cold ${round(cold[i]!)} ms, warm ${round(warm[i]!)} ms   `);
  }
  process.stderr.write('\n');

  // ---- 2. upload: wharf image push of a saved tar vs docker push ----
  const viaWharf: number[] = [];
  const viaDocker: number[] = [];
  let sentBytes = 0;
  const uploadRound = async (i: number) => {
    const tag = `bench-up:${i}`;
    await newImage(tag, `upload-${i}-${Date.now()}`);
    const file = join(scratch, `up-${i}.tar`);
    await docker(['save', '-o', file, tag]);
    let t0 = performance.now();
    const pushed = await w.cli(['--tenant', 'bench', 'image', 'push', file, `up:${i}`, '-o', 'json']);
    const wharfMs = ms(t0);
    if (pushed.code !== 0) throw new Error(`wharf image push: ${pushed.stderr}`);
    const ref = `${addr}/bench/up-docker:${i}`;
    await docker(['tag', tag, ref]);
    t0 = performance.now();
    await docker(['push', ref]);
    const dockerMs = ms(t0);
    const r = JSON.parse(pushed.stdout) as { received: number };
    rmSync(file);
    await docker(['rmi', ref, tag]);
    return { wharfMs, dockerMs, sent: r.received };
  };
  await uploadRound(1000);
  for (let i = 0; i < runs; i++) {
    const r = await uploadRound(i);
    viaWharf.push(r.wharfMs);
    viaDocker.push(r.dockerMs);
    sentBytes = r.sent;
    process.stderr.write(`\rupload ${i + 1}/${runs}: wharf ${round(r.wharfMs)} ms, docker push ${round(r.dockerMs)} ms   `);
  }
  process.stderr.write('\n');

  const result = {
    bench: 'image',
    runs,
    image_mb: round(imageSize / 1024 / 1024, 1),
    cold_start_p50_ms: round(median(cold)),
    cold_start_p99_ms: round(percentile(cold, 99)),
    warm_start_p50_ms: round(median(warm)),
    cold_over_warm_p50: round(median(cold) / median(warm), 2),
    layer_mb: mb,
    sent_mb: round(sentBytes / 1024 / 1024, 1),
    wharf_push_p50_ms: round(median(viaWharf)),
    docker_push_p50_ms: round(median(viaDocker)),
    push_ratio_p50: round(median(viaWharf) / median(viaDocker), 2),
  };
  console.log(`image (${runs} runs)`);
  console.log(`  set start, image ${result.image_mb} MiB (compressed) in the registry:`);
  console.log(`    cold (pull + run)  p50 ${result.cold_start_p50_ms} ms, p99 ${result.cold_start_p99_ms} ms`);
  console.log(`    warm (on the host) p50 ${result.warm_start_p50_ms} ms   cold/warm ${result.cold_over_warm_p50}`);
  console.log(`  upload of a new ${mb} MiB layer on a base the registry has (${result.sent_mb} MiB sent by wharf):`);
  console.log(`    wharf image push (saved tar) p50 ${result.wharf_push_p50_ms} ms`);
  console.log(`    docker push                  p50 ${result.docker_push_p50_ms} ms   wharf/docker ${result.push_ratio_p50}`);
  console.log(JSON.stringify(result));
} finally {
  await wharf?.stop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
