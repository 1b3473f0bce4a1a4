/** Loading, empty and error states, the same on every page. */
import type { ReactNode } from 'react';
import { WharfError, type FieldError } from '@wharf/types';
import type { Loaded } from '../api.js';

export function Loading({ what }: { what?: string }) {
  return <p className="state loading" role="status">Loading{what ? ` ${what}` : ''}…</p>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/**
 * The field errors of a VALIDATION_FAILED answer, if it is one, named as the input's
 * fields: the server's schema errors say which part of the request they are about
 * (`body.replicas`), its own checks do not (`replicas`).
 */
export function fieldErrors(e: unknown): FieldError[] {
  if (!(e instanceof WharfError) || e.code !== 'VALIDATION_FAILED') return [];
  const list = (e.details as { errors?: FieldError[] } | undefined)?.errors;
  return Array.isArray(list) ? list.map((f) => ({ ...f, path: f.path.replace(/^(body|params|querystring)\./, '') })) : [];
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = error instanceof WharfError ? error.code : undefined;
  const fields = fieldErrors(error);
  return (
    <div className="state error" role="alert">
      <strong>{code ?? 'Error'}</strong>: {error.message}
      {fields.length > 1 && (
        <ul>
          {fields.map((f) => (
            <li key={f.path}>
              <code>{f.path}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Renders `children(data)` once loaded; before that the loading state, an error
 * (kept above the last data on a failed refresh), or `empty` for an empty list.
 */
export function Data<T>({ q, what, empty, children }: { q: Loaded<T>; what?: string; empty?: ReactNode; children: (data: T) => ReactNode }) {
  if (q.data === undefined) return q.error ? <ErrorBox error={q.error} /> : <Loading {...(what ? { what } : {})} />;
  const isEmpty = Array.isArray(q.data) && q.data.length === 0;
  return (
    <>
      {q.error && <ErrorBox error={q.error} />}
      {isEmpty && empty !== undefined ? <Empty>{empty}</Empty> : children(q.data)}
    </>
  );
}
