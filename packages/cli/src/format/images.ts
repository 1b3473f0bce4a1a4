/** Views of the platform registry's images (`wharf image ls|inspect|push`). */
import { MediaTypes, formatBytes, type ImageDetail, type ImageManifest, type ImageRepository, type ImageTag, type ImageUse } from '@wharf/types';
import { age } from './age.js';
import { fields } from './fields.js';
import { cell, renderTable } from './table.js';

export const IMAGE_COLUMNS = ['NAME', 'TAG', 'DIGEST', 'SIZE', 'PUSHED', 'BY', 'SETS'] as const;
export const IMAGE_WIDE_COLUMNS = [...IMAGE_COLUMNS, 'IMAGE', 'USED BY'] as const;
export const USE_COLUMNS = ['SET', 'CONTAINER', 'IMAGE'] as const;

/** `sha256:0123456789ab`: enough of a digest to tell images apart. */
export function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

export function useRef(u: ImageUse): string {
  return `${u.appkey}/${u.id}`;
}

function pushed(t: ImageTag, now: number): string {
  return t.pushedAt ? `${age(t.pushedAt, now)} ago` : '<unknown>';
}

export function imageRows(repos: ImageRepository[], wide: boolean, now: number): string[][] {
  return repos.flatMap((r) => r.tags.map((t) => {
    const row = [r.name, t.tag, shortDigest(t.digest), formatBytes(t.size), pushed(t, now), cell(t.pushedBy), String(t.usedBy.length)];
    return wide ? [...row, `${r.image}:${t.tag}`, cell(t.usedBy.map(useRef).join(','))] : row;
  }));
}

export function renderImages(repos: ImageRepository[], wide: boolean, now: number): string {
  return renderTable(wide ? IMAGE_WIDE_COLUMNS : IMAGE_COLUMNS, imageRows(repos, wide, now));
}

export function useRows(uses: ImageUse[]): string[][] {
  return uses.map((u) => [useRef(u), u.container, u.image]);
}

function kind(mediaType: string): string {
  switch (mediaType) {
    case MediaTypes.dockerManifest:
      return 'Docker image (schema 2)';
    case MediaTypes.ociManifest:
      return 'OCI image';
    case MediaTypes.dockerManifestList:
    case MediaTypes.ociIndex:
      return 'index of several platforms';
    default:
      return mediaType;
  }
}

/** One manifest: its kind and platform, its config and a table of its layers. */
function describeManifest(m: ImageManifest, tags: string[], now: number): string {
  const platform = m.os || m.architecture ? `${m.os ?? '?'}/${m.architecture ?? '?'}` : undefined;
  const head = fields([
    ['Manifest', `${m.digest} (${tags.length > 0 ? `tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')}` : 'untagged'})`],
    ['Kind', kind(m.mediaType)],
    ['Platform', platform],
    ['Created', m.created ? `${m.created} (${age(m.created, now)} ago)` : undefined],
    ['Config', m.config ? `${m.config.digest} (${formatBytes(m.config.size)})` : undefined],
    ['Platforms', m.manifests?.map((c) => `${c.platform} ${shortDigest(c.digest)}`).join('\n')],
  ]);
  if (m.layers.length === 0) return head;
  const rows = m.layers.map((l, i) => [String(i), l.digest, formatBytes(l.size), l.mediaType.endsWith('.gzip') || l.mediaType.endsWith('+gzip') ? 'tar+gzip' : 'tar']);
  return `${head}\n${renderTable(['LAYER', 'DIGEST', 'SIZE', 'FORMAT'], rows, { indent: '  ' })}`;
}

/** The page of `wharf image inspect NAME[:TAG]`: the repository, its tags, the sets using it, each manifest. */
export function describeImage(d: ImageDetail, tag: string | undefined, now: number): string {
  const tags = tag !== undefined ? d.tags.filter((t) => t.tag === tag) : d.tags;
  const uses = tag !== undefined ? tags.flatMap((t) => t.usedBy) : d.usedBy;
  const out = [fields([
    ['Repository', `${d.repository} (tenant ${d.tenant})`],
    ['Image', `${d.image}${tag !== undefined ? `:${tag}` : ''}`],
    ['Public', d.public ? 'yes (anyone may pull it)' : 'no (pulled with a Wharf token)'],
    ['Size', `${formatBytes(d.size)} (every tag, each blob once)`],
  ])];
  out.push('', 'Tags:', renderTable(['TAG', 'DIGEST', 'SIZE', 'PUSHED', 'BY', 'SETS'], tags.map((t) => [t.tag, shortDigest(t.digest), formatBytes(t.size), pushed(t, now), cell(t.pushedBy), String(t.usedBy.length)]), { indent: '  ' }));
  out.push('', 'Used by:', uses.length > 0 ? renderTable(USE_COLUMNS, useRows(uses), { indent: '  ' }) : '  <no set>');
  for (const digest of new Set(tags.map((t) => t.digest))) {
    const m = d.manifests[digest];
    if (m) out.push('', describeManifest(m, tags.filter((t) => t.digest === digest).map((t) => t.tag), now));
  }
  return out.join('\n');
}

/** `[██████░░░░░░░░░░░░░░] 30% 12.0Mi/40.0Mi` */
export function uploadBar(sent: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, sent / total) : 1;
  const filled = Math.round(share * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${formatBytes(sent)}/${formatBytes(total)}`;
}
