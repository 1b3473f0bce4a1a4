/**
 * The audit log, newest first: who changed what, when, and how it went. Filters go
 * to the server (user, tenant, object prefix, since); the action filter narrows what
 * came back. "Load more" asks for a longer tail of the log.
 */
import { useState, type FormEvent } from 'react';
import type { AuditQuery, AuditRecord } from '@wharf/types';
import { useApi } from '../api.js';
import { Data } from '../components/States.js';
import { Table } from './AccessTable.js';
import { AuditRow } from './AuditRow.js';
import { onValue } from './AccessField.js';

const PAGE = 100;

interface Filters {
  user: string;
  tenant: string;
  object: string;
  since: string;
}

const NONE: Filters = { user: '', tenant: '', object: '', since: '' };

function queryOf(f: Filters, limit: number): AuditQuery {
  const q: AuditQuery = { limit };
  if (f.user.trim()) q.user = f.user.trim();
  if (f.tenant.trim()) q.tenant = f.tenant.trim();
  if (f.object.trim()) q.object = f.object.trim();
  // datetime-local is local time without a zone; the API takes RFC 3339.
  if (f.since && Number.isFinite(Date.parse(f.since))) q.since = new Date(f.since).toISOString();
  return q;
}

/** Stable keys across refreshes: records have no id, so their content (and order among equals) is one. */
function keyed(list: AuditRecord[]): Array<[string, AuditRecord]> {
  const seen = new Map<string, number>();
  return list.map((r) => {
    const base = `${r.time}|${r.actor}|${r.action}|${r.object}|${r.status}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return [`${base}|${n}`, r];
  });
}

export function Audit() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [action, setAction] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const query = queryOf(filters, limit);
  const records = useApi((c) => c.audit(query), [JSON.stringify(query)]);
  const field = (k: keyof Filters) => onValue((v) => setDraft((d) => ({ ...d, [k]: v })));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
    setLimit(PAGE);
  };
  return (
    <>
      <h1>Audit log</h1>
      <form className="toolbar" aria-label="Audit filters" onSubmit={apply}>
        <label>
          User
          <input value={draft.user} onChange={field('user')} />
        </label>
        <label>
          Tenant
          <input value={draft.tenant} onChange={field('tenant')} />
        </label>
        <label>
          Object starts with
          <input value={draft.object} onChange={field('object')} placeholder="sets/web" />
        </label>
        <label>
          Since
          <input type="datetime-local" value={draft.since} onChange={field('since')} />
        </label>
        <button className="primary">Filter</button>
        <button
          type="button"
          onClick={() => {
            setDraft(NONE);
            setFilters(NONE);
            setLimit(PAGE);
          }}
        >
          Clear filters
        </button>
        <label>
          Action contains
          <input type="search" value={action} onChange={onValue(setAction)} placeholder="PUT /v1/sets" />
        </label>
      </form>
      <Data q={records} what="the audit log" empty="No records match.">
        {(list) => {
          const shown = keyed(list)
            .filter(([, r]) => r.action.toLowerCase().includes(action.trim().toLowerCase()))
            .reverse();
          return (
            <>
              {shown.length === 0 ? (
                <p className="state empty">No records match “{action}”.</p>
              ) : (
                <Table headers={[<span className="visually-hidden">Details</span>, 'Time', 'User', 'Tenant', 'Action', 'Status', 'Object']}>
                  {shown.map(([k, r]) => (
                    <AuditRow key={k} r={r} />
                  ))}
                </Table>
              )}
              <div className="buttons">
                <span className="muted">
                  {list.length} newest records{list.length >= limit ? '' : ' (all that match)'}
                </span>
                {list.length >= limit && (
                  <button type="button" onClick={() => setLimit((l) => Math.min(10_000, l + PAGE))}>
                    Load more
                  </button>
                )}
              </div>
            </>
          );
        }}
      </Data>
    </>
  );
}
