/** The human-readable page of one set (`wharf describe set`). */
import { formatBytes, type ContainerStatus, type SetEvent, type SetView } from '@wharf/types';
import { age } from './age.js';
import { fields, when } from './fields.js';
import { renderTable } from './table.js';
import { describeBandwidth, formatCores, nanoCpusToCores } from './units.js';
import { readiness } from './sets.js';

/** How many of the most recent events describe shows. */
export const DESCRIBE_EVENTS = 20;

function volume(view: SetView): string {
  const mounts = (view.spec?.containers ?? []).flatMap((c) => (c.options.volumes ?? []).map((v) => `${v.path} (${c.options.name})`));
  return `${formatBytes(view.resources.disk)}, ${mounts.length > 0 ? `mounted at ${mounts.join(', ')}` : 'not mounted by any container'}`;
}

/** Every platform IP of the set, one per line: `10.99.0.5 on net1 (primary)`. */
export function ipLines(view: SetView): string {
  const ips = view.ips ?? [];
  if (ips.length === 0) {
    const want = view.spec?.network;
    if (want?.name || want?.ip) return `<none yet; the spec asks for ${[want.ip, want.name ? `on ${want.name}` : undefined].filter(Boolean).join(' ')}>`;
    return '<none>';
  }
  return ips.map((x, i) => `${x.ip} on ${x.network}${i === 0 ? ' (primary)' : ''}`).join('\n');
}

function exit(c: ContainerStatus): string {
  if (c.exitCode === undefined) return c.oomKilled ? 'OOMKilled' : '-';
  return c.oomKilled ? `${c.exitCode} (OOMKilled)` : String(c.exitCode);
}

export function containerRows(containers: ContainerStatus[], now: number): string[][] {
  return [...containers]
    .sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'infra' ? -1 : 1))
    .map((c) => [
      String(c.index),
      c.name,
      c.role,
      c.image,
      c.state,
      String(c.restartCount),
      exit(c),
      c.startedAt ? age(c.startedAt, now) : '-',
      c.nanoCpus !== undefined ? nanoCpusToCores(c.nanoCpus) : '-',
      c.memory !== undefined ? formatBytes(c.memory) : '-',
      c.containerId ? c.containerId.slice(0, 12) : '-',
    ]);
}

export function eventRows(events: SetEvent[], now: number, limit = DESCRIBE_EVENTS): string[][] {
  return [...events]
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    .slice(-limit)
    .map((e) => [age(e.time, now), e.type, e.reason, e.message.replace(/\s*\n\s*/g, ' ')]);
}

/** `events` is the events list, or an Error when it could not be fetched (the page is still useful without it). */
export function describeSet(view: SetView, events: SetEvent[] | Error, now: number): string {
  const { running, total } = readiness(view);
  const out: string[] = [];
  out.push(
    fields([
      ['Name', `${view.appkey}/${view.id}`],
      ['Tenant', view.tenant],
      ['Status', `${view.status} (${running}/${total} containers running)`],
      ['Message', view.message],
      ['Host', view.host ?? '<not scheduled>'],
      ['Desired', view.desired],
      ['Generation', `${view.generation} (observed ${view.observedGeneration}${view.observedGeneration < view.generation ? ', the agent has not applied the latest spec yet' : ''})`],
      ['Resources', `cpu ${formatCores(view.resources.cpu)}, memory ${formatBytes(view.resources.memory)}, disk ${formatBytes(view.resources.disk)}`],
      ['Bandwidth', describeBandwidth(view.spec?.resources?.bandwidth)],
      ['IPs', ipLines(view)],
      ['Volume', volume(view)],
      ['Created', when(view.createdAt, now)],
      ['Updated', when(view.updatedAt, now)],
    ]),
  );
  out.push('');
  if (view.containers.length === 0) {
    out.push('Containers:  <none reported by the agent yet>');
  } else {
    out.push('Containers:');
    out.push(
      renderTable(['INDEX', 'NAME', 'ROLE', 'IMAGE', 'STATE', 'RESTARTS', 'EXIT', 'STARTED', 'CPU', 'MEMORY', 'ID'], containerRows(view.containers, now), { indent: '  ' }),
    );
    const messages = view.containers.filter((c) => c.message);
    if (messages.length > 0) {
      out.push('  Messages:');
      for (const c of messages) out.push(`    ${c.name}: ${c.message}`);
    }
  }
  out.push('');
  if (events instanceof Error) {
    out.push(`Events:  <unavailable: ${events.message}>`);
  } else if (events.length === 0) {
    out.push('Events:  <none>');
  } else {
    out.push(events.length > DESCRIBE_EVENTS ? `Events (last ${DESCRIBE_EVENTS} of ${events.length}):` : 'Events:');
    out.push(renderTable(['AGE', 'TYPE', 'REASON', 'MESSAGE'], eventRows(events, now), { indent: '  ' }));
  }
  return out.join('\n');
}
