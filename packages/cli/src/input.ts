/** Reading set specs for `wharf apply -f`: a JSON or YAML file, or stdin; several YAML documents allowed. */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { CliError } from './errors.js';

export interface SpecDocument {
  /** Where it came from, for messages: `web.yaml`, `web.yaml (document 2)`, `stdin`. */
  where: string;
  spec: Record<string, unknown>;
}

export async function readSource(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new CliError(`cannot read ${file}: ${why}`);
  }
}

function kind(v: unknown): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a ${typeof v}`;
}

/** Parses JSON or YAML (JSON is YAML) into one spec per non-empty document. */
export function parseSpecs(text: string, name: string): SpecDocument[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const out: SpecDocument[] = [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `${name} (document ${i + 1})` : name;
    const first = doc.errors[0];
    if (first) throw new CliError(`cannot parse ${where}: ${(first.message.split('\n')[0] ?? first.message).replace(/:$/, '')}`);
    const spec: unknown = doc.toJS();
    if (spec === null || spec === undefined) return; // an empty document
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new CliError(`${where} holds ${kind(spec)}; expected a set spec (an object with appkey, id and containers)`);
    }
    out.push({ where, spec: spec as Record<string, unknown> });
  });
  if (out.length === 0) throw new CliError(`${name} holds no set spec`);
  return out;
}
