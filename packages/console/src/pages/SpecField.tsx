/**
 * One field of the Create form, bound to a path of the spec document. It keeps
 * what is typed while it means the same value as the document (so "0." or a
 * trailing new line survive), and shows the server's errors about its path.
 */
import { useState } from 'react';
import type { FieldError } from '@wharf/types';
import { Field } from '../components/Field.js';
import { getIn, type Doc } from './SpecDoc.js';

/** How a field's text becomes a value of the document and back; undefined leaves the field out. */
export interface Codec {
  parse(text: string): unknown;
  format(value: unknown): string;
}

export const textCodec: Codec = {
  parse: (t) => (t.trim() === '' ? undefined : t),
  format: (v) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)),
};

/** A number when the text is one, else the text as it is (the server names what is wrong with it). */
export const numberCodec: Codec = {
  parse: (t) => (t.trim() === '' ? undefined : Number.isFinite(Number(t)) ? Number(t) : t),
  format: textCodec.format,
};

/** One string per line. */
export const linesCodec: Codec = {
  parse: (t) => {
    const lines = t.split('\n').filter((l) => l.trim() !== '');
    return lines.length ? lines : undefined;
  },
  format: (v) => (Array.isArray(v) ? v.join('\n') : textCodec.format(v)),
};

/** NAME=value per line. */
export const envCodec: Codec = {
  parse: (t) => {
    const env: Record<string, string> = {};
    for (const line of t.split('\n')) {
      if (line.trim() === '') continue;
      const eq = line.indexOf('=');
      env[(eq < 0 ? line : line.slice(0, eq)).trim()] = eq < 0 ? '' : line.slice(eq + 1);
    }
    return Object.keys(env).length ? env : undefined;
  },
  format: (v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.entries(v as Record<string, unknown>)
          .map(([k, x]) => `${k}=${String(x)}`)
          .join('\n')
      : '',
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export interface FieldProps {
  label: string;
  path: string;
  doc: Doc;
  errors: FieldError[];
  onChange(path: string, value: unknown): void;
  codec?: Codec;
  multiline?: boolean;
  placeholder?: string;
  readOnly?: boolean;
  hint?: string;
}

export function SpecField({ label, path, doc, errors, onChange, codec = textCodec, multiline, placeholder, readOnly, hint }: FieldProps) {
  const value = getIn(doc, path);
  const [typed, setTyped] = useState(() => codec.format(value));
  const shown = same(codec.parse(typed), value) ? typed : codec.format(value);
  const props = {
    value: shown,
    placeholder,
    readOnly,
    onChange: (e: { target: { value: string } }) => {
      setTyped(e.target.value);
      onChange(path, codec.parse(e.target.value));
    },
  };
  return (
    <Field className="spec-field" label={label} path={path} errors={errors} hint={hint}>
      {multiline ? <textarea rows={3} {...props} /> : <input {...props} />}
    </Field>
  );
}
