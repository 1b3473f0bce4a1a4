/** Table views of sets (`wharf get sets`). */
import { formatBytes, type ContainerStatus, type SetView } from '@wharf/types';
import { age } from './age.js';
import { cell, renderTable } from './table.js';
import { formatCores } from './units.js';

/** Running and passing its readiness probe (an agent that reports no readiness: running). */
export function isContainerReady(c: ContainerStatus): boolean {
  return c.ready ?? c.state === 'running';
}

/**
 * Business containers running and ready / business containers in the spec. The
 * infra container is an implementation detail (like a Kubernetes pause container)
 * and is not counted.
 */
export function readiness(view: SetView): { running: number; ready: number; total: number } {
  const specNames = new Set((view.spec?.containers ?? []).map((c) => c.options.name));
  const business = view.containers.filter((c) => c.role === 'business');
  const counted = specNames.size > 0 ? business.filter((c) => specNames.has(c.name)) : business;
  return {
    running: counted.filter((c) => c.state === 'running').length,
    ready: counted.filter(isContainerReady).length,
    total: specNames.size > 0 ? specNames.size : business.length,
  };
}

/** Images of the business containers in start order, as the spec asks for them. */
export function images(view: SetView): string[] {
  const fromSpec = [...(view.spec?.containers ?? [])].sort((a, b) => a.index - b.index).map((c) => c.image);
  if (fromSpec.length > 0) return fromSpec;
  return view.containers.filter((c) => c.role === 'business').sort((a, b) => a.index - b.index).map((c) => c.image);
}

export function compareSets(a: SetView, b: SetView): number {
  return a.appkey.localeCompare(b.appkey) || String(a.id).localeCompare(String(b.id), undefined, { numeric: true });
}

export const SET_COLUMNS = ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE'] as const;
export const SET_WIDE_COLUMNS = [...SET_COLUMNS, 'IP', 'CPU', 'MEMORY', 'DISK', 'IMAGES', 'GEN'] as const;

/** The primary IP, with `+N` when the set has more: `10.99.0.5 +1`. */
export function ipCell(view: SetView): string {
  const ips = view.ips ?? [];
  const first = ips[0];
  if (!first) return '<none>';
  return ips.length > 1 ? `${first.ip} +${ips.length - 1}` : first.ip;
}

export function setRow(view: SetView, wide: boolean, now: number): string[] {
  const { ready, total } = readiness(view);
  const row = [cell(view.appkey), cell(String(view.id)), cell(view.status), `${ready}/${total}`, cell(view.host), age(view.createdAt, now)];
  if (!wide) return row;
  return [
    ...row,
    ipCell(view),
    formatCores(view.resources.cpu),
    formatBytes(view.resources.memory),
    formatBytes(view.resources.disk),
    cell([...new Set(images(view))].join(',')),
    `${view.observedGeneration}/${view.generation}`,
  ];
}

export function renderSets(sets: SetView[], wide: boolean, now: number): string {
  const rows = [...sets].sort(compareSets).map((s) => setRow(s, wide, now));
  return renderTable(wide ? SET_WIDE_COLUMNS : SET_COLUMNS, rows);
}
