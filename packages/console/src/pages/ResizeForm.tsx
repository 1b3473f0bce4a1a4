/**
 * Resize a set in place: new CPU cores, memory and disk (ResizeRequest). Only the
 * fields the user changed are sent; the server's refusals are shown at their field.
 */
import { useState, type FormEvent } from 'react';
import { WharfError, type ResizeRequest, type SetView } from '@wharf/types';
import { useAction } from '../api.js';
import { ErrorBox, fieldErrors } from '../components/States.js';
import { useSession } from '../session.js';

type Field = 'cpu' | 'memory' | 'disk';
type Values = Record<Field, string>;

const FIELDS: Array<{ f: Field; label: string; hint: string }> = [
  { f: 'cpu', label: 'CPU', hint: 'cores, e.g. 2 or 0.5' },
  { f: 'memory', label: 'Memory', hint: 'e.g. 512Mi, 4Gi' },
  { f: 'disk', label: 'Disk', hint: 'volume size, e.g. 20Gi' },
];

/** The size as the spec writes it ("4Gi" stays "4Gi"), else the resolved figure. */
function current(s: SetView): Values {
  const r = s.spec.resources ?? {};
  return { cpu: String(r.cpu ?? s.resources.cpu), memory: String(r.memory ?? s.resources.memory), disk: String(r.disk ?? s.resources.disk) };
}

/** Which input a server error is about: a validation path (`body.cpu`, `resources.memory`) or the resource a refusal names. */
function byField(e: Error | undefined): { at: Partial<Record<Field, string>>; rest: string[] } {
  const at: Partial<Record<Field, string>> = {};
  const rest: string[] = [];
  if (!e) return { at, rest };
  const fields = fieldErrors(e);
  for (const x of fields) {
    const p = x.path.replace(/^body[./]?/, '').replace(/^\//, '').replace(/^resources[./]/, '');
    if (p === 'cpu' || p === 'memory' || p === 'disk') at[p] = x.message;
    else rest.push(`${x.path}: ${x.message}`);
  }
  if (fields.length === 0 && e instanceof WharfError) {
    const named = /insufficient (cpu|memory|disk)/i.exec(e.message)?.[1]?.toLowerCase() as Field | undefined;
    const f = named ?? (e.code === 'VOLUME_TOO_SMALL' || e.code === 'INSUFFICIENT_DISK' ? 'disk' : undefined);
    if (f) at[f] = e.message;
  }
  return { at, rest };
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
  const value = (f: Field) => draft[f] ?? now[f];
  const changed = Object.fromEntries(Object.entries(draft).filter(([f, v]) => v !== now[f as Field] && v.trim() !== '')) as Partial<Values>;
  const { at, rest } = byField(action.error);

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

  const id = (f: Field) => `resize-${f}-error`;
  return (
    <form className="resize" onSubmit={submit} noValidate>
      <div className="toolbar">
        {FIELDS.map(({ f, label, hint }) => (
          <label key={f}>
            {label}
            <input
              name={f}
              type={f === 'cpu' ? 'number' : 'text'}
              {...(f === 'cpu' ? { step: 'any', min: 0 } : {})}
              value={value(f)}
              title={hint}
              aria-invalid={at[f] ? true : undefined}
              aria-describedby={at[f] ? id(f) : undefined}
              onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            />
            {at[f] && (
              <span className="field-error" id={id(f)}>
                {at[f]}
              </span>
            )}
          </label>
        ))}
        <button type="submit" className="primary" disabled={action.busy}>
          Resize
        </button>
      </div>
      <label className="inline-check">
        <input type="checkbox" checked={move} onChange={(e) => setMove(e.target.checked)} />
        Move to another host if this one cannot fit the new size (sets without a local volume)
      </label>
      {action.busy && <p role="status">Resizing…</p>}
      {done && !action.busy && <p role="status">{done}</p>}
      {Object.keys(at).length === 0 ? <ErrorBox error={action.error} /> : rest.length > 0 && <ul className="field-error">{rest.map((r) => <li key={r}>{r}</li>)}</ul>}
    </form>
  );
}
