/**
 * The image catalog and uploads against the real thing: wharf-server with the
 * platform registry (Distribution), a harness host with its agent, the real docker
 * CLI and the real `wharf` CLI.
 *
 * - docker push → `wharf image ls` shows the tag with its digest, size and pusher
 *   (the registry's notification reached the server);
 * - a set using it is listed under it, and `wharf image rm` is refused naming the set;
 * - `docker save` → `wharf image push` → a set runs from it (pulled by the agent);
 * - a second archive on the same base sends only its new layer (bytes measured);
 * - another tenant's repositories are invisible to it, and to callers without the
 *   admin token, until made public;
 * - removed images are freed by garbage collection, images still tagged stay pullable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRepository, ImageUploadResult, RegistryGcRun } from '@wharf/types';
import type { DockerHost } from './harness/docker-host.js';
import { Platform } from './harness/platform.js';
import { run, waitFor, type RunResult } from './harness/exec.js';
import { LOOP, buildImage } from './harness/images.js';

describe('image catalog and uploads', () => {
  let wharf: Platform;
  let host: DockerHost;
  let addr: string;
  const scratch = mkdtempSync('/tmp/wharf-e2e-images-');
  const cliConfig = join(scratch, 'docker-cli');

  const docker = (args: string[], input?: string): Promise<RunResult> =>
    run('docker', ['--config', cliConfig, '-H', `unix://${host.socket}`, ...args], input !== undefined ? { input } : {});
  const must = async (r: Promise<RunResult>, what: string) => {
    const res = await r;
    assert.equal(res.code, 0, `${what}: ${res.stderr}`);
    return res;
  };
  const images = (tenant?: string) => wharf.client.forTenant(tenant).listImages();
  const tagOf = (repos: ImageRepository[], repository: string, tag: string) => repos.find((r) => r.repository === repository)?.tags.find((t) => t.tag === tag);
  /** `docker save` of a new image on the host, built from the harness busybox, then removed from the host. */
  const savedImage = async (tag: string, lines: string[]) => {
    await buildImage(host, tag, lines);
    const file = join(scratch, `${tag.replace(/[:/]/g, '-')}.tar`);
    await must(docker(['save', '-o', file, tag]), `docker save ${tag}`);
    await must(docker(['rmi', tag]), `docker rmi ${tag}`);
    return file;
  };
  const pushArchive = async (file: string, image: string, tenant?: string) => {
    const r = await wharf.cli([...(tenant ? ['--tenant', tenant] : []), 'image', 'push', file, image, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return { result: JSON.parse(r.stdout) as ImageUploadResult, stderr: r.stderr };
  };
  const runSet = async (id: number, image: string) => {
    await wharf.client.applySet({ id, appkey: 'e2e.images', containers: [{ index: 0, image, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    return wharf.waitRunning('e2e.images', id, 120_000);
  };
  const deleteSet = async (id: number) => {
    await wharf.client.deleteSet('e2e.images', id);
    await waitFor(`set ${id} gone`, async () => !(await wharf.client.listSets({ appkey: 'e2e.images' })).some((s) => s.id === String(id)), 60_000, 200);
  };

  before(async () => {
    wharf = await Platform.onOwnHost('img1', { registry: true });
    host = wharf.host('img1');
    addr = wharf.registryAddress!;
    await must(docker(['login', addr, '--username', 'someone', '--password-stdin'], wharf.adminToken), 'docker login');
  });

  after(async () => {
    try {
      await wharf?.stop();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('docker push → the catalog shows the tag with its digest, size and who pushed it', async () => {
    await buildImage(host, 'e2e-web:1', ['RUN echo web-1 > /version']);
    const ref = `${addr}/default/e2e-web:1`;
    await must(docker(['tag', 'e2e-web:1', ref]), 'docker tag');
    const push = await must(docker(['push', ref]), 'docker push');
    const digest = /1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    const tag = await waitFor('the push in the catalog with its pusher', async () => {
      const t = tagOf(await images(), 'default/e2e-web', '1');
      return t?.pushedBy ? t : undefined;
    }, 60_000, 250);
    assert.equal(tag.digest, digest);
    assert.equal(tag.pushedBy, 'bootstrap-admin');
    // Compressed layers and config: more than nothing, less than the image unpacked.
    const unpacked = Number((await must(docker(['image', 'inspect', '-f', '{{.Size}}', ref]), 'inspect')).stdout.trim());
    assert.ok(tag.size > 100_000 && tag.size < unpacked, `size ${tag.size}, unpacked ${unpacked}`);
    const ls = await wharf.cli(['image', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^e2e-web\\s+1\\s+${digest.slice(0, 19)}\\s+\\S+\\s+\\S+ ago\\s+bootstrap-admin\\s+0$`, 'm'));
    await must(docker(['rmi', ref, 'e2e-web:1']), 'docker rmi');
  });

  it('a set using the image is listed under it, and rm is refused naming the set', async () => {
    await runSet(1, `${addr}/default/e2e-web:1`);
    const tag = tagOf(await images(), 'default/e2e-web', '1');
    assert.deepEqual(tag?.usedBy.map((u) => `${u.appkey}/${u.id}/${u.container}`), ['e2e.images/1/app']);
    for (const target of ['e2e-web:1', 'e2e-web']) {
      const rm = await wharf.cli(['image', 'rm', target]);
      assert.equal(rm.code, 1, rm.stdout);
      assert.match(rm.stderr, /is used by 1 set \(default\/e2e\.images\/1\)/);
      assert.match(rm.stderr, /^\s+e2e\.images\/1\s+app\s+\S+e2e-web:1$/m);
    }
    assert.ok(tagOf(await images(), 'default/e2e-web', '1'), 'still there');
  });

  let app1: ImageUploadResult;

  it('docker save → wharf image push → a set runs from it, pulled by the agent', async () => {
    const file = await savedImage('e2e-app:1', ['RUN echo app-1 > /version']);
    const { result, stderr } = await pushArchive(file, 'e2e-app:1');
    app1 = result;
    assert.equal(result.image, `${addr}/default/e2e-app:1`);
    assert.deepEqual(result.layers.map((l) => l.action), ['uploaded', 'uploaded']);
    assert.ok(result.received >= result.size, 'everything was sent');
    assert.match(stderr, /pushed e2e-app:1: sent .* 2 layers uploaded, 0 skipped/);
    await runSet(2, result.image);
    const events = await wharf.client.setEvents('e2e.images', 2);
    assert.ok(events.some((e) => e.reason === 'Pulled' && e.message.includes(result.image)), JSON.stringify(events));
    const cat = await must(host.docker(['run', '--rm', result.image, 'cat', '/version']), 'docker run the pulled image');
    assert.equal(cat.stdout.trim(), 'app-1');
  });

  it('an archive sharing its base layer with an image in the registry sends only its new layer', async () => {
    const file = await savedImage('e2e-app:2', ['RUN echo app-2 > /version']);
    const total = statSync(file).size;
    const { result, stderr } = await pushArchive(file, 'e2e-app:2');
    const [baseLayer, ownLayer] = result.layers;
    assert.equal(baseLayer?.digest, app1.layers[0]?.digest, 'the same busybox base');
    assert.deepEqual(result.layers.map((l) => l.action), ['present', 'uploaded']);
    assert.match(stderr, new RegExp(`skipped layer ${baseLayer!.digest.slice(0, 19)} \\(\\S+\\): the registry has it`));
    // Bytes measured: the archive minus the base layer (headers and metadata besides the new layer).
    assert.ok(result.received < total - baseLayer!.size + 64 * 1024, `sent ${result.received} of ${total}, base ${baseLayer!.size}`);
    assert.ok(result.received >= ownLayer!.size);
    assert.ok(result.uploaded < ownLayer!.size + 64 * 1024, `uploaded ${result.uploaded}`);
    await runSet(3, result.image);
  });

  it("another tenant's images are invisible to it and to callers without the admin token, until public", async () => {
    const file = await savedImage('e2e-b:1', ['RUN echo b > /version']);
    const { result } = await pushArchive(file, 'secret:1', 'team-b');
    assert.equal(result.image, `${addr}/team-b/secret:1`);
    assert.deepEqual((await images('team-b')).map((r) => r.repository), ['team-b/secret']);
    assert.ok(!(await images()).some((r) => r.tenant !== 'default'), 'the default tenant lists only its own');
    const anonymous = async (path: string, token?: string) => fetch(`${wharf.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const joinToken = readFileSync(join(wharf.serverDir, 'join.token'), 'utf8').trim();
    for (const token of [undefined, joinToken]) {
      assert.deepEqual(await (await anonymous('/v1/images?tenant=team-b', token)).json(), []);
      assert.equal((await anonymous('/v1/images/team-b/secret', token)).status, 404);
    }
    await wharf.client.request('PUT', '/v1/images/team-b/secret/public', { public: true });
    assert.deepEqual(((await (await anonymous('/v1/images?tenant=team-b')).json()) as ImageRepository[]).map((r) => r.repository), ['team-b/secret']);
    await wharf.client.request('PUT', '/v1/images/team-b/secret/public', { public: false });
  });

  it('removed images are freed by garbage collection; images still tagged stay pullable', async () => {
    await deleteSet(1);
    const rm = await wharf.cli(['image', 'rm', 'e2e-web']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /removed e2e-web \(1 tag: 1\)/);
    assert.ok(!(await images()).some((r) => r.repository === 'default/e2e-web'));
    const run = await wharf.client.runRegistryGc();
    assert.equal(run.error, undefined, JSON.stringify(run));
    assert.ok(run.blobsDeleted >= 2 && run.bytesFreed > 100_000, JSON.stringify(run satisfies RegistryGcRun));
    const gone = await docker(['pull', `${addr}/default/e2e-web:1`]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /manifest unknown|not found/i);
    await deleteSet(2);
    await deleteSet(3);
    await must(host.docker(['rmi', app1.image]), 'rmi the pulled copy');
    await must(docker(['pull', app1.image]), 'pull an image still tagged, after the collection');
  });
});
