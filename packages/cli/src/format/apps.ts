/** Views of apps and endpoints: `wharf app get|describe`, the scale progress line, `wharf endpoints`. */
import { formatBytes, parseBytes, type AppEvent, type AppView, DEFAULT_LB_SLOTS, type LbSpec, type Endpoint, type Endpoints, type EndpointPort, type SetTemplate } from '@wharf/types';
import { age } from './age.js';
import { describeProbe, eventRows } from './describe.js';
import { fields, when } from './fields.js';
import { bar } from './hosts.js';
import { cell, renderTable } from './table.js';
import { formatCores } from './units.js';

const BAR_WIDTH = 20;

export const APP_COLUMNS = ['APPKEY', 'REPLICAS', 'READY', 'SETS', 'LEAVING', 'AGE'] as const;
export const APP_WIDE_COLUMNS = [...APP_COLUMNS, 'IMAGES', 'CPU', 'MEMORY', 'PORTS', 'SCALE-IN', 'MESSAGE'] as const;

function images(t: SetTemplate): string {
  return [...t.containers].sort((a, b) => a.index - b.index).map((c) => c.image).join(',');
}

/** The ports a container of the template declares: `8080`, `53/udp`. */
function containerPorts(c: SetTemplate['containers'][number]): string[] {
  return (c.options.ports ?? []).map((p) => portText({ containerPort: p.containerPort, protocol: p.protocol ?? 'tcp', container: c.options.name }));
}

function templatePorts(t: SetTemplate): string {
  return t.containers.flatMap(containerPorts).join(',');
}

function memoryText(m: string | number | undefined): string {
  const bytes = parseBytes(m ?? '1Gi');
  return bytes === undefined ? String(m) : formatBytes(bytes);
}

/** `newest-first, drain 5s` */
function scaleInText(view: AppView): string {
  return `${view.spec.scaleIn?.policy ?? 'newest-first'}, drain ${view.spec.scaleIn?.drainSeconds ?? 5}s`;
}

function appRow(view: AppView, wide: boolean, now: number): string[] {
  const row = [view.appkey, String(view.replicas), `${view.ready}/${view.replicas}`, String(view.current), String(view.leaving), age(view.createdAt, now)];
  if (!wide) return row;
  const t = view.spec.template;
  return [...row, cell(images(t)), formatCores(t.resources?.cpu ?? 1), memoryText(t.resources?.memory), cell(templatePorts(t)), scaleInText(view), cell(view.message)];
}

export function renderApps(apps: AppView[], wide: boolean, now: number): string {
  const rows = [...apps].sort((a, b) => a.appkey.localeCompare(b.appkey)).map((a) => appRow(a, wide, now));
  return renderTable(wide ? APP_WIDE_COLUMNS : APP_COLUMNS, rows);
}

/** `web: [██████████████░░░░░░] 7/10 ready · 3 leaving` */
export function scaleProgressLine(view: AppView): string {
  const extra = [
    view.current !== view.replicas ? `${view.current} sets` : undefined,
    view.leaving > 0 ? `${view.leaving} leaving` : undefined,
    view.phases.failed ? `${view.phases.failed} failed` : undefined,
  ].filter(Boolean);
  return `${view.appkey}: [${bar(view.ready, view.replicas, BAR_WIDTH)}] ${view.ready}/${view.replicas} ready${extra.map((e) => ` · ${e}`).join('')}`;
}

/** Every replica there and ready, and no set left that is leaving. */
export function isScaled(view: AppView, replicas: number): boolean {
  return view.replicas === replicas && view.current === replicas && view.ready === replicas && view.leaving === 0;
}

function containerLines(t: SetTemplate): string {
  return [...t.containers]
    .sort((a, b) => a.index - b.index)
    .map((c) => {
      const o = c.options;
      const parts = [`${o.name}: ${c.image}`];
      const ports = containerPorts(c);
      if (ports.length > 0) parts.push(`ports ${ports.join(', ')}`);
      if (o.readiness) parts.push(`readiness ${describeProbe(o.readiness)}`);
      return parts.join('; ');
    })
    .join('\n');
}

