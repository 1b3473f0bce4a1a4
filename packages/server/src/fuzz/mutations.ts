/**
 * Ways to break a request: one node of a body replaced, dropped or joined by an
 * unknown field; resources made negative or zero; names and paths given traversals;
 * a container index repeated; bodies that are not JSON at all; URL parts with
 * traversal, NUL and bad escapes.
 */
import fc from 'fast-check';

const HUGE_STRING = 'x'.repeat(100_000);

/** Values of the wrong type, huge, unicode, traversal: what one body node is replaced with. */
export const nastyValues: readonly unknown[] = [
  '', 'x', 0, -1, 1.5, true, null, [], {}, [1, 2], { a: 1 },
  1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e21, -0.0001,
  HUGE_STRING, '9'.repeat(400), '1e999', 'NaN', 'Infinity', '-1Gi', '0Gi', '999999999999999999999Pi', '1.5.3Gi',
  '日本語', '🐳'.repeat(40), '\u202eevil', 'a\u0000b', '\u0000', '\ud800', 'e\u0301', '\u200b',
  '../../etc/passwd', '/../../', '..', '/etc/shadow', '/data/../../root', './', '%2e%2e%2f', 'C:\\windows\\system32',
  Array.from({ length: 300 }, (_, i) => i),
];

export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nastyValues) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 0 }) },
);

/** Names and paths that climb out of where they belong. */
const TRAVERSALS = ['../../etc/passwd', '/data/../../root', '..', '/', '//', 'a/../../b', '..\\..\\windows', '%2e%2e%2f', '/data/\u0000x', '~root/.ssh'];

/** Keys whose values name or locate something: given a traversal. */
const NAME_KEYS = new Set(['path', 'name', 'image', 'source', 'host', 'container', 'set', 'uplink', 'appkey', 'id', 'tenant', 'user', 'cmd']);

/** Keys whose values are amounts of something: made negative or zero. */
const RESOURCE_KEYS = new Set(['cpu', 'mem', 'memory', 'disk', 'quota', 'size', 'replicas', 'warmPool', 'min', 'max', 'bandwidth', 'sets', 'ips', 'batch', 'value', 'ttlSeconds', 'index']);

export type Mutation =
  | { kind: 'none' }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'drop'; pick: number }
  | { kind: 'unknown-field'; pick: number; name: string; value: unknown }
  | { kind: 'resources'; value: unknown }
  | { kind: 'duplicate-index' }
  | { kind: 'traversal'; value: string }
  | { kind: 'whole'; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unknown-field' as const), pick: fc.nat(), name: fc.constantFrom('extra', '__proto__', 'constructor', 'x'.repeat(300), '日本'), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resources' as const), value: fc.constantFrom(0, -1, -0.5, '-1', '0', -1e308) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'duplicate-index' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('traversal' as const), value: fc.constantFrom(...TRAVERSALS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), value: nastyValue }) },
);

type Path = (string | number)[];

function nodes(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => nodes(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nodes(v, [...path, k], out);
  return out;
}

/** The object or array holding the node at `path`; undefined once an earlier change replaced a node on the way. */
function containerOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let cur = root as Record<string | number, unknown> | undefined;
  for (const k of path.slice(0, -1)) cur = cur && typeof cur === 'object' ? (cur[k] as Record<string | number, unknown>) : undefined;
  return cur && typeof cur === 'object' ? cur : undefined;
}

/** `value` (a fresh copy) broken as `m` says; the same mutation on the same value gives the same result. */
export function applyMutation(original: unknown, m: Mutation): unknown {
  const value = structuredClone(original);
  const all = nodes(value);
  switch (m.kind) {
    case 'none':
      return value;
    case 'whole':
      return m.value;
    case 'replace': {
      const path = all[m.pick % all.length]!;
      if (path.length === 0) return m.value;
      containerOf(value, path)![path.at(-1)!] = m.value;
      return value;
    }
    case 'drop': {
      const keyed = all.filter((p) => typeof p.at(-1) === 'string');
      const path = keyed[m.pick % Math.max(1, keyed.length)];
      if (path) delete containerOf(value, path)![path.at(-1)!];
      return value;
    }
    case 'unknown-field': {
      const objects = all.filter((p) => isObject(p.length ? containerOf(value, p)![p.at(-1)!] : value));
      const path = objects[m.pick % Math.max(1, objects.length)];
      if (!path) return value;
      const target = (path.length ? containerOf(value, path)![path.at(-1)!] : value) as Record<string, unknown>;
      // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it.
      Object.defineProperty(target, m.name, { value: m.value, enumerable: true, configurable: true, writable: true });
      return value;
    }
    case 'resources':
      for (const p of all) {
        const holder = containerOf(value, p);
        if (holder && typeof p.at(-1) === 'string' && RESOURCE_KEYS.has(p.at(-1) as string)) holder[p.at(-1)!] = m.value;
      }
      return value;
    case 'traversal':
      for (const p of all) {
        const holder = containerOf(value, p);
        if (holder && typeof p.at(-1) === 'string' && NAME_KEYS.has(p.at(-1) as string)) holder[p.at(-1)!] = m.value;
      }
      return value;
    case 'duplicate-index':
      for (const p of all) {
        const node = p.length ? containerOf(value, p)?.[p.at(-1)!] : value;
        if (Array.isArray(node) && node.length > 0 && isObject(node[0]) && 'index' in node[0]) node.push(structuredClone(node[0]));
      }
      return value;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text that is not the JSON (or YAML) it claims to be, or is but of no use. */
export const malformedJson: readonly string[] = [
  '', ' ', '{', '{"a":', '{"a":1,}', "{'a':1}", 'undefined', 'NaN', '[1,2', '\uFEFF{}', '{"a":1}{"b":2}',
  '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
  '['.repeat(5000) + ']'.repeat(5000), '{"a":"\\ud800"}', '{"a":1e999}', 'null', 'true', '"text"', '12', '\u0000',
];

export const malformedYaml: readonly string[] = [
  'a: [', 'a: &x [*x]', '!!js/function "f() {}"', '- a\n- b', 'a: b: c', '? [a]\n: 1',
  'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d]',
];

/** URL path segments, already percent-encoded as sent: traversal, NUL, bad escapes, very long. */
export const nastySegments: readonly string[] = [
  '..', '.', '../..', '..%2f..%2fetc%2fpasswd', '%2e%2e', '%2e%2e%2f', '%2E%2E%2Fadmin', '..%5c..', '%2F', '%00', 'a%00b',
  '%ff', '%', '%zz', '%20', '~', '-', '_', 'A', 'a'.repeat(5000), '%F0%9F%90%B3', '%E2%80%AE', '0', '-1', '1e309', '00',
];
