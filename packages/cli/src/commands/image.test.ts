/**
 * `wharf image`: names, the archive's index and the part of it `push` sends (a tar
 * the system `tar` reads, without the layers the registry has), and the views.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WharfError, type ImageRepository } from '@wharf/types';
import { archiveLayers, readLocalArchive, selectUpload, uploadStream } from './image-archive.js';
import { explainImageInUse, parseImageName } from './image.js';
import { CliError } from '../errors.js';
import { renderImages, uploadBar } from '../format/images.js';

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('image names: NAME[:TAG] within the tenant, nothing else', () => {
  assert.deepEqual(parseImageName('web'), { name: 'web' });
  assert.deepEqual(parseImageName('team/api:2.1'), { name: 'team/api', tag: '2.1' });
  assert.throws(() => parseImageName('10.0.0.5:5000/default/web:1'), /names a registry \(10\.0\.0\.5:5000\)/);
  assert.throws(() => parseImageName('Web:1'), /"Web" is not an image name/);
  assert.throws(() => parseImageName('web@sha256:abc'), /has a digest/);
  assert.throws(() => parseImageName('web:-x'), /"-x" is not a tag/);
});

test('push sends the metadata, then only the layers the registry lacks, as a tar of the original entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-archive-'));
  try {
    const layers = [randomBytes(70_000), randomBytes(5_000)];
    const cfg = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [...layers.map(digest), digest(layers[0]!)] } }));
    const src = join(dir, 'src');
    for (const [i, l] of layers.entries()) {
      mkdirSync(join(src, `l${i}`), { recursive: true });
      writeFileSync(join(src, `l${i}`, 'layer.tar'), l);
    }
    mkdirSync(join(src, 'l2'));
    symlinkSync('../l0/layer.tar', join(src, 'l2', 'layer.tar'));
    writeFileSync(join(src, 'cfg.json'), cfg);
    writeFileSync(join(src, 'manifest.json'), JSON.stringify([{ Config: 'cfg.json', RepoTags: ['web:1'], Layers: ['l0/layer.tar', 'l1/layer.tar', 'l2/layer.tar'] }]));
    writeFileSync(join(src, 'repositories'), '{}');
    const file = join(dir, 'web.tar');
    // docker save's order: layers first, manifest.json last.
    execFileSync('tar', ['-cf', file, '-C', src, 'l0', 'l1', 'l2', 'cfg.json', 'manifest.json', 'repositories']);

    const a = await readLocalArchive(file);
    assert.deepEqual(a.image.repoTags, ['web:1']);
    assert.deepEqual(archiveLayers(a), [{ digest: digest(layers[0]!), size: 70_000 }, { digest: digest(layers[1]!), size: 5_000 }]);

    const sendAll = selectUpload(a, new Set());
    const slim = selectUpload(a, new Set([digest(layers[0]!)]));
    assert.ok(slim.length < 10_000 && sendAll.length > 75_000, `${slim.length} vs ${sendAll.length}`);
    const out = join(dir, 'sent.tar');
    let counted = 0;
    const chunks: Uint8Array[] = [];
    for await (const c of uploadStream(file, slim, (n) => (counted = n))) chunks.push(c);
    writeFileSync(out, Buffer.concat(chunks));
    assert.equal(counted, slim.length);
    assert.equal(Buffer.concat(chunks).length, slim.length);
    // Metadata first; the linked layer l2 is l0, which the registry has: neither is sent.
    assert.deepEqual(execFileSync('tar', ['-tf', out]).toString().trim().split('\n'), ['manifest.json', 'cfg.json', 'l1/layer.tar']);
    const full = join(dir, 'full.tar');
    const all: Uint8Array[] = [];
    for await (const c of uploadStream(file, sendAll)) all.push(c);
    writeFileSync(full, Buffer.concat(all));
    assert.deepEqual(execFileSync('tar', ['-tf', full]).toString().trim().split('\n'), ['manifest.json', 'cfg.json', 'l2/layer.tar', 'l0/layer.tar', 'l1/layer.tar']);

    writeFileSync(join(dir, 'junk.tar'), randomBytes(2048));
    await assert.rejects(readLocalArchive(join(dir, 'junk.tar')), /not a tar archive/);
    execFileSync('tar', ['-cf', join(dir, 'nometa.tar'), '-C', src, 'l1']);
    await assert.rejects(readLocalArchive(join(dir, 'nometa.tar')), /neither manifest\.json nor index\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the image table, the upload bar and IMAGE_IN_USE with its sets', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const repo: ImageRepository = {
    repository: 'default/web', tenant: 'default', name: 'web', image: '10.0.0.5:5000/default/web', public: false, size: 3 * 1024 * 1024,
    usedBy: [], tags: [
      { tag: '1', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'x', size: 3 * 1024 * 1024, pushedAt: '2026-01-01T11:55:00Z', pushedBy: 'bootstrap-admin', usedBy: [{ tenant: 'default', appkey: 'web', id: '1', container: 'web', image: 'x' }] },
      { tag: '2', digest: `sha256:${'b'.repeat(64)}`, mediaType: 'x', size: 1024, usedBy: [] },
    ],
  };
  assert.deepEqual(renderImages([repo], false, now).split('\n'), [
    'NAME   TAG   DIGEST                SIZE   PUSHED      BY                SETS',
    'web    1     sha256:aaaaaaaaaaaa   3Mi    5m ago      bootstrap-admin   1',
    'web    2     sha256:bbbbbbbbbbbb   1Ki    <unknown>   <none>            0',
  ]);
  assert.match(renderImages([repo], true, now).split('\n')[1]!, /10\.0\.0\.5:5000\/default\/web:1\s+web\/1$/);
  assert.equal(uploadBar(5, 20, 4), '[█░░░] 25% 5/20');
  const err = explainImageInUse(new WharfError('IMAGE_IN_USE', 'default/web:1 is used by 1 set', { sets: repo.tags[0]!.usedBy }));
  assert.ok(err instanceof CliError);
  assert.deepEqual(err.lines, ['  SET     CONTAINER   IMAGE', '  web/1   web         x']);
});
