/** Reading specs for `wharf apply -f` and `wharf policy apply -f`: a JSON or YAML file, or stdin; several YAML documents allowed. */
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

function describeKind(v: unknown): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a ${typeof v}`;
}

/** Parses JSON or YAML (JSON is YAML) into one spec per non-empty document. */
export function parseSpecs(text: string, name: string): SpecDocument[] {
  return parseDocuments(text, name, { what: 'set spec', shape: 'a set spec (an object with appkey, id and containers)' });
}

export interface DocumentKind {
  /** "set spec", "network policy": for messages. */
  what: string;
  /** What one object should look like, for messages. */
  shape: string;
  /** A document may hold a list of objects (each its own item). */
  lists?: boolean;
}

/**
 * Parses JSON or YAML into one object per non-empty document (or per item of a
 * document that is a list, when the kind allows lists).
 */
export function parseDocuments(text: string, name: string, kind: DocumentKind): SpecDocument[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const out: SpecDocument[] = [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `${name} (document ${i + 1})` : name;
    const first = doc.errors[0];
    if (first) throw new CliError(`cannot parse ${where}: ${(first.message.split('\n')[0] ?? first.message).replace(/:$/, '')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // an empty document
    const items = kind.lists && Array.isArray(value) ? value.map((v, j) => ({ v: v as unknown, where: `${where} (item ${j + 1})` })) : [{ v: value, where }];
    for (const item of items) {
      if (typeof item.v !== 'object' || item.v === null || Array.isArray(item.v)) {
        throw new CliError(`${item.where} holds ${describeKind(item.v)}; expected ${kind.lists ? `${kind.shape}, or a list of them` : kind.shape}`);
      }
      out.push({ where: item.where, spec: item.v as Record<string, unknown> });
    }
  });
  if (out.length === 0) throw new CliError(`${name} holds no ${kind.what}`);
  return out;
}
