/**
 * The document the Create page edits: a set spec or an app spec as plain data,
 * read and changed by field path (`containers[0].options.cpu`, the way the
 * server names a field in its validation errors), and written as YAML or JSON.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export type Doc = Record<string, unknown>;
export type Format = 'yaml' | 'json';
export type Mode = 'set' | 'app';

/** `containers[0].options.cpu` → ['containers', 0, 'options', 'cpu']. */
export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return out;
}

export function getIn(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const k of splitPath(path)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** A copy of `doc` with `value` at `path` (objects and arrays made on the way); undefined removes the field. */
export function setIn(doc: Doc, path: string, value: unknown): Doc {
  const keys = splitPath(path);
  const put = (node: unknown, i: number): unknown => {
    const k = keys[i] as string | number;
    const copy = (Array.isArray(node) ? [...(node as unknown[])] : node && typeof node === 'object' ? { ...node } : typeof k === 'number' ? [] : {}) as Record<string | number, unknown>;
    if (i === keys.length - 1) {
      if (value === undefined && !Array.isArray(copy)) delete copy[k];
      else copy[k] = value;
    } else {
      copy[k] = put(copy[k], i + 1);
    }
    return copy;
  };
  return put(doc, 0) as Doc;
}

export function toText(doc: Doc, format: Format): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringifyYaml(doc);
}

/** The document in `text`, or why it is not one. */
export function fromText(text: string, format: Format): { doc: Doc } | { error: string } {
  try {
    const v: unknown = format === 'json' ? JSON.parse(text) : parseYaml(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'The spec must be an object (appkey, id, containers …).' };
    return { doc: v as Doc };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const CONTAINER = { index: 0, image: '', options: { name: 'main' } };
const RESOURCES = { cpu: 1, memory: '512Mi', disk: '1Gi' };

export function newDoc(mode: Mode): Doc {
  return mode === 'set'
    ? { appkey: '', id: 1, resources: RESOURCES, containers: [CONTAINER] }
    : { appkey: '', replicas: 1, template: { resources: RESOURCES, containers: [CONTAINER] } };
}

/** The same service as the other kind of document: a set becomes an app's template and back. */
export function convert(doc: Doc, to: Mode): Doc {
  if (to === 'app') {
    const { appkey, id: _id, ...template } = doc;
    return { appkey: appkey ?? '', replicas: 1, template };
  }
  const { appkey, template } = doc as { appkey?: unknown; template?: Doc };
  return { appkey: appkey ?? '', id: 1, ...(template ?? {}) };
}

/** Where the set's fields are in the document: at its root, or under an app's `template.`. */
export function base(mode: Mode): string {
  return mode === 'app' ? 'template.' : '';
}
