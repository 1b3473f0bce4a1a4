/**
 * One set: its summary and actions, containers, volume, resize form, metrics charts,
 * events, logs and a terminal, as stacked sections with a jump list at the top.
 */
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { SetView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data, Empty } from '../components/States.js';
import { age, bytes, cores, time } from '../format.js';
import { useSession } from '../session.js';
import { LogsViewer } from './LogsViewer.js';
import { ResizeForm } from './ResizeForm.js';
import { SetCharts } from './SetCharts.js';
import { SetContainers } from './SetContainers.js';
import { SetEvents } from './SetEvents.js';
import { SetVolume } from './SetVolume.js';
import { TerminalPanel } from './TerminalPanel.js';

function SetActions({ s, reload }: { s: SetView; reload: () => void }) {
  const { client } = useSession();
  const navigate = useNavigate();
  const name = `${s.appkey}/${s.id}`;
  const act = (a: 'start' | 'stop' | 'restart') => () => client.setAction(s.appkey, s.id, a).then(reload);
  return (
    <div className="buttons" role="group" aria-label="Actions">
      {s.desired === 'stopped' && <ConfirmButton label="Start" question={<>Start set {name}?</>} onConfirm={act('start')} />}
      {s.desired === 'running' && (
        <>
          <ConfirmButton label="Stop" question={<>Stop set {name}? Its containers stop; the set keeps its IP and volume.</>} onConfirm={act('stop')} />
          <ConfirmButton label="Restart" question={<>Restart every container of set {name}?</>} onConfirm={act('restart')} />
        </>
      )}
      <ConfirmButton
        label="Delete"
        danger
        question={<>Delete set {name}? Its containers are removed and its volume goes to the host&apos;s recycle bin.</>}
        onConfirm={async () => {
          await client.deleteSet(s.appkey, s.id);
          navigate('/sets');
        }}
      />
    </div>
  );
}

function Summary({ s }: { s: SetView }) {
  return (
    <dl className="facts set-facts">
      <dt>Status</dt>
      <dd>
        <Badge state={s.status} /> <span className="muted">(desired {s.desired})</span>
      </dd>
      <dt>Ready</dt>
      <dd>{s.ready ? 'yes' : 'no'}</dd>
      {s.message && (
        <>
          <dt>Message</dt>
          <dd>{s.message}</dd>
        </>
      )}
      <dt>Host</dt>
      <dd>{s.host ?? 'not placed'}</dd>
      <dt>IPs</dt>
      <dd className="mono">{s.ips.length ? s.ips.map((i) => `${i.ip} (${i.network})`).join(', ') : '–'}</dd>
      <dt>Size</dt>
      <dd>
        {cores(s.resources.cpu)} cores · {bytes(s.resources.memory)} memory · {bytes(s.resources.disk)} disk
      </dd>
      <dt>Generation</dt>
      <dd>
        {s.generation} <span className="muted">(observed {s.observedGeneration})</span>
      </dd>
      <dt>Created</dt>
      <dd title={s.createdAt}>
        {time(s.createdAt)} <span className="muted">({age(s.createdAt)} ago)</span>
      </dd>
    </dl>
  );
}

const SECTIONS: Array<{ id: string; label: string; write?: boolean }> = [
  { id: 'summary', label: 'Summary' },
  { id: 'containers', label: 'Containers' },
  { id: 'resize', label: 'Resize', write: true },
  { id: 'metrics', label: 'Metrics' },
  { id: 'events', label: 'Events' },
  { id: 'logs', label: 'Logs' },
  { id: 'terminal', label: 'Terminal', write: true },
];

function SetBody({ s, reload }: { s: SetView; reload: () => void }) {
  const { canWrite } = useSession();
  const business = s.containers.filter((c) => c.role === 'business').sort((a, b) => a.index - b.index);
  // Logs need a container Docker created; a shell one that runs.
  const logged = business.filter((c) => c.containerId).map((c) => c.name);
  const running = business.filter((c) => c.state === 'running').map((c) => c.name);
  return (
    <>
      <nav className="jump" aria-label="Sections">
        {SECTIONS.filter((x) => canWrite || !x.write).map((x) => (
          <a key={x.id} href={`#${x.id}`}>
            {x.label}
          </a>
        ))}
      </nav>
      <div className="stack">
        <section className="card" id="summary">
          <h2>Summary</h2>
          <Summary s={s} />
          <SetVolume appkey={s.appkey} id={s.id} />
          {canWrite && <SetActions s={s} reload={reload} />}
        </section>
        <section className="card" id="containers">
          <h2>Containers</h2>
          <SetContainers s={s} />
        </section>
        {canWrite && (
          <section className="card" id="resize">
            <h2>Resize</h2>
            <ResizeForm s={s} onDone={reload} />
          </section>
        )}
        <section className="card" id="metrics">
          <h2>Metrics (last 30 minutes)</h2>
          <SetCharts appkey={s.appkey} id={s.id} />
        </section>
        <section className="card" id="events">
          <h2>Events</h2>
          <SetEvents appkey={s.appkey} id={s.id} />
        </section>
        <section className="card" id="logs">
          <h2>Logs</h2>
          {logged.length ? <LogsViewer appkey={s.appkey} id={s.id} containers={logged} /> : <Empty>No log yet: the set&apos;s containers have not been created.</Empty>}
        </section>
        {canWrite && (
          <section className="card" id="terminal">
            <h2>Terminal</h2>
            <TerminalPanel appkey={s.appkey} id={s.id} containers={running} />
          </section>
        )}
      </div>
    </>
  );
}

export function SetDetail() {
  const { appkey = '', id = '' } = useParams();
  const set = useApi((c) => c.getSet(appkey, id), [appkey, id]);
  return (
    <>
      <p className="crumbs">
        <Link to="/sets">Sets</Link> / <Link to={`/sets?appkey=${encodeURIComponent(appkey)}`}>{appkey}</Link>
      </p>
      <h1>
        Set {appkey}/{id}
      </h1>
      <Data q={set} what="set">
        {(s) => <SetBody s={s} reload={set.reload} />}
      </Data>
    </>
  );
}
