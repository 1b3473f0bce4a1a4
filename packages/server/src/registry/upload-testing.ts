/**
 * `docker save`-like archives for tests, written with the system `tar` in a chosen
 * entry order: Docker's layout (`<id>/layer.tar`, `<config>.json`, `manifest.json`)
 * and the OCI layout (`index.json`, `blobs/sha256/…`). Layers are any bytes given.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const digestOf = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (b: Buffer | string) => digestOf(b).slice('sha256:'.length);

export interface TestArchive {
  path: string;
  config: Buffer;
  layers: Buffer[];
  /** The layer digests (sha256 of the bytes, as given to the config). */
  diffIds: string[];
}

function config(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map(digestOf) }, ...extra }));
}

function pack(dir: string, out: string, names: string[]): void {
  execFileSync('tar', ['-cf', out, '-C', dir, ...names]);
}

/**
 * Docker's layout. `order: 'metadata-first'` puts manifest.json and the config before
 * the layers (as `wharf image push` sends it), `'docker'` after them (as `docker save`
 * writes it). `linkLast` makes the last layer a symlink to the first's file; `omit`
 * leaves the files of those layers out (as `wharf image push` does for layers the
 * registry has).
 */
export function dockerArchive(out: string, layers: Buffer[], o: { repoTags?: string[]; order?: 'docker' | 'metadata-first'; linkLast?: boolean; manifest?: unknown; omit?: number[] } = {}): TestArchive {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-archive-'));
  try {
    const cfg = config(layers);
    const cfgName = `${hex(cfg)}.json`;
    writeFileSync(join(dir, cfgName), cfg);
    const layerPaths = layers.map((l, i) => {
      const id = hex(`${i}:${hex(l)}`);
      mkdirSync(join(dir, id));
      if (o.linkLast && i === layers.length - 1 && i > 0) symlinkSync(`../${hex(`0:${hex(layers[0]!)}`)}/layer.tar`, join(dir, id, 'layer.tar'));
      else writeFileSync(join(dir, id, 'layer.tar'), l);
      return `${id}/layer.tar`;
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(o.manifest ?? [{ Config: cfgName, RepoTags: o.repoTags ?? ['web:1'], Layers: layerPaths }]));
    const metadata = ['manifest.json', cfgName];
    const layerDirs = layerPaths.map(dirname).filter((_, i) => !o.omit?.includes(i));
    pack(dir, out, o.order === 'metadata-first' ? [...metadata, ...layerDirs] : [...layerDirs, cfgName, 'manifest.json']);
    return { path: out, config: cfg, layers, diffIds: layers.map(digestOf) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The OCI layout with uncompressed layers, `index.json` last, named `name` by annotation. */
export function ociArchive(out: string, layers: Buffer[], name = 'docker.io/library/web:2'): TestArchive {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-archive-'));
  try {
    const blobs = join(dir, 'blobs/sha256');
    mkdirSync(blobs, { recursive: true });
    const put = (b: Buffer) => writeFileSync(join(blobs, hex(b)), b);
    const cfg = config(layers);
    put(cfg);
    for (const l of layers) put(l);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(cfg), size: cfg.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length })),
    }));
    put(manifest);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': name } }],
    }));
    pack(dir, out, ['blobs', 'oci-layout', 'index.json']);
    return { path: out, config: cfg, layers, diffIds: layers.map(digestOf) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
