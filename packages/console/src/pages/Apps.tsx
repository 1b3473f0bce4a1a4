/**
 * The tenant's apps: replicas and how many are ready, the sets by phase, the
 * template's images; a search over names, images and messages, and a filter for
 * the apps that are not where they should be.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { AppView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Data, Empty } from '../components/States.js';
import { appHref } from '../links.js';
import { useSession } from '../session.js';

const FILTERS: Record<string, { label: string; test: (a: AppView) => boolean }> = {
  all: { label: 'All apps', test: () => true },
  'not-ready': { label: 'Not all ready', test: (a) => a.ready < a.replicas },
  scaling: { label: 'Scaling', test: (a) => a.current !== a.replicas || a.leaving > 0 },
  autoscaled: { label: 'Autoscaled', test: (a) => a.spec.autoscale !== undefined },
};

function images(a: AppView): string[] {
  return a.spec.template.containers.map((c) => c.image);
}

/** The template's images, one a line. */
export function Images({ app }: { app: AppView }) {
  return (
    <>
      {images(app).map((i) => (
        <code key={i} className="block">
          {i}
        </code>
      ))}
    </>
  );
}

function matches(a: AppView, q: string): boolean {
  const needle = q.trim().toLowerCase();
  return !needle || [a.appkey, a.message, ...images(a)].some((s) => s.toLowerCase().includes(needle));
}

export function Phases({ phases }: { phases: Record<string, number> }) {
  const list = Object.entries(phases).filter(([, n]) => n > 0);
  if (list.length === 0) return <span className="muted">no sets</span>;
  return (
    <span className="phases">
      {list.map(([phase, n]) => (
        <span key={phase}>
          <Badge state={phase} /> {n}
        </span>
      ))}
    </span>
  );
}

function AppRow({ a }: { a: AppView }) {
  return (
    <tr>
      <td>
        <Link to={appHref(a.appkey)}>{a.appkey}</Link>
        {a.deleting && (
          <>
            {' '}
            <Badge state="deleting" />
          </>
        )}
      </td>
      <td>
        {a.replicas}
        {a.spec.autoscale && <small title="autoscaled"> (auto {a.spec.autoscale.min}–{a.spec.autoscale.max})</small>}
      </td>
      <td>
        {a.current} / <span className={a.ready < a.replicas ? 'warn-text' : undefined}>{a.ready}</span> / {a.standby}
      </td>
      <td>
        <Phases phases={a.phases} />
      </td>
      <td>{a.message}</td>
      <td>
        <Images app={a} />
      </td>
    </tr>
  );
}

export function Apps() {
  const { canWrite, tenant } = useSession();
  const apps = useApi((c) => c.listApps());
  const [q, setQ] = useState('');
  const [filter, setFilter] = useState('all');
  return (
    <>
      <h1>Apps</h1>
      <div className="toolbar">
        <label>
          Search
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="name, image, message" />
        </label>
        <label>
          Show
          <select value={filter} onChange={(e) => setFilter(e.target.value)}>
            {Object.entries(FILTERS).map(([k, f]) => (
              <option key={k} value={k}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        {canWrite && (
          <Link className="button" to="/create?kind=app">
            New app
          </Link>
        )}
      </div>
      <Data q={apps} what="apps" empty={`No apps in ${tenant} yet.`}>
        {(list) => {
          const shown = list.filter((a) => matches(a, q) && (FILTERS[filter]?.test(a) ?? true)).sort((a, b) => a.appkey.localeCompare(b.appkey));
          if (shown.length === 0) return <Empty>No app matches.</Empty>;
          return (
            <div className="table-wrap">
              <table>
                <caption className="muted">
                  {shown.length} of {list.length} apps
                </caption>
                <thead>
                  <tr>
                    <th>App</th>
                    <th>Replicas</th>
                    <th>
                      <abbr title="current / ready / standby">Current / ready / standby</abbr>
                    </th>
                    <th>Phases</th>
                    <th>Message</th>
                    <th>Image</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((a) => (
                    <AppRow key={a.appkey} a={a} />
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Data>
    </>
  );
}
