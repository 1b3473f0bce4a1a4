/** The sets of an app as its view lists them, each linking to its set page. */
import { Link } from 'react-router-dom';
import type { AppView } from '@wharf/types';
import { Badge } from '../components/Badge.js';
import { Empty } from '../components/States.js';
import { age } from '../format.js';
import { hostHref, setHref } from '../links.js';

function flags(s: AppView['sets'][number]): string {
  return [s.standby && 'warm pool', s.draining && 'draining', s.outOfRotation && 'out of rotation'].filter(Boolean).join(', ');
}

export function AppSets({ app }: { app: AppView }) {
  if (app.sets.length === 0) return <Empty>No sets yet.</Empty>;
  const sorted = [...app.sets].sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  return (
    <div className="table-wrap">
      <table aria-label={`Sets of ${app.appkey}`}>
        <thead>
          <tr>
            <th>Set</th>
            <th>Status</th>
            <th>Ready</th>
            <th>Host</th>
            <th>IP</th>
            <th>Age</th>
            <th>Notes</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((s) => (
            <tr key={s.id}>
              <td>
                <Link to={setHref({ appkey: app.appkey, id: s.id })}>{`${app.appkey}/${s.id}`}</Link>
              </td>
              <td>
                <Badge state={s.status} />
              </td>
              <td>{s.ready ? 'yes' : 'no'}</td>
              <td>{s.host ? <Link to={hostHref(s.host)}>{s.host}</Link> : '–'}</td>
              <td>{s.ip ?? '–'}</td>
              <td>{age(s.createdAt)}</td>
              <td>
                {flags(s)}
                {s.message && <span className="muted"> {s.message}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
