/**
 * The tenant's sets: a live table with filters (status, appkey, host) and a search
 * over names, hosts, IPs and images. Filters live in the URL, so other pages can link
 * to e.g. `/sets?appkey=com.x`.
 */
import { Link, useSearchParams } from 'react-router-dom';
import type { SetView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Data, Empty } from '../components/States.js';
import { age, bytes, cores } from '../format.js';
import { setHref } from '../links.js';
import { useSession } from '../session.js';
import { SetPick } from './SetPick.js';

const FILTERS = ['status', 'appkey', 'host', 'q'] as const;
type Filter = (typeof FILTERS)[number];

function matches(s: SetView, f: Record<Filter, string>): boolean {
  if (f.status && s.status !== f.status) return false;
  if (f.appkey && s.appkey !== f.appkey) return false;
  if (f.host && (s.host ?? '') !== f.host) return false;
  if (!f.q) return true;
  const q = f.q.toLowerCase();
  const text = [`${s.appkey}/${s.id}`, s.host, s.message, ...s.ips.map((i) => i.ip), ...s.containers.map((c) => c.image)];
  return text.some((t) => t?.toLowerCase().includes(q));
}

const distinct = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].sort();

function SetRow({ s }: { s: SetView }) {
  return (
    <tr>
      <td>
        <Link to={setHref(s)}>{`${s.appkey}/${s.id}`}</Link>
        {s.message && <div className="muted small-text">{s.message}</div>}
      </td>
      <td>
        <Badge state={s.status} />
      </td>
      <td>{s.ready ? 'yes' : 'no'}</td>
      <td>{s.host ?? '–'}</td>
      <td className="mono">{s.ips.map((i) => i.ip).join(', ') || '–'}</td>
      <td>{cores(s.resources.cpu)}</td>
      <td>{bytes(s.resources.memory)}</td>
      <td>{bytes(s.resources.disk)}</td>
      <td title={s.createdAt}>{age(s.createdAt)}</td>
    </tr>
  );
}

export function SetTable({ sets }: { sets: SetView[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Set</th>
            <th scope="col">Status</th>
            <th scope="col">Ready</th>
            <th scope="col">Host</th>
            <th scope="col">IPs</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">Disk</th>
            <th scope="col">Age</th>
          </tr>
        </thead>
        <tbody>
          {sets.map((s) => (
            <SetRow key={`${s.appkey}/${s.id}`} s={s} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Sets() {
  const { canWrite, tenant } = useSession();
  const sets = useApi((c) => c.listSets());
  const [params, setParams] = useSearchParams();
  const f = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ''])) as Record<Filter, string>;
  const set = (k: Filter, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const filtered = Object.values(f).some(Boolean);

  return (
    <>
      <h1>Sets</h1>
      <Data
        q={sets}
        what="sets"
        empty={
          <>
            No sets in tenant {tenant} yet.{canWrite && <> <Link to="/create">Create one</Link>.</>}
          </>
        }
      >
        {(list) => {
          const shown = list.filter((s) => matches(s, f)).sort((a, b) => `${a.appkey}/${a.id}`.localeCompare(`${b.appkey}/${b.id}`, undefined, { numeric: true }));
          return (
            <>
              <search className="toolbar">
                <label>
                  Search
                  <input type="search" value={f.q} placeholder="name, host, IP, image" onChange={(e) => set('q', e.target.value)} />
                </label>
                <SetPick all label="Status" value={f.status} options={distinct(list.map((s) => s.status))} onChange={(v) => set('status', v)} />
                <SetPick all label="Appkey" value={f.appkey} options={distinct(list.map((s) => s.appkey))} onChange={(v) => set('appkey', v)} />
                <SetPick all label="Host" value={f.host} options={distinct(list.map((s) => s.host))} onChange={(v) => set('host', v)} />
                {filtered && (
                  <button type="button" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
                    Clear filters
                  </button>
                )}
                <span className="muted" aria-live="polite">
                  {shown.length} of {list.length}
                </span>
              </search>
              {shown.length ? <SetTable sets={shown} /> : <Empty>No sets match these filters.</Empty>}
            </>
          );
        }}
      </Data>
    </>
  );
}
