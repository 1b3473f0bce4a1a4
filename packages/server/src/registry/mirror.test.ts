/**
 * Mirrors: `--mirror` parsing and port planning (pure), and the real thing (Debian's
 * docker-registry; skipped when it is not installed, outside CI): an upstream
 * Distribution (plain HTTP, no auth) holds an image; the mirror, run by
 * PlatformRegistry with Wharf's certificate and tokens, serves it to a token holder
 * and serves it again once the upstream is stopped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { RegistryMirror, parseMirror, parseMirrors, planMirrors } from './mirror.js';
import { PlatformRegistry, REGISTRY_SERVICE } from './service.js';
import { freePort, registryBinary } from './mirror-testing.js';

const log = pino({ level: 'silent' });

describe('--mirror', () => {
  it('takes an upstream URL with optional credentials and port', () => {
    assert.deepEqual(parseMirror('http://10.1.2.3:5000'), { url: 'http://10.1.2.3:5000', name: '10.1.2.3:5000' });
    assert.deepEqual(parseMirror('https://bot:s%40cret@images.internal/=6001'), { url: 'https://images.internal', name: 'images.internal', username: 'bot', password: 's@cret', port: 6001 });
    assert.deepEqual(parseMirrors(['http://a.internal:5000,http://b.internal']).map((m) => m.name), ['a.internal:5000', 'b.internal']);
  });

  it('refuses what is not an upstream, naming it (without its password)', () => {
    assert.throws(() => parseMirror('10.1.2.3:5000'), /is not a URL|not an http/);
    assert.throws(() => parseMirror('ftp://a.internal'), /not an http\(s\) URL/);
    assert.throws(() => parseMirror('https://a.internal/v2/team'), /has a path/);
    assert.throws(() => parseMirror('https://a.internal=70000'), /no valid port/);
    assert.throws(() => parseMirror('https://bot:hunter2@a.internal/x'), (err: Error) => err.message.includes('bot:***@') && !err.message.includes('hunter2'));
    assert.throws(() => parseMirrors(['http://a.internal', 'https://a.internal']), /a\.internal is given twice/);
  });

  it('puts each mirror on its own port at the registry address host', () => {
    const ms = planMirrors(parseMirrors(['http://a.internal', 'http://b.internal=7000']), { address: '10.0.0.5:5000', listen: '0.0.0.0:5000', dir: '/r' }, log);
    assert.deepEqual(ms.map((m) => m.info()), [
      { upstream: 'a.internal', address: '10.0.0.5:5001', running: false },
      { upstream: 'b.internal', address: '10.0.0.5:7000', running: false },
    ]);
    assert.throws(() => planMirrors(parseMirrors(['http://a.internal=5000']), { address: '10.0.0.5:5000', listen: '0.0.0.0:5000', dir: '/r' }, log), /port 5000 is taken/);
    assert.throws(() => planMirrors(parseMirrors(['https://10.0.0.5:5000']), { address: '10.0.0.5:5000', listen: '0.0.0.0:5000', dir: '/r' }, log), /is the platform registry itself/);
  });
});

const binary = registryBinary();
const skip = !binary && !process.env.CI ? 'docker-registry is not installed' : false;

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

/** A Distribution without auth on plain HTTP: what the mirror's upstream plays. */
async function startUpstream(dir: string, port: number, bin: string): Promise<ChildProcess> {
  const config = join(dir, 'upstream.yml');
  writeFileSync(config, stringify({ version: 0.1, log: { level: 'error' }, storage: { filesystem: { rootdirectory: join(dir, 'upstream') } }, http: { addr: `127.0.0.1:${port}` } }));
  const child = spawn(bin, ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 150; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the upstream registry did not start');
}

/** Pushes a one-layer image to a registry without auth (the registry API's monolithic uploads). */
async function pushImage(base: string, repo: string, tag: string, layer: Buffer): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  for (const blob of [config, layer]) {
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = new URL(start.headers.get('location') ?? '', base);
    location.searchParams.set('digest', sha256(blob));
    const put = await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
  });
  const put = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': MANIFEST_TYPE } });
  assert.equal(put.status, 201, await put.text());
  return sha256(manifest);
}

