/**
 * Images on the hosts, against the real platform registry on a harness host: a cold
 * start shows the pull's progress in the set's events; a set's images are pre-pulled
 * as soon as it is placed (beside its reconcile); the host's image GC removes an
 * unused platform image and keeps those in use; and a pull-through mirror of another
 * local Distribution (the upstream, plain HTTP, started here) serves an upstream image
 * to the host, and serves it again once the upstream is stopped.
 *
 * Images are built under a name outside the platform registry and tagged for the push,
 * so the image GC (which only removes images it can fetch again) never races a push.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SetEvent } from '@wharf/types';
import { OWNER_FILE, type DockerHost } from './harness/docker-host.js';
import { Platform } from './harness/platform.js';
import { freePort, literal, run, stopChild, waitFor, type RunResult } from './harness/exec.js';
import { buildImage, LOOP } from './harness/images.js';
import { NetnsPortal } from './harness/netns-portal.js';

const APP = 'e2e.images';
/** The upstream listens on another loopback address than the harness's portals use, so Docker treats it as insecure (plain HTTP) in the host's namespace too. */
const UPSTREAM_HOST = '127.0.0.2';

describe('images on hosts', () => {
  let wharf: Platform;
  let host: DockerHost;
  let addr: string;
  let upstream: ChildProcess | undefined;
  let upstreamPort = 0;
  const scratch = mkdtempSync('/tmp/wharf-e2e-upstream-');
  writeFileSync(join(scratch, OWNER_FILE), `${process.pid}\n`);
  const cliConfig = join(scratch, 'docker-cli');

  const docker = (args: string[], input?: string): Promise<RunResult> =>
    run('docker', ['--config', cliConfig, '-H', `unix://${host.socket}`, ...args], input !== undefined ? { input } : {});
  const hasImage = async (ref: string) => (await host.docker(['image', 'inspect', ref])).code === 0;
  const events = (id: number): Promise<SetEvent[]> => wharf.client.setEvents(APP, id);

  /** Builds `local` on the host (unless `lines` is not given: it is there), pushes it as `remote`, and leaves the host without either. */
  async function publish(local: string, remote: string, lines?: string[]): Promise<void> {
    if (lines) await buildImage(host, local, lines);
    assert.equal((await docker(['tag', local, remote])).code, 0);
    const push = await docker(['push', remote]);
    assert.equal(push.code, 0, push.stderr);
    await docker(['rmi', local, remote]);
    assert.equal(await hasImage(remote), false);
  }

  const runSet = (id: number, images: string[]) =>
    wharf.client.applySet({ id, appkey: APP, containers: images.map((image, index) => ({ index, image, options: { name: `c${index}`, command: { cmd: '/bin/sh', args: ['-c', LOOP] } } })) });

  before(async () => {
    upstreamPort = await freePort();
    writeFileSync(join(scratch, 'upstream.yml'), [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(scratch, 'upstream')} } }`,
      `http: { addr: "${UPSTREAM_HOST}:${upstreamPort}" }`,
    ].join('\n'));
    upstream = spawn('docker-registry', ['serve', join(scratch, 'upstream.yml')], { stdio: 'ignore' });
    await waitFor('the upstream registry', async () => (await fetch(`http://${UPSTREAM_HOST}:${upstreamPort}/v2/`)).ok, 30_000);
    wharf = await Platform.onOwnHost('img1', {
      registry: true,
      mirrors: [`http://${UPSTREAM_HOST}:${upstreamPort}`],
      agentArgs: ['--image-gc-after', '4s', '--image-gc-interval', '1s'],
    });
    host = wharf.host('img1');
    addr = wharf.registryAddress!;
    const login = await docker(['login', addr, '--username', 'someone', '--password-stdin'], wharf.adminToken);
    assert.equal(login.code, 0, login.stderr);
  });

  after(async () => {
    await wharf?.stop();
    await stopChild(upstream);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a cold start shows the pull in the set events: Pulling with percent and bytes, Pulled with time and size', async () => {
    const image = `${addr}/default/big:1`;
    // Three incompressible 12 MiB layers: a pull long enough to report progress.
    await publish('e2e/big:1', image, [1, 2, 3].map((i) => `RUN head -c 12582912 /dev/urandom > /blob${i}`));
    await runSet(1, [image]);
    await wharf.waitRunning(APP, 1, 120_000);
    const pulls = (await events(1)).filter((e) => e.reason === 'Pulling' || e.reason === 'Pulled').map((e) => e.message);
    assert.equal(pulls[0], `Pulling image ${image}`, pulls.join('\n'));
    const steps = pulls.filter((m) => / \d+% \(/.test(m));
    assert.ok(steps.length >= 1 && steps.length <= 3, pulls.join('\n'));
    for (const m of steps) assert.match(m, new RegExp(`^Pulling image ${literal(image)}: (2[5-9]|[3-9]\\d)% \\(\\d+(\\.\\d)?Mi of 3\\d(\\.\\d)?Mi\\)$`));
    assert.match(pulls.at(-1) ?? '', new RegExp(`^Pulled image ${literal(image)} in \\d+\\.\\ds \\(3\\d(\\.\\d)?Mi, 3\\d(\\.\\d)?Mi downloaded\\)$`));
  });

  it("a newly placed set's images are pre-pulled, beside its reconcile", async () => {
    const image = `${addr}/default/pre:1`;
    await publish('e2e/pre:1', image, ['RUN echo pre > /pre']);
    // c0's image does not exist: the set's reconcile stops there and never asks for c1's.
    const absent = `${addr}/default/absent:1`;
    await runSet(2, [absent, image]);
    const s = await wharf.waitForSet(APP, 2, 'failed', (v) => v.status === 'failed', 90_000);
    assert.match(s.message ?? '', new RegExp(`^cannot pull image ${literal(absent)}: .*(not found|manifest unknown)`));
    await waitFor(`${image} pre-pulled`, () => hasImage(image), 60_000, 200);
    const e = await waitFor('the Pulled event of set 2', async () => (await events(2)).find((x) => x.reason === 'Pulled' && x.message.startsWith(`Pulled image ${image} in `)), 30_000, 500);
    assert.ok(e);
    assert.ok((await events(2)).some((x) => x.type === 'Warning' && x.reason === 'ImagePullFailed' && x.message.includes(absent)));
  });

  it('the host GC removes an unused platform image; images in use, wanted or not from the platform stay', async () => {
    const old = `${addr}/default/old:1`;
    await buildImage(host, 'e2e/old:1', ['RUN echo old > /old']);
    assert.equal((await docker(['tag', 'e2e/old:1', old])).code, 0);
    assert.equal((await docker(['push', old])).code, 0);
    await buildImage(host, 'e2e/local:1', ['RUN echo local > /local']);
    // From here on only the platform name holds old:1.
    assert.equal((await docker(['rmi', 'e2e/old:1'])).code, 0);
    await waitFor(`${old} removed by the image GC`, async () => !(await hasImage(old)), 90_000, 500);
    for (const kept of [`${addr}/default/big:1`, `${addr}/default/pre:1`, 'e2e/local:1', 'wharf/busybox:latest']) assert.ok(await hasImage(kept), `${kept} kept`);
    const log = await waitFor('the GC log line', async () => wharf.logs('agent-img1').split('\n').find((l) => l.includes('image GC removed an unused image') && l.includes(old)), 10_000, 200);
    const line = JSON.parse(log) as { bytes?: number; tags?: string[] };
    assert.ok((line.bytes ?? 0) > 0, log);
    assert.deepEqual(line.tags, [old]);
    await waitFor('a heartbeat without the removed image', async () => {
      const images = (await wharf.client.getHost('img1')).images ?? [];
      return images.includes(`${addr}/default/big:1`) && !images.includes(old);
    }, 30_000, 500);
  });

  it('a mirror serves an upstream image to the host, and serves it again with the upstream stopped', async () => {
    const upstreamName = `${UPSTREAM_HOST}:${upstreamPort}`;
    const image = `${upstreamName}/team/app:1`;
    const mirror = wharf.mirrorAddress(0);
    const info = await wharf.client.request<{ mirrors?: { upstream: string; address: string; running: boolean }[] }>('GET', '/v1/registry');
    assert.deepEqual(info.mirrors, [{ upstream: upstreamName, address: mirror, running: true }]);
    // The host reaches the upstream only to publish the image; then only the mirror does.
    const portal = await NetnsPortal.open({ netns: host.netns, address: UPSTREAM_HOST, ports: [upstreamPort], dir: scratch, target: UPSTREAM_HOST });
    try {
      // One layer of its own (no base the host has), so the mirror is asked for every blob the upstream holds.
      assert.equal((await host.docker(['run', '--name', 'e2e-upstream-src', 'wharf/busybox:latest', 'sh', '-c', 'echo upstream > /version'])).code, 0);
      const dockerH = `docker -H unix://${host.socket}`;
      const imported = await run('sh', ['-c', `${dockerH} export e2e-upstream-src | ${dockerH} import - e2e/app:1`]);
      assert.equal(imported.code, 0, imported.stderr);
      await host.docker(['rm', 'e2e-upstream-src']);
      await publish('e2e/app:1', image);
    } finally {
      await portal.close();
    }

    await runSet(4, [image]);
    await wharf.waitRunning(APP, 4, 120_000);
    assert.ok((await events(4)).some((e) => e.message === `Pulling image ${image} from the mirror ${mirror}`), JSON.stringify(await events(4)));
    assert.ok(await hasImage(image));
    assert.equal(await hasImage(`${mirror}/team/app:1`), false, 'the mirror name is dropped');
    // Distribution keeps what it passed on in the background: wait until it holds every blob the upstream has
    // (the image's manifest, config and layer).
    const blobs = (dir: string) => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('/data')).length;
    const upstreamBlobs = join(scratch, 'upstream/docker/registry/v2/blobs');
    const mirrorBlobs = join(wharf.serverDir, 'registry/mirrors', upstreamName.replace(':', '_'), 'data/docker/registry/v2/blobs');
    await waitFor('the mirror holding the image', async () => blobs(mirrorBlobs) >= blobs(upstreamBlobs), 30_000, 200);

    await stopChild(upstream);
    upstream = undefined;
    await wharf.client.deleteSet(APP, 4);
    await waitFor('set 4 gone', async () => !(await wharf.client.listSets({ appkey: APP })).some((s) => s.id === '4'), 60_000, 500);
    await waitFor(`${image} off the host`, async () => {
      await host.docker(['rmi', image]);
      return !(await hasImage(image));
    }, 30_000, 500);

    await runSet(5, [image]);
    await wharf.waitRunning(APP, 5, 120_000);
    assert.ok((await events(5)).some((e) => e.reason === 'Pulled' && e.message.startsWith(`Pulled image ${image} in `)), JSON.stringify(await events(5)));
    assert.equal((await host.docker(['exec', (await wharf.client.getSet(APP, 5)).containers.find((c) => c.name === 'c0')?.containerId ?? '', 'cat', '/version'])).stdout.trim(), 'upstream');
  });
});
