/**
 * The tar reader on archives the system `tar` writes (GNU long names, pax headers,
 * links, the end blocks), damaged ones, and what `docker save` metadata says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, archiveImage, archiveName, resolveLink, tarEntries, type TarEntry, type TarSource } from './image-archive.js';
import { parseImageReference } from './registry.js';

/** A TarSource over bytes in memory. */
class BytesSource implements TarSource {
  position = 0;
  constructor(private readonly bytes: Uint8Array) {}
  async read(n: number): Promise<Uint8Array> {
    const out = this.bytes.subarray(this.position, this.position + n);
    this.position += out.length;
    return out;
  }
  async skip(n: number): Promise<void> {
    if (this.position + n > this.bytes.length) throw new ArchiveError('truncated');
    this.position += n;
  }
}

async function entries(bytes: Uint8Array, readData = false): Promise<[TarEntry, string][]> {
  const src = new BytesSource(bytes);
  const out: [TarEntry, string][] = [];
  for await (const e of tarEntries(src)) out.push([e, readData && e.type === 'file' ? Buffer.from(await src.read(e.size)).toString() : '']);
  return out;
}

function tarOf(files: Record<string, string>, format: 'gnu' | 'pax', links: Record<string, string> = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tar-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
    execFileSync('tar', [`--format=${format}`, '-cf', join(dir, 'out.tar'), '-C', dir, ...Object.keys(files), ...Object.keys(links)]);
    return readFileSync(join(dir, 'out.tar'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads GNU and pax archives: long names, sizes, offsets, data read or skipped', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(110)}.json`;
  for (const format of ['gnu', 'pax'] as const) {
    const tar = tarOf({ 'a/layer.tar': 'x'.repeat(1000), [long]: '{"ok":true}', 'manifest.json': '[]' }, format, { 'b.tar': 'a/layer.tar' });
    const read = await entries(tar, true);
    const files = read.filter(([e]) => e.type === 'file');
    assert.deepEqual(files.map(([e, data]) => [e.name, e.size, data.length]), [['a/layer.tar', 1000, 1000], [long, 11, 11], ['manifest.json', 2, 2]], format);
    assert.equal(files[1]![1], '{"ok":true}');
    // The data offsets point at the bytes in the archive.
    for (const [e, data] of files) assert.equal(tar.subarray(e.dataOffset, e.dataOffset + e.size).toString(), data);
    const link = read.find(([e]) => e.name === 'b.tar')![0];
    assert.deepEqual([link.type, link.linkname], ['symlink', 'a/layer.tar']);
    // Skipping every data block gives the same entries.
    assert.deepEqual((await entries(tar)).map(([e]) => e.name), read.map(([e]) => e.name));
    // An entry with long-name records starts at its first record.
    assert.ok(files[1]![0].start < files[1]![0].dataOffset - 512, `${format}: the long name's record is counted in the entry`);
  }
});

test('damaged archives: a wrong checksum and a cut are errors naming the place', async () => {
  const tar = tarOf({ 'x.json': '{}'.repeat(400) }, 'gnu');
  const bad = Buffer.from(tar);
  bad[10] = (bad[10] ?? 0) ^ 1;
  await assert.rejects(entries(bad), /not a tar archive: the header at byte 0 has a wrong checksum/);
  await assert.rejects(entries(tar.subarray(0, 300)), /ends in the middle of a header \(at byte 0\)/);
  await assert.rejects(entries(tar.subarray(0, 700)), /truncated/);
  assert.deepEqual(await entries(new Uint8Array(0)), []);
});

test('links resolve to the file, relative to their directory or from the root (hard links)', () => {
  const e = (name: string, type: TarEntry['type'], linkname = ''): [string, TarEntry] => [name, { name, type, linkname, size: 0, start: 0, dataOffset: 0 }];
  const m = new Map([e('a/layer.tar', 'file'), e('b/layer.tar', 'symlink', '../a/layer.tar'), e('c/layer.tar', 'hardlink', 'b/layer.tar'), e('loop', 'symlink', 'loop')]);
  assert.equal(resolveLink(m, 'c/layer.tar'), 'a/layer.tar');
  assert.equal(resolveLink(m, './b/layer.tar'), 'a/layer.tar');
  assert.equal(resolveLink(m, 'missing'), 'missing');
  assert.throws(() => resolveLink(m, 'loop'), /loop of links/);
});

const D = (c: string) => `sha256:${c.repeat(64)}`;

test("Docker's layout: layers by the config's diff IDs; what is missing is asked for; mistakes named", async () => {
  const files: Record<string, unknown> = {
    'manifest.json': [{ Config: 'cfg.json', RepoTags: ['web:1'], Layers: ['a/layer.tar', './b/layer.tar'] }],
    'cfg.json': { rootfs: { diff_ids: [D('a'), D('b')] } },
  };
  const has = (p: string) => p in files;
  const read = (over: Record<string, unknown> = {}) => archiveImage(async (p) => ({ ...files, ...over })[p], (p) => has(p) || p in over);
  assert.deepEqual(await read(), {
    layout: 'docker', configPath: 'cfg.json', repoTags: ['web:1'], metadata: ['manifest.json', 'cfg.json'],
    layers: [{ path: 'a/layer.tar', digest: D('a'), mediaType: 'application/vnd.docker.image.rootfs.diff.tar' }, { path: 'b/layer.tar', digest: D('b'), mediaType: 'application/vnd.docker.image.rootfs.diff.tar' }],
  });
  assert.deepEqual(await read({ 'cfg.json': undefined }), { missing: 'cfg.json' });
  assert.deepEqual(await archiveImage(async () => undefined, () => false), { missing: 'manifest.json' });
  await assert.rejects(read({ 'cfg.json': { rootfs: { diff_ids: [D('a')] } } }), /names 1 layers \(rootfs\.diff_ids\) but manifest\.json lists 2/);
  await assert.rejects(read({ 'manifest.json': {} }), /not a list of images/);
  await assert.rejects(read({ 'cfg.json': { rootfs: { diff_ids: [D('a'), 'md5:x'] } } }), /diff_ids\[1\] is not a sha256 digest/);
});

test('the OCI layout: index → nested index → the one platform whose blobs are there; media types kept or refused', async () => {
  const blob = (d: string) => `blobs/sha256/${d.slice(7)}`;
  const manifest = (config: string, layerType = 'application/vnd.oci.image.layer.v1.tar+gzip') => ({ config: { digest: config }, layers: [{ mediaType: layerType, digest: D('1'), size: 7 }] });
  const files: Record<string, unknown> = {
    'index.json': { manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('9'), annotations: { 'io.containerd.image.name': 'docker.io/library/web:2' } }] },
    [blob(D('9'))]: { manifests: [{ digest: D('5') }, { digest: D('6') }, { digest: D('7') }] },
    [blob(D('5'))]: manifest(D('c')),
    [blob(D('6'))]: manifest(D('e')), // its config is not in the archive: another platform
    [blob(D('c'))]: {},
    'manifest.json': [],
  };
  const image = await archiveImage(async (p) => files[p], (p) => p in files);
  assert.ok(!('missing' in image));
  assert.equal(image.layout, 'oci');
  assert.equal(image.configPath, blob(D('c')));
  assert.deepEqual(image.layers, [{ path: blob(D('1')), digest: D('1'), mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 7 }]);
  assert.deepEqual(image.metadata, ['index.json', blob(D('9')), blob(D('5')), blob(D('6')), blob(D('c'))]);
  files[blob(D('5'))] = manifest(D('c'), 'application/vnd.oci.image.layer.v1.tar+zstd');
  await assert.rejects(archiveImage(async (p) => files[p], (p) => p in files), /only tar and tar\+gzip layers/);
  files[blob(D('6'))] = manifest(D('c'));
  await assert.rejects(archiveImage(async (p) => files[p], (p) => p in files), /holds 2 images/);
});

test('the name an archive gives, without its registry', () => {
  assert.deepEqual(archiveName('10.0.0.5:5000/default/web:1'), { name: 'default/web', tag: '1' });
  assert.deepEqual(archiveName('busybox'), { name: 'busybox', tag: 'latest' });
  assert.deepEqual(archiveName('docker.io/library/web:2'), { name: 'library/web', tag: '2' });
  assert.deepEqual(parseImageReference('localhost:5000/a/b:c@sha256:x'), { registry: 'localhost:5000', repository: 'a/b', tag: 'c', digest: 'sha256:x' });
  assert.deepEqual(parseImageReference('a/b@sha256:x'), { repository: 'a/b', digest: 'sha256:x' });
});
