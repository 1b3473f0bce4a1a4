/**
 * One set's volume: its host, driver and usage, and its snapshots. Developers take
 * a snapshot, roll the volume back to one (the set stopped) or delete one. The
 * snapshots come from the volume's host (GET /v1/volumes/{appkey}/{id} asks its
 * agent), so the page refreshes at the slow pace.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { SetView, VolumeSnapshot, VolumeView } from '@wharf/types';
import { SLOW_REFRESH_MS, useAction, useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { VolumeUsageBar } from '../components/Bar.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Field, FormError } from '../components/Field.js';
import { Data, Empty, fieldErrors } from '../components/States.js';
import { age, bytes, time } from '../format.js';
import { hostHref, setHref } from '../links.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';

function Facts({ v, set }: { v: VolumeView; set: SetView | undefined }) {
  return (
    <dl className="facts">
      <dt>Set</dt>
      <dd>
        <Link to={setHref(v)}>{`${v.appkey}/${v.id}`}</Link> {set && <Badge state={set.status} />}
      </dd>
      <dt>Host</dt>
      <dd>{v.host ? <Link to={hostHref(v.host)}>{v.host}</Link> : 'not placed'}</dd>
      <dt>Driver</dt>
      <dd>{v.driver ?? '–'}</dd>
      <dt>Size</dt>
      <dd>
        {bytes(v.size)}
        {v.quota !== undefined && v.quota !== v.size && <small> (limit {bytes(v.quota)})</small>}
      </dd>
      <dt>Usage</dt>
      <dd title={v.reportedAt ? `reported ${time(v.reportedAt)}` : undefined}>
        <VolumeUsageBar v={v} />
      </dd>
    </dl>
  );
}

function TakeSnapshot({ appkey, id, done }: { appkey: string; id: string; done: () => void }) {
  const { client } = useSession();
  const action = useAction();
  const [name, setName] = useState('');
  const take = async () => {
    const n = name.trim();
    if (await action.run(() => client.createSnapshot(appkey, id, n || undefined))) {
      setName('');
      done();
    }
  };
  return (
    <form
      className="toolbar"
      aria-label="Take snapshot"
      onSubmit={(e) => {
        e.preventDefault();
        void take();
      }}
    >
      <Field label="Snapshot name" path="name" errors={fieldErrors(action.error)} hint="letters, digits, '.', '_', '-'; empty: named after the time">
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Taking snapshot…' : 'Take snapshot'}
      </button>
      <FormError error={action.error} paths={['name']} />
    </form>
  );
}

function SnapshotRow({ v, snap, done }: { v: VolumeView; snap: VolumeSnapshot; done: () => void }) {
  const { client, canWrite } = useSession();
  const name = `${v.appkey}/${v.id}`;
  return (
    <tr>
      <th scope="row" className="mono">
        {snap.name}
      </th>
      <td title={time(snap.createdAt)}>{age(snap.createdAt)} ago</td>
      <td>{bytes(snap.used)}</td>
      {canWrite && (
        <td>
          <div className="buttons">
            <ConfirmButton
              label="Restore"
              question={`Roll the volume of ${name} back to snapshot ${snap.name}? What it holds now is replaced. The set must be stopped.`}
              onConfirm={() => client.restoreSnapshot(v.appkey, v.id, snap.name).then(done)}
            />
            <ConfirmButton label="Delete" danger question={`Delete snapshot ${snap.name} of ${name}?`} onConfirm={() => client.deleteSnapshot(v.appkey, v.id, snap.name).then(done)} />
          </div>
        </td>
      )}
    </tr>
  );
}

function Snapshots({ v, set, done }: { v: VolumeView; set: SetView | undefined; done: () => void }) {
  const { canWrite } = useSession();
  if (!v.host) return <Empty>The set is not placed on a host yet: its volume has no snapshots.</Empty>;
  return (
    <>
      {canWrite && <TakeSnapshot appkey={v.appkey} id={v.id} done={done} />}
      {canWrite && set?.desired === 'running' && <p className="muted">
          Stop the set on <Link to={setHref(v)}>its page</Link> to restore a snapshot.
        </p>}
      {v.snapshots === undefined ? (
        <p className="state warn" role="status">
          Not listed: host {v.host} did not answer.
        </p>
      ) : v.snapshots.length === 0 ? (
        <Empty>No snapshots.</Empty>
      ) : (
        <Table headers={['Snapshot', 'Taken', 'Size', ...(canWrite ? ['Actions'] : [])]}>
          {v.snapshots.map((s) => (
            <SnapshotRow key={s.name} v={v} snap={s} done={done} />
          ))}
        </Table>
      )}
    </>
  );
}

export function VolumeDetail() {
  const { appkey = '', id = '' } = useParams();
  const vol = useApi((c) => c.getVolume(appkey, id), [appkey, id], SLOW_REFRESH_MS);
  const set = useApi((c) => c.getSet(appkey, id), [appkey, id]);
  return (
    <>
      <p className="crumbs">
        <Link to="/volumes">Volumes</Link>
      </p>
      <h1>
        Volume {appkey}/{id}
      </h1>
      <Data q={vol} what="volume">
        {(v) => (
          <div className="stack">
            <section className="card" aria-labelledby="volume-h">
              <h2 id="volume-h">Volume</h2>
              <Facts v={v} set={set.data} />
            </section>
            <section className="card" aria-labelledby="snapshots-h">
              <h2 id="snapshots-h">Snapshots</h2>
              <Snapshots v={v} set={set.data} done={vol.reload} />
            </section>
          </div>
        )}
      </Data>
    </>
  );
}