describe('a mirror of a local upstream', { skip }, () => {
  let dir = '';
  let registry: PlatformRegistry;
  let t: TestServer;
  let upstream: ChildProcess | undefined;
  let mirrorPort = 0;
  const layer = Buffer.from('not really a tar, but the registry does not look inside');

  /** GET over TLS from the mirror, trusting only Wharf's CA. */
  const get = (path: string, token: string) =>
    new Promise<{ status: number; body: Buffer; digest: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: mirrorPort, path, ca: registry.caPem, agent: false, headers: { authorization: `Bearer ${token}`, accept: MANIFEST_TYPE } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), digest: res.headers['docker-content-digest'] as string | undefined }));
      });
      req.once('error', reject);
      req.end();
    });
  const hostToken = async (repo = 'team/app') => {
    const r = await t.app.inject({ method: 'GET', url: `/v1/registry/token?service=${REGISTRY_SERVICE}&scope=repository:${repo}:pull`, headers: { authorization: `Basic ${Buffer.from(`wharf-agent:${t.join}`).toString('base64')}` } });
    return r.json().token as string;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-mirror-'));
    const [registryPort, upstreamPort] = [await freePort(), await freePort()];
    mirrorPort = await freePort();
    upstream = await startUpstream(dir, upstreamPort, binary ?? 'docker-registry');
    const upstreams = parseMirrors([`http://127.0.0.1:${upstreamPort}=${mirrorPort}`]);
    registry = await PlatformRegistry.prepare({ dir: join(dir, 'registry'), address: `127.0.0.1:${registryPort}`, listen: `127.0.0.1:${registryPort}`, binary: binary ?? 'docker-registry', mirrors: upstreams }, log);
    t = await startTestServer({ context: { registry } });
    await registry.start('http://wharf.test:7070/v1/registry/token');
  });

  after(async () => {
    try {
      upstream?.kill('SIGKILL');
      await registry?.stop();
      await t?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is announced to hosts with its upstream and address', async () => {
    const info = registry.info();
    assert.deepEqual(info.mirrors, [{ upstream: info.mirrors?.[0]?.upstream, address: `127.0.0.1:${mirrorPort}`, running: true }]);
    assert.match(info.mirrors?.[0]?.upstream ?? '', /^127\.0\.0\.1:\d+$/);
  });

  it('wants a token, and serves an upstream image to a host with one; then again with the upstream stopped', async () => {
    const upstreamName = registry.info().mirrors?.[0]?.upstream ?? '';
    const digest = await pushImage(`http://${upstreamName}`, 'team/app', '1', layer);
    assert.equal((await get('/v2/team/app/manifests/1', 'not-a-token')).status, 401);
    const token = await hostToken();
    const first = await get('/v2/team/app/manifests/1', token);
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(first.digest, digest);
    const blob = await get(`/v2/team/app/blobs/${sha256(layer)}`, token);
    assert.equal(blob.status, 200);
    assert.deepEqual(blob.body, layer);
    // Distribution keeps a blob it passes on in the background: wait until it has it.
    const kept = join(RegistryMirror.dirFor(join(dir, 'registry'), parseMirror(`http://${upstreamName}`)), 'data/docker/registry/v2/blobs/sha256', sha256(layer).slice(7, 9), sha256(layer).slice(7), 'data');
    for (let i = 0; i < 300 && !existsSync(kept); i++) await new Promise((r) => setTimeout(r, 100));

    upstream?.kill('SIGKILL');
    await new Promise((r) => upstream?.once('exit', r));
    upstream = undefined;
    // The tag is asked upstream first; with the upstream gone, the mirror answers from what it kept.
    const again = await get('/v2/team/app/manifests/1', token);
    assert.equal(again.status, 200, again.body.toString());
    assert.equal(again.digest, digest);
    assert.deepEqual((await get(`/v2/team/app/blobs/${sha256(layer)}`, token)).body, layer);
    // What it never fetched it cannot serve.
    const other = await get('/v2/team/other/manifests/1', await hostToken('team/other'));
    assert.ok(other.status >= 400, `${other.status} ${other.body.toString()}`);
  });
});
