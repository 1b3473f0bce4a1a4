/**
 * Create and edit a set or an app: a form for the common fields and a YAML/JSON
 * editor of the whole spec side by side, both editing one document. The server's
 * validation errors show at the field they name and as a list above the editor.
 * `?appkey=&id=` loads a set's spec, `?mode=app&appkey=` an app's, for editing.
 */
import { useEffect, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import type { FieldError } from '@wharf/types';
import { useAction, useApi } from '../api.js';
import { ErrorBox, Loading, fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';
import { CreateEditor } from './CreateEditor.js';
import { CreateForm } from './CreateForm.js';
import { convert, fromText, newDoc, toText, type Doc, type Format, type Mode } from './SpecDoc.js';
import { appHref, setHref } from '../links.js';

interface Draft {
  doc: Doc;
  text: string;
  parseError?: string;
}

const draftOf = (doc: Doc, format: Format): Draft => ({ doc, text: toText(doc, format) });

/** What the server needs before it can even route the request. */
function missing(doc: Doc, mode: Mode): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof doc.appkey !== 'string' || doc.appkey === '') errors.push({ path: 'appkey', message: 'is required' });
  if (mode === 'set' && (doc.id === undefined || doc.id === '')) errors.push({ path: 'id', message: 'is required' });
  return errors;
}

export function Create() {
  const { client, canWrite, tenant } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const editApp = params.get('mode') === 'app';
  const editKey = params.get('appkey') ?? '';
  const editId = params.get('id') ?? '';
  const editing = editKey !== '' && (editApp || editId !== '');

  const [mode, setMode] = useState<Mode>(editApp ? 'app' : 'set');
  const [format, setFormat] = useState<Format>('yaml');
  const [draft, setDraft] = useState<Draft>(() => draftOf(newDoc(mode), format));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const action = useAction();

  const existing = useApi<Doc | undefined>(
    async (c) => (!editing ? undefined : editApp ? ((await c.getApp(editKey)).spec as unknown as Doc) : ((await c.getSet(editKey, editId)).spec as unknown as Doc)),
    [editing, editApp, editKey, editId],
    false,
  );
  useEffect(() => {
    if (existing.data) {
      setMode(editApp ? 'app' : 'set');
      setDraft(draftOf(existing.data, format));
    }
  }, [existing.data]);

  const onDoc = (doc: Doc) => setDraft(draftOf(doc, format));
  const onText = (text: string) => {
    const r = fromText(text, format);
    setDraft((d) => ('doc' in r ? { doc: r.doc, text } : { doc: d.doc, text, parseError: r.error }));
  };
  const onFormat = (f: Format) => {
    setFormat(f);
    // Text that does not parse is kept as it is; the new format shows the last good document.
    setDraft((d) => draftOf(d.doc, f));
  };
  const onMode = (m: Mode) => {
    setMode(m);
    setErrors([]);
    onDoc(convert(draft.doc, m));
  };

  const submit = () =>
    action.run(async () => {
      const local = missing(draft.doc, mode);
      setErrors(local);
      if (local.length) return;
      try {
        if (mode === 'set') {
          const { set } = await client.applySet(draft.doc);
          navigate(setHref(set));
        } else {
          const { app } = await client.applyApp(draft.doc);
          navigate(appHref(app.appkey));
        }
      } catch (e) {
        setErrors(fieldErrors(e));
        throw e;
      }
    });

  const what = mode === 'app' ? 'app' : 'set';
  const title = editing ? `Edit ${what} ${editKey}${editApp ? '' : `/${editId}`}` : 'Create';
  if (editing && existing.data === undefined) {
    return (
      <>
        <h1>{title}</h1>
        {existing.error ? <ErrorBox error={existing.error} /> : <Loading what="the spec" />}
      </>
    );
  }
  return (
    <>
      <h1>{title}</h1>
      {!canWrite && <p className="state empty">You may read but not change sets in tenant {tenant}: the spec is shown read-only.</p>}
      <div className="toolbar">
        {!editing && canWrite && (
          <fieldset className="spec-format">
            <legend>Kind</legend>
            <label>
              <input type="radio" name="kind" checked={mode === 'set'} onChange={() => onMode('set')} />
              Single set
            </label>
            <label>
              <input type="radio" name="kind" checked={mode === 'app'} onChange={() => onMode('app')} />
              App (replicas of a template)
            </label>
          </fieldset>
        )}
        {canWrite && (
          <div className="buttons">
            <button type="button" className="primary" disabled={action.busy || draft.parseError !== undefined} onClick={() => void submit()}>
              {action.busy ? 'Applying…' : editing ? 'Apply' : 'Create'}
            </button>
            <span className="muted">
              {mode === 'app' ? 'Creates the app or updates its spec' : 'Creates the set or updates it'} in tenant {tenant}.
            </span>
          </div>
        )}
      </div>
      {errors.length === 0 && <ErrorBox error={action.error} />}
      <div className="split spec-split">
        <CreateForm mode={mode} doc={draft.doc} errors={errors} readOnly={!canWrite} lockName={editing} onDoc={onDoc} />
        <CreateEditor text={draft.text} format={format} parseError={draft.parseError} errors={errors} readOnly={!canWrite} onText={onText} onFormat={onFormat} />
      </div>
    </>
  );
}
