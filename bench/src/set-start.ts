/**
 * set-start: API create → every container running, for a set of infra + one
 * business container with a warm image; side by side with the same two
 * containers created by the docker CLI (`docker run` infra, then
 * `docker run --network container:…`), on the same dockerd, runs interleaved.
 *
 *   npm run bench -- set-start [--runs 30]
 */
import { parseArgs } from 'node:util';
import { DockerHost } from '../../e2e/dist/harness/docker-host.js';
import { Platform } from '../../e2e/dist/harness/platform.js';
import { waitFor } from '../../e2e/dist/harness/exec.js';
import { LOOP } from '../../e2e/dist/harness/images.js';
import { percentile, round } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);

function spec(i: number) {
  return {
    id: i, appkey: 'bench.setstart',
    resources: { cpu: 1, memory: '256Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', cpu: 50, mem: 50, command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
  };
}

async function wharfOnce(wharf: Platform, i: number): Promise<number> {
  const t0 = performance.now();
  await wharf.client.applySet(spec(i));
  await waitFor('running', async () => (await wharf.client.getSet('bench.setstart', i)).status === 'running', 30_000, 5);
  const ms = performance.now() - t0;
  await wharf.client.deleteSet('bench.setstart', i);
  await waitFor('deleted', async () => (await wharf.client.listSets({ appkey: 'bench.setstart' })).length === 0, 30_000, 20);
  return ms;
}

/** The docker flags that give an infra container what Wharf's agent gives it on this host. */
async function infraFlags(host: DockerHost): Promise<string[]> {
  const [id] = await host.containerIds('label=wharf.role=infra');
  if (!id) throw new Error('no Wharf infra container to copy the privileges of');
  const hc = (await host.inspect(id)).HostConfig as { Privileged: boolean; CapAdd?: string[]; CapDrop?: string[]; SecurityOpt?: string[] };
  if (hc.Privileged) return ['--privileged'];
  return [...(hc.CapAdd ?? []).flatMap((c) => ['--cap-add', c]), ...(hc.CapDrop ?? []).flatMap((c) => ['--cap-drop', c]), ...(hc.SecurityOpt ?? []).flatMap((o) => ['--security-opt', o])];
}

async function dockerOnce(host: DockerHost, i: number, privileges: string[]): Promise<number> {
  const infra = `bench-infra-${i}`;
  const t0 = performance.now();
  const a = await host.docker(['run', '-d', '--name', infra, ...privileges, '--ipc', 'shareable', 'wharf/busybox:latest', 'sh', '-c', LOOP]);
  const b = await host.docker(['run', '-d', '--name', `bench-app-${i}`, '--network', `container:${infra}`, '--ipc', `container:${infra}`,
    '--cpus', '0.5', '--memory', '128m', 'wharf/busybox:latest', 'sh', '-c', LOOP]);
  const ms = performance.now() - t0;
  if (a.code !== 0 || b.code !== 0) throw new Error(`docker run failed: ${a.stderr}${b.stderr}`);
  await host.docker(['rm', '-f', `bench-app-${i}`, infra]);
  return ms;
}

async function main(): Promise<void> {
  const host = await DockerHost.start('bench');
  let wharf: Platform | undefined;
  try {
    wharf = await Platform.start([host]);
    // Warm-up (image cache, JIT, SQLite pages); the set stays a moment to copy its infra privileges.
    await wharf.client.applySet(spec(1000));
    await waitFor('warm-up running', async () => (await wharf?.client.getSet('bench.setstart', 1000))?.status === 'running', 30_000, 5);
    const privileges = await infraFlags(host);
    await wharf.client.deleteSet('bench.setstart', 1000);
    await waitFor('warm-up deleted', async () => (await wharf?.client.listSets({ appkey: 'bench.setstart' }))?.length === 0, 30_000, 20);
    await dockerOnce(host, 1000, privileges);
    const w: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < runs; i++) {
      w.push(await wharfOnce(wharf, i));
      d.push(await dockerOnce(host, i, privileges));
      process.stderr.write(`\rrun ${i + 1}/${runs}: wharf ${round(w[i] as number)} ms, docker ${round(d[i] as number)} ms   `);
    }
    process.stderr.write('\n');
    const result = {
      bench: 'set-start',
      runs,
      wharf_p50_ms: round(percentile(w, 50)),
      wharf_p99_ms: round(percentile(w, 99)),
      docker_p50_ms: round(percentile(d, 50)),
      docker_p99_ms: round(percentile(d, 99)),
      ratio_p50: round(percentile(w, 50) / percentile(d, 50), 2),
    };
    console.log(`set-start (${runs} runs, infra + 1 business container, warm image)`);
    console.log(`            p50 ms   p99 ms`);
    console.log(`  wharf   ${String(result.wharf_p50_ms).padStart(8)} ${String(result.wharf_p99_ms).padStart(8)}`);
    console.log(`  docker  ${String(result.docker_p50_ms).padStart(8)} ${String(result.docker_p99_ms).padStart(8)}`);
    console.log(`  ratio p50 (wharf/docker): ${result.ratio_p50}`);
    console.log(JSON.stringify(result));
  } finally {
    await wharf?.stop().catch(() => undefined);
    await host.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
