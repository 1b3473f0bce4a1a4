/**
 * The recycle bins of the tenant's deleted volumes on every host (platform admins):
 * restore one into a stopped set of the same app on the same host, or purge it.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { TrashEntry } from '@wharf/types';
import { useApi } from '../api.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data } from '../components/States.js';
import { age, bytes, time } from '../format.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';
import { setHref } from '../links.js';


function Restore({ entry, done }: { entry: TrashEntry; done: () => void }) {
  const { client } = useSession();
  const [appkey, setAppkey] = useState(entry.appkey);
  const [id, setId] = useState(entry.id);
  return (
    <ConfirmButton
      label="Restore"
      question={
        <>
          Restore the volume of {entry.appkey}/{entry.id} from {entry.host}&apos;s recycle bin into this set. The set must be of the same app, placed on {entry.host} and stopped; its
          current volume is replaced.
        </>
      }
      onConfirm={async () => {
        await client.restoreTrash(entry.host, entry.trashId, { appkey: appkey.trim(), id: id.trim() });
        done();
      }}
    >
      <span className="toolbar">
        <label>
          Appkey
          <input value={appkey} onChange={(e) => setAppkey(e.target.value)} required />
        </label>
        <label>
          Set id
          <input value={id} onChange={(e) => setId(e.target.value)} required />
        </label>
      </span>
    </ConfirmButton>
  );
}

function Row({ e, done }: { e: TrashEntry; done: () => void }) {
  const { client } = useSession();
  return (
    <tr>
      <td>
        <Link to={setHref(e)}>{`${e.appkey}/${e.id}`}</Link>
      </td>
      <td>{e.host}</td>
      <td>
        {bytes(e.used)} <small>of {bytes(e.quota)}</small>
      </td>
      <td title={time(e.deletedAt)}>{age(e.deletedAt)} ago</td>
      <td>{time(e.purgeAt)}</td>
      <td className="buttons">
        <Restore entry={e} done={done} />
        <ConfirmButton
          label="Purge"
          danger
          question={`Purge the volume of ${e.appkey}/${e.id} (${bytes(e.used)}) from ${e.host}? Its data is gone for good.`}
          onConfirm={async () => {
            await client.purgeTrash(e.host, e.trashId);
            done();
          }}
        />
      </td>
    </tr>
  );
}

function PurgeHost({ host, entries, done }: { host: string; entries: TrashEntry[]; done: () => void }) {
  const { client, tenant } = useSession();
  const held = entries.reduce((a, e) => a + e.used, 0);
  return (
    <ConfirmButton
      label={`Purge all on ${host}`}
      danger
      question={`Purge all ${entries.length} deleted volumes of tenant ${tenant} on ${host} (${bytes(held)})? Their data is gone for good.`}
      onConfirm={async () => {
        await client.purgeTrash(host);
        done();
      }}
    />
  );
}

export function VolumeTrash() {
  const trash = useApi((c) => c.listTrash());
  return (
    <section className="card" aria-labelledby="trash-h">
      <h2 id="trash-h">Recycle bin</h2>
      <p className="muted">A deleted set&apos;s volume stays in its host&apos;s recycle bin until it is purged, by hand or when its time is up.</p>
      {trash.data && trash.data.unreachable.length > 0 && (
        <p className="state warn" role="status">
          Not listed: the recycle bins of {trash.data.unreachable.join(', ')} (the host is not ready or did not answer).
        </p>
      )}
      <Data q={trash} what="the recycle bin">
        {(list) =>
          list.entries.length === 0 ? (
            <p className="state empty">The recycle bin is empty.</p>
          ) : (
            <>
              <Table headers={['Deleted set', 'Host', 'Size', 'Deleted', 'Purged at', 'Actions']}>
                {list.entries.map((e) => (
                  <Row key={`${e.host}/${e.trashId}`} e={e} done={trash.reload} />
                ))}
              </Table>
              <div className="buttons">
                {[...new Set(list.entries.map((e) => e.host))].sort().map((h) => (
                  <PurgeHost key={h} host={h} entries={list.entries.filter((e) => e.host === h)} done={trash.reload} />
                ))}
              </div>
            </>
          )
        }
      </Data>
    </section>
  );
}
