/** A set's containers: state, image, limits, restarts, last exit and readiness. */
import type { ContainerStatus, SetView } from '@wharf/types';
import { Badge } from '../components/Badge.js';
import { Empty } from '../components/States.js';
import { age, bytes, cores } from '../format.js';

/** The limits in force (as the agent reports them) with the spec's percentages of the set's size. */
function limits(c: ContainerStatus, s: SetView): string {
  const spec = s.spec.containers.find((x) => x.options.name === c.name)?.options;
  const cpu = c.nanoCpus ? `${cores(c.nanoCpus / 1e9)} cores` : spec?.cpu ? `${cores((s.resources.cpu * spec.cpu) / 100)} cores` : undefined;
  const mem = c.memory ? bytes(c.memory) : spec?.mem ? bytes((s.resources.memory * spec.mem) / 100) : undefined;
  const pct = spec && (spec.cpu || spec.mem) ? ` (${spec.cpu ?? '–'}% cpu, ${spec.mem ?? '–'}% mem)` : '';
  if (!cpu && !mem) return c.role === 'infra' ? '–' : `shares the set${pct}`;
  return `${cpu ?? 'shared'} · ${mem ?? 'shared'}${pct}`;
}

function lastExit(c: ContainerStatus): string {
  const t = c.lastTermination;
  if (t) return `${t.reason}, exit ${t.exitCode}${t.oomKilled ? ', OOM killed' : ''}${t.finishedAt ? `, ${age(t.finishedAt)} ago` : ''}${t.message ? `: ${t.message}` : ''}`;
  if (c.exitCode !== undefined && c.state !== 'running') return `exit ${c.exitCode}${c.oomKilled ? ', OOM killed' : ''}`;
  return '–';
}

function ready(c: ContainerStatus): string {
  if (c.ready === undefined) return '–';
  return c.ready ? 'yes' : c.healthy === false ? 'no (unhealthy)' : 'no';
}

export function SetContainers({ s }: { s: SetView }) {
  if (s.containers.length === 0) {
    return <Empty>No container reported yet{s.host ? ` by ${s.host}` : ' (the set is not placed on a host)'}.</Empty>;
  }
  const list = [...s.containers].sort((a, b) => a.index - b.index);
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col">Image</th>
            <th scope="col">Limits</th>
            <th scope="col">Restarts</th>
            <th scope="col">Last exit</th>
            <th scope="col">Ready</th>
          </tr>
        </thead>
        <tbody>
          {list.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>{c.role}</td>
              <td>
                <Badge state={c.state} />
                {c.backOffUntil && <div className="muted">back-off until {new Date(c.backOffUntil).toLocaleTimeString()}</div>}
                {c.message && <div className="muted">{c.message}</div>}
              </td>
              <td className="mono">{c.image}</td>
              <td>{limits(c, s)}</td>
              <td>{c.restartCount}</td>
              <td>{lastExit(c)}</td>
              <td>{ready(c)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
