/**
 * Resize a set in place: new CPU cores, memory and disk (ResizeRequest). Only the
 * fields the user changed are sent; the server's refusals are shown at their field.
 */
import { useState, type FormEvent } from 'react';
import { WharfError, type FieldError, type ResizeRequest, type SetView } from '@wharf/types';
import { useAction } from '../api.js';
import { Field } from '../components/Field.js';
import { ErrorBox, fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';

type Key = 'cpu' | 'memory' | 'disk';
type Values = Record<Key, string>;

const FIELDS: Array<{ f: Key; label: string; hint: string }> = [
  { f: 'cpu', label: 'CPU', hint: 'cores, e.g. 2 or 0.5' },
  { f: 'memory', label: 'Memory', hint: 'e.g. 512Mi, 4Gi' },
  { f: 'disk', label: 'Disk', hint: 'volume size, e.g. 20Gi' },
];

/** The size as the spec writes it ("4Gi" stays "4Gi"), else the resolved figure. */
function current(s: SetView): Values {
  const r = s.spec.resources ?? {};
  return { cpu: String(r.cpu ?? s.resources.cpu), memory: String(r.memory ?? s.resources.memory), disk: String(r.disk ?? s.resources.disk) };
}

/**
 * The server's refusal as errors named by the form's inputs: validation errors (about
 * the request's `cpu` or the resized spec's `resources.memory`), or the resource a
 * refusal names ("insufficient cpu").
 */
function errorsOf(e: Error | undefined): FieldError[] {
  const fields = fieldErrors(e);
  if (fields.length > 0) return fields.map((x) => ({ ...x, path: x.path.replace(/^resources\./, '') }));
  if (!(e instanceof WharfError)) return [];
  const named = /insufficient (cpu|memory|disk)/i.exec(e.message)?.[1]?.toLowerCase();
  const f = named ?? (e.code === 'VOLUME_TOO_SMALL' || e.code === 'INSUFFICIENT_DISK' ? 'disk' : undefined);
  return f ? [{ path: f, message: e.message }] : [];
}

function request(changed: Partial<Values>, move: boolean): ResizeRequest {
  const size = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v) : v.trim());
  return {
    ...(changed.cpu !== undefined ? { cpu: Number(changed.cpu) } : {}),
    ...(changed.memory !== undefined ? { memory: size(changed.memory) } : {}),
    ...(changed.disk !== undefined ? { disk: size(changed.disk) } : {}),
    ...(move ? { moveIfNeeded: true } : {}),
  };
}

export function ResizeForm({ s, onDone }: { s: SetView; onDone: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const [draft, setDraft] = useState<Partial<Values>>({});
  const [move, setMove] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const now = current(s);
  const value = (f: Key) => draft[f] ?? now[f];
  const changed = Object.fromEntries(Object.entries(draft).filter(([f, v]) => v !== now[f as Key] && v.trim() !== '')) as Partial<Values>;
  const errors = errorsOf(action.error);
  // What no input shows; all of the error when no input shows any of it.
  const rest = errors.filter((x) => !FIELDS.some(({ f }) => f === x.path));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    if (Object.keys(changed).length === 0) {
      setDone('Nothing to change: edit CPU, Memory or Disk first.');
      return;
    }
    void action.run(async () => {
      const v = await client.resizeSet(s.appkey, s.id, request(changed, move));
      setDraft({});
      setDone(v.generation === s.generation ? 'The set already has this size.' : `Resized: generation ${v.generation}${v.host ? ` on ${v.host}` : ', waiting for a host'}.`);
      onDone();
    });
  };

  return (
    <form className="resize" onSubmit={submit} noValidate>
      <div className="toolbar">
        {FIELDS.map(({ f, label, hint }) => (
          <Field key={f} label={label} path={f} errors={errors}>
            <input
              name={f}
              type={f === 'cpu' ? 'number' : 'text'}
              {...(f === 'cpu' ? { step: 'any', min: 0 } : {})}
              value={value(f)}
              title={hint}
              onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            />
          </Field>
        ))}
        <button type="submit" className="primary" disabled={action.busy}>
          Resize
        </button>
      </div>
      <label className="check">
        <input type="checkbox" checked={move} onChange={(e) => setMove(e.target.checked)} />
        Move to another host if this one cannot fit the new size (sets without a local volume)
      </label>
      {action.busy && <p role="status">Resizing…</p>}
      {done && !action.busy && <p role="status">{done}</p>}
      {rest.length === errors.length ? (
        <ErrorBox error={action.error} />
      ) : (
        rest.length > 0 && (
          <ul className="field-error">
            {rest.map((x) => (
              <li key={x.path + x.message}>
                {x.path}: {x.message}
              </li>
            ))}
          </ul>
        )
      )}
    </form>
  );
}
