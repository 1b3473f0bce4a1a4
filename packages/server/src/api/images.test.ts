/**
 * The image routes against the real Distribution (skipped when docker-registry is not
 * installed, outside CI): uploads of archives in Docker's and the OCI layout, in the
 * order `wharf image push` sends them and in `docker save`'s, with only missing layers
 * uploaded; bad archives refused naming what is wrong; the catalog with sizes, the
 * registry's notifications (who pushed) and the sets using an image; rm refused while
 * in use; tags; who sees what; garbage collection freeing what nothing references.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ImageDetail, ImageRepository, ImageUploadResult, RegistryGcRun } from '@wharf/types';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';
import { PlatformRegistry } from '../registry/service.js';
import { notificationsUrl } from '../registry/notifications.js';
import { freePort, registryBinary } from '../registry/mirror-testing.js';
import { digestOf, dockerArchive, ociArchive } from '../registry/upload-testing.js';

const binary = registryBinary();
const skip = !binary && !process.env.CI ? 'docker-registry is not installed' : false;
const ADDRESS = '10.77.0.1:5000';

describe('image routes with the real Distribution', { skip }, () => {
  let dir = '';
  let registry: PlatformRegistry;
  let t: TestServer;
  let api: ReturnType<typeof adminApi>;
  const base = randomBytes(3 * 1024 * 1024);
  const app1 = randomBytes(200 * 1024);
  const app2 = randomBytes(1536 * 1024);
  const started = Date.now();

  const upload = (file: string, query: string, headers: Record<string, string> = bearer(t.admin)) =>
    t.app.inject({ method: 'POST', url: `/v1/images/upload?${query}`, headers: { ...headers, 'content-type': 'application/x-tar' }, payload: createReadStream(file) });
  const uploaded = async (file: string, query: string) => {
    const r = await upload(file, query);
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as ImageUploadResult;
  };
  const list = async (query = '', headers: Record<string, string> = bearer(t.admin)) => {
    const r = await t.app.inject({ method: 'GET', url: `/v1/images${query}`, headers });
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as ImageRepository[];
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>) => {
    for (let i = 0; i < 300; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-images-'));
    const port = await freePort();
    registry = await PlatformRegistry.prepare({ dir: join(dir, 'registry'), address: ADDRESS, listen: `127.0.0.1:${port}`, binary: binary ?? 'docker-registry' }, pino({ level: 'silent' }));
    t = await startTestServer({ context: { registry } });
    api = adminApi(t);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const serverPort = (t.app.server.address() as { port: number }).port;
    await registry.start('http://127.0.0.1:1/v1/registry/token', { notifications: notificationsUrl('127.0.0.1', serverPort), store: t.store });
  });

  after(async () => {
    await Promise.allSettled([registry?.stop(), t?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes an archive sent metadata first: every layer streamed to the registry, tagged as asked', async () => {
    const a = dockerArchive(join(dir, 'web-1.tar'), [base, app1], { order: 'metadata-first' });
    const r = await uploaded(a.path, 'name=web&tag=1');
    assert.equal(r.image, `${ADDRESS}/default/web:1`);
    assert.deepEqual(r.layers.map((l) => [l.digest, l.size, l.action]), [[a.diffIds[0], base.length, 'uploaded'], [a.diffIds[1], app1.length, 'uploaded']]);
    assert.equal(r.size, a.config.length + base.length + app1.length);
    assert.ok(r.uploaded >= base.length + app1.length, `uploaded ${r.uploaded}`);
    assert.equal(r.received, readFileSync(a.path).length);
  });

  it('lists it with digest, size and who pushed it (the registry\'s notification)', async () => {
    const repo = await waitFor('the push record', async () => {
      const [web] = await list();
      return web?.tags[0]?.pushedBy ? web : undefined;
    });
    assert.equal(repo.repository, 'default/web');
    assert.equal(repo.image, `${ADDRESS}/default/web`);
    const [tag] = repo.tags;
    assert.equal(tag?.tag, '1');
    assert.match(tag?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(tag?.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(tag?.pushedBy, 'bootstrap-admin');
    assert.ok(Date.parse(tag?.pushedAt ?? '') >= started - 1000, `pushed at ${tag?.pushedAt}, after the suite started`);
    assert.equal(tag?.size, base.length + app1.length + dockerArchive(join(dir, 'again.tar'), [base, app1]).config.length);
  });

  it('a second image on the same base: the plan names the base present, and an archive without it is pushed', async () => {
    const plan = await api('POST', '/v1/images/upload/plan', { name: 'api', layers: [digestOf(base), digestOf(app2)] });
    assert.equal(plan.statusCode, 200, plan.body);
    // The base is in default/web, another repository of the tenant: present (mounted at upload).
    assert.deepEqual(plan.json(), { present: [digestOf(base)], missing: [digestOf(app2)] });
    const full = dockerArchive(join(dir, 'api-full.tar'), [base, app2], { order: 'metadata-first' });
    // What `wharf image push` sends: the archive without the base layer's file.
    const slim = dockerArchive(join(dir, 'api-slim.tar'), [base, app2], { order: 'metadata-first', omit: [0] });
    const r = await uploaded(slim.path, 'name=api&tag=1');
    assert.deepEqual(r.layers.map((l) => [l.size, l.action]), [[base.length, 'mounted'], [app2.length, 'uploaded']]);
    assert.ok(r.uploaded < app2.length + 64 * 1024, `uploaded ${r.uploaded} bytes, the base not among them`);
    assert.ok(r.received < base.length, 'the base layer was not sent');
    assert.ok(readFileSync(full.path).length > base.length);
    // Again with the whole archive: nothing uploaded but the answer is the same manifest.
    const again = await uploaded(full.path, 'name=api&tag=1');
    assert.deepEqual(again.layers.map((l) => l.action), ['present', 'present']);
    assert.equal(again.digest, r.digest);
  });

  it("pushes docker save's order (layers before manifest.json, spooled) and a shared layer file linked", async () => {
    const a = dockerArchive(join(dir, 'db.tar'), [base, app2, base], { order: 'docker', linkLast: true, repoTags: ['10.0.0.9:5000/default/db:7'] });
    const r = await uploaded(a.path, '');
    assert.equal(r.image, `${ADDRESS}/default/default/db:7`, 'the name given by the archive, its registry dropped');
    assert.deepEqual(r.layers.map((l) => l.digest), [digestOf(base), digestOf(app2), digestOf(base)]);
  });

  it('pushes the OCI layout (index.json), named by its annotation', async () => {
    const a = ociArchive(join(dir, 'oci.tar'), [app1, randomBytes(1200 * 1024)], 'docker.io/library/cache:2');
    const r = await uploaded(a.path, 'tenant=team-a');
    assert.equal(r.image, `${ADDRESS}/team-a/library/cache:2`);
    assert.deepEqual(r.layers.map((l) => l.action), ['uploaded', 'uploaded'], 'team-a does not share default\'s blobs');
  });

  it('refuses bad archives with 400 naming what is wrong', async () => {
    const cases: [string, (file: string) => void, string, RegExp][] = [
      ['not a tar', (f) => writeFileSync(f, randomBytes(4096)), 'name=bad', /not a tar archive/],
      ['no metadata', (f) => { writeFileSync(join(dir, 'x'), 'x'); execFileSync('tar', ['-cf', f, '-C', dir, 'x']); }, 'name=bad', /neither manifest\.json nor index\.json/],
      ['two images', (f) => dockerArchive(f, [app1], { manifest: [{ Config: 'a.json', Layers: [], RepoTags: ['a:1'] }, { Config: 'b.json', Layers: [], RepoTags: ['b:1'] }] }), 'name=bad', /holds 2 images \(a:1; b:1\)/],
      ['truncated', (f) => { dockerArchive(f, [base], { order: 'metadata-first' }); writeFileSync(f, readFileSync(f).subarray(0, 1024 * 1024)); }, 'name=bad', /truncated/],
      ['a bad name', (f) => dockerArchive(f, [app1]), 'name=Bad Name', /"Bad Name" is not an image name/],
    ];
    for (const [what, make, query, message] of cases) {
      const file = join(dir, 'bad.tar');
      make(file);
      const r = await upload(file, query);
      assert.equal(r.statusCode, 400, `${what}: ${r.body}`);
      assert.match(r.json().error.message, message, what);
    }
    // A layer whose bytes do not match the config's digest.
    const a = dockerArchive(join(dir, 'lie.tar'), [randomBytes(2 * 1024 * 1024)], { order: 'metadata-first' });
    const bytes = readFileSync(a.path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(a.path, bytes);
    const lie = await upload(a.path, 'name=lie');
    assert.equal(lie.statusCode, 400, lie.body);
    assert.match(lie.json().error.message, /does not match its digest/);
  });

  it('shows the sets using a tag, and refuses rm of the tag or the repository while they do', async () => {
    const image = `${ADDRESS}/default/web:1`;
    const apply = await api('PUT', '/v1/sets/com.example.web/1', { id: 1, appkey: 'com.example.web', containers: [{ index: 0, image, options: { name: 'web' } }] });
    assert.ok([200, 201].includes(apply.statusCode), apply.body);
    const [web] = (await list()).filter((r) => r.repository === 'default/web');
    assert.deepEqual(web?.tags[0]?.usedBy.map((u) => [u.appkey, u.id, u.container]), [['com.example.web', '1', 'web']]);
    for (const url of ['/v1/images/default/web/tags/1', '/v1/images/default/web']) {
      const r = await api('DELETE', url);
      assert.equal(r.statusCode, 409, r.body);
      assert.equal(r.json().error.code, 'IMAGE_IN_USE');
      assert.match(r.json().error.message, /used by 1 set \(default\/com\.example\.web\/1\)/);
      assert.deepEqual(r.json().error.details.sets.map((s: { appkey: string }) => s.appkey), ['com.example.web']);
    }
    assert.equal((await api('DELETE', '/v1/sets/com.example.web/1')).statusCode < 300, true);
  });

  it('tags across repositories of a tenant, removes one tag keeping the other, then the repository', async () => {
    const tagged = await api('PUT', '/v1/images/default/web/tags/stable', { source: 'api:1' });
    assert.equal(tagged.statusCode, 200, tagged.body);
    const apiDigest = (await list()).find((r) => r.repository === 'default/api')?.tags[0]?.digest;
    assert.equal(tagged.json().digest, apiDigest);
    assert.equal((await api('PUT', '/v1/images/default/web/tags/x', { source: 'nothing:1' })).statusCode, 404);
    assert.equal((await api('PUT', '/v1/images/default/web/tags/x', { source: '10.0.0.1:5000/default/api:1' })).statusCode, 400);
    const dup = await api('PUT', '/v1/images/default/web/tags/one-more', { source: 'web:1' });
    assert.equal(dup.statusCode, 200, dup.body);
    const rmTag = await api('DELETE', '/v1/images/default/web/tags/1');
    assert.equal(rmTag.statusCode, 200, rmTag.body);
    const detail = (await api('GET', '/v1/images/default/web')).json() as ImageDetail;
    assert.deepEqual(detail.tags.map((x) => x.tag), ['one-more', 'stable'], 'the other tag of the same digest stays');
    assert.ok(detail.manifests[apiDigest!]?.layers.length === 2);
    assert.equal((await api('DELETE', '/v1/images/default/web/tags/1')).statusCode, 404);
    const rmRepo = await api('DELETE', '/v1/images/default/web');
    assert.equal(rmRepo.statusCode, 200, rmRepo.body);
    assert.deepEqual(rmRepo.json().tags, ['one-more', 'stable']);
    assert.equal((await api('GET', '/v1/images/default/web')).statusCode, 404);
    assert.ok(!(await list()).some((r) => r.repository === 'default/web'));
  });

  it('shows private repositories to the admin only; public ones to anyone; the join token may not remove', async () => {
    assert.deepEqual((await list('', {})).map((r) => r.repository), []);
    assert.deepEqual((await list('', bearer(t.join))).map((r) => r.repository), []);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/images/default/api' })).statusCode, 404);
    assert.deepEqual((await list('?tenant=team-a')).map((r) => r.repository), ['team-a/library/cache']);
    await api('PUT', '/v1/images/default/api/public', { public: true });
    assert.deepEqual((await list('', {})).map((r) => r.repository), ['default/api']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/images/default/api' })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/v1/images/default/api', headers: bearer(t.join) })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/v1/images/default/api' })).statusCode, 401);
    assert.equal((await upload(join(dir, 'web-1.tar'), 'name=web', bearer(t.join))).statusCode, 403);
  });

  it('refuses notifications without the secret', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/v1/registry/events', headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization: 'Bearer guess' }, payload: '{"events":[]}' });
    assert.equal(r.statusCode, 401);
  });

  it('garbage collection frees the blobs only removed images held; images still tagged stay whole', async () => {
    const r = await api('POST', '/v1/registry/gc');
    assert.equal(r.statusCode, 200, r.body);
    const run = r.json() as RegistryGcRun;
    assert.equal(run.error, undefined);
    // default/web's own layer (app1 is also in team-a, base in default/api) and its configs.
    assert.ok(run.blobsDeleted >= 1, JSON.stringify(run));
    assert.ok(run.bytesFreed > 0, JSON.stringify(run));
    const status = (await api('GET', '/v1/registry/gc')).json();
    assert.deepEqual([status.schedule, status.running, status.lastRun.startedAt], ['off', false, run.startedAt]);
    // Every layer of default/api is still there and the registry takes writes again.
    const detail = (await api('GET', '/v1/images/default/api')).json() as ImageDetail;
    for (const l of Object.values(detail.manifests)[0]!.layers) assert.ok((await registry.client.blobSize('default/api', l.digest)) !== undefined, l.digest);
    const again = dockerArchive(join(dir, 'after-gc.tar'), [randomBytes(4096)], { order: 'metadata-first' });
    await uploaded(again.path, 'name=after&tag=1');
  });
});
