/**
 * The tenant's volumes (one per set) with their usage against the hard limit, each
 * linking to its page (snapshots, its set), and (for platform admins, whose routes
 * they are) the hosts' recycle bins.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { VolumeView } from '@wharf/types';
import { useApi } from '../api.js';
import { VolumeUsageBar } from '../components/Bar.js';
import { Data } from '../components/States.js';
import { age, bytes } from '../format.js';
import { useSession } from '../session.js';
import { Table } from './AccessTable.js';
import { VolumeTrash } from './VolumeTrash.js';
import { hostHref, volumeHref } from '../links.js';

function VolumeTable({ list }: { list: VolumeView[] }) {
  return (
    <Table headers={['Volume', 'Host', 'Driver', 'Size', 'Usage', 'Reported']}>
      {list.map((v) => (
        <tr key={`${v.appkey}/${v.id}`}>
          <td>
            <Link to={volumeHref(v)}>{`${v.appkey}/${v.id}`}</Link>
          </td>
          <td>{v.host ? <Link to={hostHref(v.host)}>{v.host}</Link> : <span className="muted">not placed</span>}</td>
          <td>{v.driver ?? '–'}</td>
          <td>
            {bytes(v.size)}
            {v.quota !== undefined && v.quota !== v.size && <small> (limit {bytes(v.quota)})</small>}
          </td>
          <td className="usage-col">
            <VolumeUsageBar v={v} />
          </td>
          <td>{v.reportedAt ? `${age(v.reportedAt)} ago` : '–'}</td>
        </tr>
      ))}
    </Table>
  );
}

export function Volumes() {
  const { me, tenant } = useSession();
  const [search, setSearch] = useState('');
  const volumes = useApi((c) => c.listVolumes());
  const match = (v: VolumeView) => `${v.appkey}/${v.id} ${v.host ?? ''}`.includes(search.trim());
  return (
    <>
      <h1>Volumes</h1>
      <div className="stack">
        <section className="card" aria-labelledby="volumes-h">
          <h2 id="volumes-h">Volumes of tenant {tenant}</h2>
          <div className="toolbar">
            <label>
              Search volumes
              <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="appkey/id or host" />
            </label>
          </div>
          <Data q={volumes} what="volumes" empty="No volumes: every set gets one when it is placed on a host.">
            {(list) => {
              const shown = list.filter(match);
              return shown.length ? <VolumeTable list={shown} /> : <p className="state empty">No volume matches “{search}”.</p>;
            }}
          </Data>
        </section>
        {me.platformAdmin && <VolumeTrash />}
      </div>
    </>
  );
}
