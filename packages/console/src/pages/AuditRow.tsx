/** One audit record as a table row; expanded, what was asked and the object as it was before. */
import { useState } from 'react';
import type { AuditRecord } from '@wharf/types';
import { Badge } from '../components/Badge.js';
import { time } from '../format.js';

/** JSON indented when it is JSON (it may be cut at 1 KiB), else the text as it is. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Details({ r }: { r: AuditRecord }) {
  return (
    <div className="audit-details">
      <p>
        From {r.sourceIp} as {r.actorKind} {r.actor}
        {r.error && (
          <>
            {' '}
            · error <code>{r.error}</code>
          </>
        )}
        {r.exitStatus !== undefined && <> · exit status {r.exitStatus}</>}
      </p>
      <div className="split">
        <div>
          <h3>Request</h3>
          {r.request ? <pre>{pretty(r.request)}</pre> : <p className="muted">No body.</p>}
        </div>
        <div>
          <h3>Before</h3>
          {r.before ? <pre>{pretty(r.before)}</pre> : <p className="muted">Did not exist.</p>}
        </div>
      </div>
    </div>
  );
}

export function AuditRow({ r }: { r: AuditRecord }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr className={r.result === 'failed' ? 'failed' : undefined}>
        <td>
          <button type="button" className="link" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} details of ${r.action} ${r.object} at ${time(r.time)}`} onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </button>
        </td>
        <td>{time(r.time)}</td>
        <td>{r.actor}</td>
        <td>{r.tenant ?? '–'}</td>
        <td className="mono">{r.action}</td>
        <td>
          <Badge state={r.result === 'ok' ? 'succeeded' : 'failed'} /> {r.status}
        </td>
        <td className="mono">{r.object}</td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7}>
            <Details r={r} />
          </td>
        </tr>
      )}
    </>
  );
}
