/** The human-readable page of one set (`wharf describe set`). */
import { formatBytes, type ContainerSpec, type ContainerStatus, type ProbeSpec, type SetEvent, type SetView } from '@wharf/types';
import { age } from './age.js';
import { fields, when } from './fields.js';
import { renderTable } from './table.js';
import { describeBandwidth, formatCores, nanoCpusToCores } from './units.js';
import { isContainerReady, readiness } from './sets.js';

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

/** The last time it stopped running and why: `Error (exit 1) 2m ago`. */
function lastTermination(c: ContainerStatus, now: number): string {
  const t = c.lastTermination;
  if (!t) return '-';
  const code = t.oomKilled && t.reason !== 'OOMKilled' ? `exit ${t.exitCode}, OOMKilled` : `exit ${t.exitCode}`;
  return `${t.reason} (${code})${t.finishedAt ? ` ${age(t.finishedAt, now)} ago` : ''}`;
}

function ready(c: ContainerStatus): string {
  if (c.role === 'infra') return '-';
  return isContainerReady(c) ? 'yes' : 'no';
}

/** `http :8080/healthz every 10s, timeout 1s, after 5s, 3 failures`. */
export function describeProbe(p: ProbeSpec): string {
  const check = p.exec ? `exec ${p.exec.command.join(' ')}` : p.http ? `http :${p.http.port}${p.http.path ?? '/'}` : p.tcp ? `tcp :${p.tcp.port}` : '?';
  const parts = [`every ${p.periodSeconds ?? 10}s`, `timeout ${p.timeoutSeconds ?? 1}s`];
  if (p.initialDelaySeconds) parts.push(`after ${p.initialDelaySeconds}s`);
  parts.push(`${p.failureThreshold ?? 3} failure(s)`);
  if ((p.successThreshold ?? 1) > 1) parts.push(`${p.successThreshold} success(es)`);
  return `${check} ${parts.join(', ')}`;
}

/** One line per business container with probes or a restart policy other than the default. */
function healthLines(specs: ContainerSpec[], statuses: ContainerStatus[]): string[] {
  const lines: string[] = [];
  for (const spec of [...specs].sort((a, b) => a.index - b.index)) {
    const o = spec.options;
    if (!o.liveness && !o.readiness && (o.restartPolicy ?? 'always') === 'always') continue;
    const status = statuses.find((c) => c.name === o.name);
    const parts = [`restart ${o.restartPolicy ?? 'always'}`];
    if (o.liveness) parts.push(`liveness ${describeProbe(o.liveness)}${status?.healthy === false ? ' (failing)' : ''}`);
    if (o.readiness) parts.push(`readiness ${describeProbe(o.readiness)}`);
    if (status?.backOffUntil) parts.push(`back-off until ${status.backOffUntil}`);
    lines.push(`    ${o.name}: ${parts.join('; ')}`);
  }
  return lines;
}

export const CONTAINER_COLUMNS = ['INDEX', 'NAME', 'ROLE', 'IMAGE', 'STATE', 'READY', 'RESTARTS', 'EXIT', 'LAST TERMINATION', 'STARTED', 'CPU', 'MEMORY', 'ID'];

export function containerRows(containers: ContainerStatus[], now: number): string[][] {
  return [...containers]
    .sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'infra' ? -1 : 1))
    .map((c) => [
      String(c.index),
      c.name,
      c.role,
      c.image,
      c.state,
      ready(c),
      String(c.restartCount),
      exit(c),
      lastTermination(c, now),
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
  const { running, ready: readyCount, total } = readiness(view);
  const out: string[] = [];
  out.push(
    fields([
      ['Name', `${view.appkey}/${view.id}`],
      ['Tenant', view.tenant],
      ['Status', `${view.status} (${running}/${total} containers running, ${readyCount}/${total} ready${view.ready ? '' : '; the set is not ready'})`],
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
      renderTable(CONTAINER_COLUMNS, containerRows(view.containers, now), { indent: '  ' }),
    );
    const health = healthLines(view.spec?.containers ?? [], view.containers);
    if (health.length > 0) out.push('  Health:', ...health);
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
