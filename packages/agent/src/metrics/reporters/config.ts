/**
 * --reporter specs: KIND=URL, one reporter each.
 *
 *   influx=http://127.0.0.1:8086/write?db=wharf           InfluxDB 1.x (/write query parameters pass through: db, rp, u, p, precision)
 *   graphite=tcp://127.0.0.1:2003?prefix=dc1              Graphite plaintext (port 2003 by default; prefix optional)
 *   zabbix=tcp://127.0.0.1:10051?host=web-17              Zabbix trapper (port 10051 by default; host: the Zabbix host, default the agent's name)
 */
import { hostname } from 'node:os';
import { createGraphiteReporter } from './graphite.js';
import { createInfluxReporter, INFLUX_PRECISIONS } from './influx.js';
import type { Reporter } from './reporter.js';
import { createZabbixReporter } from './zabbix.js';

export type ReporterSpec =
  | { kind: 'influx'; spec: string; url: URL }
  | { kind: 'graphite'; spec: string; host: string; port: number; prefix?: string }
  | { kind: 'zabbix'; spec: string; host: string; port: number; zabbixHost?: string };

/** A --reporter spec that cannot be used; the message names the spec and what is wrong. */
export class ReporterSpecError extends Error {
  override readonly name = 'ReporterSpecError';
}

const KINDS = ['influx', 'graphite', 'zabbix'] as const;
const EXAMPLE = 'influx=http://127.0.0.1:8086/write?db=wharf';

export function parseReporterSpecs(specs: readonly string[]): ReporterSpec[] {
  const parsed = specs.map(parseReporterSpec);
  const seen = new Set<string>();
  for (const p of parsed) {
    if (seen.has(p.spec)) throw new ReporterSpecError(`reporter "${p.spec}" is given twice`);
    seen.add(p.spec);
  }
  return parsed;
}

export function parseReporterSpec(spec: string): ReporterSpec {
  const fail = (what: string): never => {
    throw new ReporterSpecError(`reporter "${spec}": ${what}`);
  };
  const eq = spec.indexOf('=');
  if (eq <= 0) fail(`expected KIND=URL with KIND one of ${KINDS.join(', ')}, e.g. ${EXAMPLE}`);
  const kind = spec.slice(0, eq).trim();
  const address = spec.slice(eq + 1).trim();
  let url: URL | undefined;
  try {
    url = new URL(address);
  } catch {
    fail(`"${address}" is not a URL`);
  }
  if (!url) return fail('no URL');
  switch (kind) {
    case 'influx':
      return { kind, spec, url: influxUrl(url, fail) };
    case 'graphite': {
      const { host, port } = tcpAddress(url, 2003, ['prefix'], fail);
      const prefix = url.searchParams.get('prefix') ?? undefined;
      if (prefix !== undefined && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
        fail(`prefix "${prefix}" must be dot-separated words of letters, digits, "_" and "-"`);
      }
      return { kind, spec, host, port, ...(prefix !== undefined ? { prefix } : {}) };
    }
    case 'zabbix': {
      const { host, port } = tcpAddress(url, 10051, ['host'], fail);
      const zabbixHost = url.searchParams.get('host') ?? undefined;
      if (zabbixHost !== undefined && !/^[A-Za-z0-9 ._-]{1,128}$/.test(zabbixHost)) {
        fail(`host "${zabbixHost}" is not a Zabbix host name (letters, digits, spaces, ".", "_", "-"; at most 128)`);
      }
      return { kind, spec, host, port, ...(zabbixHost !== undefined ? { zabbixHost } : {}) };
    }
    default:
      return fail(`unknown kind "${kind}"; one of ${KINDS.join(', ')}`);
  }
}

function influxUrl(url: URL, fail: (what: string) => never): URL {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`influx wants an http:// or https:// URL, not ${url.protocol}`);
  if (!url.searchParams.get('db')) fail('influx needs the database: ?db=NAME');
  const precision = url.searchParams.get('precision');
  if (precision !== null && !(INFLUX_PRECISIONS as readonly string[]).includes(precision)) {
    fail(`precision "${precision}" is not one of ${INFLUX_PRECISIONS.join(', ')}`);
  }
  const out = new URL(url);
  if (out.pathname === '/') out.pathname = '/write';
  return out;
}

function tcpAddress(url: URL, defaultPort: number, options: string[], fail: (what: string) => never): { host: string; port: number } {
  if (url.protocol !== 'tcp:') fail(`expected tcp://HOST[:PORT], not ${url.protocol}//`);
  if (!url.hostname) fail('no host in the URL');
  if (url.pathname !== '' && url.pathname !== '/') fail(`no path expected, got "${url.pathname}"`);
  if (url.username || url.password) fail('no user or password expected');
  const unknown = [...url.searchParams.keys()].filter((k) => !options.includes(k));
  if (unknown.length) fail(`unknown option ${unknown.map((k) => `"${k}"`).join(', ')}; ${options.length ? `known: ${options.join(', ')}` : 'none are known'}`);
  const port = url.port === '' ? defaultPort : Number(url.port);
  if (!(port > 0 && port < 65536)) fail(`port ${url.port} is out of range`);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** The reporter a spec describes; `host` names the agent (Zabbix's default host name). */
export function createReporter(spec: ReporterSpec, defaults: { host?: string | undefined }): Reporter {
  switch (spec.kind) {
    case 'influx':
      return createInfluxReporter({ url: spec.url });
    case 'graphite':
      return createGraphiteReporter({ host: spec.host, port: spec.port, ...(spec.prefix !== undefined ? { prefix: spec.prefix } : {}) });
    case 'zabbix':
      return createZabbixReporter({ host: spec.host, port: spec.port, zabbixHost: spec.zabbixHost ?? defaults.host ?? hostname() });
  }
}
