/** A fast-check arbitrary of requests to one route: path, query and body, each well-formed or broken. */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { KNOWN_PARAMS } from './fixtures.js';
import { applyMutation, malformedJson, malformedYaml, mutation, nastySegments, nastyValue } from './mutations.js';
import { LONG_POLL_QUERY, routeName, type Route } from './routes.js';
import { schemaArbitrary, type JsonSchema, type Resolve } from './schema-arbitrary.js';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Query values naming the fixtures, by parameter name. */
const KNOWN_QUERY: Record<string, string[]> = { tenant: ['default', 'team-a'], appkey: ['web', 'shop'], container: ['main'], host: ['h1'] };

function encode(v: unknown): string {
  try {
    return encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v));
  } catch {
    return '%ff'; // a lone surrogate: sent as an invalid escape instead
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** One path segment, percent-encoded as sent. */
function segmentArbitrary(name: string, schema: JsonSchema, resolve: Resolve): fc.Arbitrary<string> {
  const known = KNOWN_PARAMS[name] ?? [];
  return fc.oneof(
    { weight: 4, arbitrary: known.length ? fc.constantFrom(...known) : fc.constant('x') },
    { weight: 3, arbitrary: fc.constantFrom(...nastySegments) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).map(encode) },
    { weight: 1, arbitrary: schemaArbitrary(schema, resolve).map(encode) },
  );
}

/** `name=value` pairs, percent-encoded: absent, valid, broken, repeated, or an unknown name. */
function queryArbitrary(route: Route, resolve: Resolve): fc.Arbitrary<string[]> {
  const pinned = LONG_POLL_QUERY[routeName(route)];
  const params = route.query.map(({ name, schema }) => {
    // Always sent: absent, it would take its default and wait.
    if (pinned?.param === name) return fc.constantFrom(...pinned.safe).map((v) => [`${name}=${encode(v)}`]);
    const value: fc.Arbitrary<string> = fc.oneof(
      { weight: 3, arbitrary: KNOWN_QUERY[name] ? fc.constantFrom(...KNOWN_QUERY[name]) : schemaArbitrary(schema, resolve).map(encode) },
      { weight: 1, arbitrary: schemaArbitrary(schema, resolve).map(encode) },
      { weight: 2, arbitrary: nastyValue.map(encode) },
      { weight: 1, arbitrary: fc.constantFrom(...nastySegments) },
    );
    return fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as string[]) },
      { weight: 4, arbitrary: value.map((v) => [`${name}=${v}`]) },
      // Repeated: Fastify makes an array of it.
      { weight: 1, arbitrary: fc.tuple(value, value).map(([a, b]) => [`${name}=${a}`, `${name}=${b}`]) },
    );
  });
  const unknown = fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: nastyValue.map((v) => [`zz${encode(v).slice(0, 40)}=${encode(v)}`]) });
  return fc.tuple(unknown, ...params).map((parts) => parts.flat());
}

interface Body {
  contentType?: string;
  payload?: string;
}

/**
 * A body: the schema's value broken in one place (as JSON or YAML), text that does not parse,
 * or the wrong media type; given the request's path segments, which it may repeat.
 */
function bodyArbitrary(route: Route, resolve: Resolve): fc.Arbitrary<(segments: Record<string, string>) => Body> {
  const value = route.body
    ? fc.tuple(schemaArbitrary(route.body, resolve), fc.boolean(), mutation).map(([v, align, m]) => (segments: Record<string, string>) => applyMutation(align ? aligned(v, segments) : v, m))
    : nastyValue.map((v) => () => v);
  const as = (contentType: string, text: (v: unknown) => string) => value.map((v) => (segments: Record<string, string>) => ({ contentType, payload: text(v(segments)) }));
  const fixed = (contentType: string, texts: readonly string[]) => fc.constantFrom(...texts).map((payload) => () => ({ contentType, payload }));
  const broken = [
    fixed('application/json', malformedJson),
    as('application/yaml', safeYaml),
    fixed('application/yaml', malformedYaml),
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=latin1', 'multipart/form-data')
      .chain((contentType) => as(contentType, (v) => JSON.stringify(v) ?? '')),
  ].map((arbitrary) => ({ weight: 1, arbitrary }));
  const json = as('application/json', (v) => JSON.stringify(v) ?? 'null');
  if (route.body) return fc.oneof({ weight: 9, arbitrary: json }, ...broken);
  return fc.oneof({ weight: 9, arbitrary: fc.constant(() => ({})) }, { weight: 1, arbitrary: json }, ...broken);
}

/** The body with the fields that repeat a path parameter (appkey, id, name) set to it, so it gets past "does not match". */
function aligned(v: unknown, segments: Record<string, string>): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out = { ...(v as Record<string, unknown>) };
  for (const [k, s] of Object.entries(segments)) if (k in out) out[k] = /^\d+$/.test(s) && typeof out[k] === 'number' ? Number(s) : s;
  return out;
}

function safeYaml(v: unknown): string {
  try {
    return toYaml(v);
  } catch {
    return 'a: [';
  }
}

export function requestArbitrary(route: Route, resolve: Resolve, token: string): fc.Arbitrary<FuzzRequest> {
  const segmentArbs = route.pathParams.map((p) => segmentArbitrary(p.name, p.schema, resolve).map((s) => [p.name, s] as const));
  return fc.tuple(fc.tuple(...segmentArbs), queryArbitrary(route, resolve), bodyArbitrary(route, resolve)).map(([segments, query, bodyFor]): FuzzRequest => {
    const body = bodyFor(Object.fromEntries(segments.map(([n, s]) => [n, decode(s)])));
    const path = route.path.replace(/\{(\w+)\}/g, (_, n: string) => segments.find(([name]) => name === n)?.[1] ?? 'x');
    return {
      method: route.method,
      url: path + (query.length ? `?${query.join('&')}` : ''),
      headers: { authorization: `Bearer ${token}`, ...(body.contentType ? { 'content-type': body.contentType } : {}) },
      ...(body.payload !== undefined ? { payload: body.payload } : {}),
    };
  });
}

/** The request in a line, for failure messages (long parts cut). */
export function describeRequest(r: FuzzRequest): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s);
  return `${r.method} ${cut(r.url)} [${r.headers['content-type'] ?? 'no body'}] ${cut(r.payload ?? '')}`;
}