function updateText(view: AppView): string | undefined {
  const u = view.spec.update;
  if (!u || (u.batch === undefined && u.maxUnavailable === undefined)) return undefined;
  return [u.batch !== undefined ? `batch ${u.batch}` : undefined, u.maxUnavailable !== undefined ? `at most ${u.maxUnavailable} not ready` : undefined].filter(Boolean).join(', ');
}

/** `0.0.0.0:8081 → 8080 (64 slots)`: the frontend and the port it sends to. */
function lbText(lb: LbSpec): string {
  return `${lb.bind ?? '0.0.0.0'}:${lb.port} → ${lb.targetPort} (${lb.maxSets ?? DEFAULT_LB_SLOTS} slots)`;
}

/** The page of `wharf app describe`; `events` is an Error when they could not be fetched. */
export function describeApp(view: AppView, events: AppEvent[] | Error, now: number): string {
  const t = view.spec.template;
  const out: string[] = [
    fields([
      ['Name', view.appkey],
      ['Tenant', view.tenant],
      ['Replicas', `${view.replicas} desired, ${view.current} current, ${view.ready} ready, ${view.leaving} leaving`],
      ...(view.spec.warmPool || view.standby ? [['Warm pool', `${view.standby} of ${view.spec.warmPool ?? 0} standby sets (started and paused; a scale-out resumes them first)`] as [string, string]] : []),
      ['Status', view.deleting ? `deleting: ${view.message}` : view.message],
      ['Template', `cpu ${formatCores(t.resources?.cpu ?? 1)}, memory ${memoryText(t.resources?.memory)}${t.placement?.strategy ? `, ${t.placement.strategy}` : ''}`],
      ['Containers', containerLines(t)],
      ['Scale-in', scaleInText(view)],
      ['Update', updateText(view)],
      ...(view.spec.lb ? [['Load balancer', lbText(view.spec.lb)] as [string, string]] : []),
      ['Generation', String(view.generation)],
      ['Created', when(view.createdAt, now)],
      ['Updated', when(view.updatedAt, now)],
    ]),
    '',
  ];
  if (view.sets.length === 0) out.push('Sets:  <none>');
  else {
    out.push('Sets:');
    const rows = view.sets.map((s) => [
      s.id, s.draining ? 'draining' : s.standby && s.status !== 'standby' ? `${s.status} (standby)` : s.status, s.ready ? 'yes' : 'no', cell(s.host), cell(s.ip), age(s.createdAt, now),
      cell(s.draining ? `draining for ${age(s.draining, now)}` : s.outOfRotation ? `out of rotation for ${age(s.outOfRotation, now)} (rollout)` : s.message),
    ]);
    out.push(renderTable(['ID', 'STATUS', 'READY', 'HOST', 'IP', 'AGE', 'MESSAGE'], rows, { indent: '  ' }));
  }
  out.push('');
  if (events instanceof Error) out.push(`Events:  <unavailable: ${events.message}>`);
  else if (events.length === 0) out.push('Events:  <none>');
  else {
    out.push('Events:');
    out.push(renderTable(['AGE', 'TYPE', 'REASON', 'MESSAGE'], eventRows(events, now), { indent: '  ' }));
  }
  return out.join('\n');
}

/** `8080`, `53/udp`, with the IP when there is one: `10.0.0.5:8080`. */
function portText(p: EndpointPort, ip?: string): string {
  const port = `${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`;
  return ip ? `${ip}:${port}` : port;
}

function addresses(e: Endpoint): string {
  if (e.ports.length === 0) return e.ip ?? '<no IP, no ports>';
  const list = e.ports.map((p) => portText(p, e.ip)).join(',');
  return e.ip ? list : `<no IP> ${list}`;
}

export function renderEndpoints(e: Endpoints, all: boolean): string {
  if (e.endpoints.length === 0) return `app ${e.appkey} has no ${all ? 'placed sets' : 'ready sets'}`;
  const header = ['SET', 'HOST', 'IP:PORT', 'READY', ...(all ? ['DRAINING'] : [])];
  const rows = e.endpoints.map((x) => [x.set, cell(x.host), addresses(x), x.ready ? 'yes' : 'no', ...(all ? [x.draining ? 'yes' : 'no'] : [])]);
  return renderTable(header, rows);
}
