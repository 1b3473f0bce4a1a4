/** Views of volumes, recycle bins and snapshots (`wharf volume …`), and of a host's volume pool. */
import { formatBytes, type TrashEntry, type VolumePool, type VolumeSnapshot, type VolumeView } from '@wharf/types';
import { age, humanDuration } from './age.js';
import { fields, when } from './fields.js';
import { cell, renderTable } from './table.js';

export const VOLUME_COLUMNS = ['SET', 'HOST', 'DRIVER', 'USED', 'QUOTA', 'USE%', 'SIZE'] as const;
export const VOLUME_WIDE_COLUMNS = [...VOLUME_COLUMNS, 'TENANT', 'PATH', 'REPORTED'] as const;
export const TRASH_COLUMNS = ['ID', 'SET', 'DRIVER', 'USED', 'QUOTA', 'DELETED', 'PURGED IN'] as const;
export const SNAPSHOT_COLUMNS = ['NAME', 'CREATED', 'USED'] as const;

/** 12% of the quota in force, `-` while unknown. */
export function usePercent(used: number | undefined, quota: number | undefined): string {
  if (used === undefined || !quota) return '-';
  return `${Math.round((used / quota) * 100)}%`;
}

function bytesOr(v: number | undefined, none = '-'): string {
  return v === undefined ? none : formatBytes(v);
}

export function volumeRow(v: VolumeView, wide: boolean, now: number): string[] {
  const row = [`${v.appkey}/${v.id}`, cell(v.host), v.driver ?? '-', bytesOr(v.used), bytesOr(v.quota), usePercent(v.used, v.quota), formatBytes(v.size)];
  if (!wide) return row;
  return [...row, v.tenant, v.path ?? '-', v.reportedAt ? `${age(v.reportedAt, now)} ago` : '-'];
}

export function renderVolumes(volumes: VolumeView[], wide: boolean, now: number): string {
  const rows = [...volumes]
    .sort((a, b) => a.appkey.localeCompare(b.appkey) || a.id.localeCompare(b.id, undefined, { numeric: true }))
    .map((v) => volumeRow(v, wide, now));
  return renderTable(wide ? VOLUME_WIDE_COLUMNS : VOLUME_COLUMNS, rows);
}

export function snapshotRows(snapshots: VolumeSnapshot[], now: number): string[][] {
  return [...snapshots].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((s) => [cell(s.name), `${age(s.createdAt, now)} ago`, formatBytes(s.used)]);
}

export function renderSnapshots(snapshots: VolumeSnapshot[], now: number): string {
  return renderTable(SNAPSHOT_COLUMNS, snapshotRows(snapshots, now));
}

/** The page of `wharf volume inspect`. */
export function describeVolume(v: VolumeView, now: number): string {
  const out: string[] = [];
  // The host may round a size up to what its driver can do, or not have applied a new one yet.
  const pending = v.quota !== undefined && v.quota !== v.size ? `; the host enforces ${formatBytes(v.quota)}` : '';
  out.push(
    fields([
      ['Set', `${v.appkey}/${v.id}`],
      ['Tenant', v.tenant],
      ['Host', v.host ?? '<none> (the set is not placed yet)'],
      ['Driver', v.driver ?? '<unknown>'],
      ['Path', v.path],
      ['Size', `${formatBytes(v.size)} (the set's resources.disk${pending})`],
      ['Used', v.used !== undefined ? `${formatBytes(v.used)} (${usePercent(v.used, v.quota ?? v.size)})` : '<not reported yet>'],
      ['Reported', when(v.reportedAt, now)],
    ]),
  );
  out.push('');
  if (v.snapshots === undefined) {
    out.push(`Snapshots:  ${v.host ? `<unknown: host ${v.host} did not answer>` : '<none>'}`);
  } else if (v.snapshots.length === 0) {
    out.push('Snapshots:  <none>');
  } else {
    out.push('Snapshots:');
    out.push(renderTable(SNAPSHOT_COLUMNS, snapshotRows(v.snapshots, now), { indent: '  ' }));
  }
  return out.join('\n');
}

/** `h1/0193ab…`: what `wharf volume restore` and `purge` take. */
export function trashRef(e: Pick<TrashEntry, 'host' | 'trashId'>): string {
  return `${e.host}/${e.trashId}`;
}

export function trashRows(entries: TrashEntry[], now: number): string[][] {
  return [...entries]
    .sort((a, b) => a.host.localeCompare(b.host) || b.deletedAt.localeCompare(a.deletedAt) || a.trashId.localeCompare(b.trashId))
    .map((e) => {
      const left = Date.parse(e.purgeAt) - now;
      return [trashRef(e), `${e.appkey}/${e.id}`, e.driver, formatBytes(e.used), formatBytes(e.quota), `${age(e.deletedAt, now)} ago`, Number.isNaN(left) ? '-' : left <= 0 ? 'due' : humanDuration(left)];
    });
}

export function renderTrash(entries: TrashEntry[], now: number): string {
  return renderTable(TRASH_COLUMNS, trashRows(entries, now));
}

/** `btrfs 12Gi/100Gi, bin 2Gi (3)`, or `-` for an agent that reports no pool. */
export function poolCell(pool: VolumePool | undefined): string {
  if (!pool) return '-';
  const bin = pool.trashCount > 0 ? `, bin ${formatBytes(pool.trash)} (${pool.trashCount})` : '';
  return `${pool.driver} ${formatBytes(pool.used)}/${formatBytes(pool.size)}${bin}`;
}

/** The `Volume pool:` line of `wharf describe host`. */
export function poolText(pool: VolumePool | undefined, host: string): string {
  if (!pool) return '<not reported by the agent>';
  const bin = pool.trashCount > 0
    ? `recycle bin: ${pool.trashCount} volume${pool.trashCount === 1 ? '' : 's'}, ${formatBytes(pool.trash)} (wharf volume trash ls --host ${host})`
    : 'recycle bin: empty';
  return `${pool.driver}, ${formatBytes(pool.used)} used of ${formatBytes(pool.size)}, ${formatBytes(pool.free)} free; ${bin}`;
}
