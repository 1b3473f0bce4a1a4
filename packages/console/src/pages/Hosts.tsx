/**
 * Every host (platform admins): state, zone and rack, labels, sets, what is reserved
 * of its CPU, memory and disk, the IP pools it reaches and its last heartbeat.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { Host, NetworkView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Data, Empty } from '../components/States.js';
import { age, time } from '../format.js';
import { hostHref } from '../links.js';
import { useSession } from '../session.js';
import { AdminOnly, HostAllocation, HostIps, Labels, NO_HOSTS } from './HostParts.js';

const ALL = '';

function matches(h: Host, zone: string, search: string): boolean {
  if (zone !== ALL && h.zone !== zone) return false;
  const q = search.trim().toLowerCase();
  if (!q) return true;
  const text = [h.name, h.state, h.zone, h.rack, ...Object.entries(h.labels).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => text.includes(w));
}

function HostRow({ host, networks }: { host: Host; networks: NetworkView[] | undefined }) {
  return (
    <tr>
      <th scope="row">
        <Link to={hostHref(host.name)}>{host.name}</Link>
      </th>
      <td>
        <Badge state={host.state} />
      </td>
      <td>
        {host.zone || '–'}
        <br />
        <small>{host.rack || '–'}</small>
      </td>
      <td>
        <Labels labels={host.labels} />
      </td>
      <td>{host.sets}</td>
      <td className="alloc">
        <HostAllocation host={host} />
      </td>
      <td className="alloc">
        <HostIps host={host} networks={networks} />
      </td>
      <td title={time(host.lastHeartbeat)}>{age(host.lastHeartbeat)} ago</td>
    </tr>
  );
}

function HostTable({ hosts, networks }: { hosts: Host[]; networks: NetworkView[] | undefined }) {
  const [zone, setZone] = useState(ALL);
  const [search, setSearch] = useState('');
  const zones = [...new Set(hosts.map((h) => h.zone))].sort();
  const shown = hosts.filter((h) => matches(h, zone, search)).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <div className="toolbar" role="search">
        <label>
          Zone
          <select value={zone} onChange={(e) => setZone(e.target.value)}>
            <option value={ALL}>All zones</option>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z || '(none)'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search} placeholder="name, rack, label…" onChange={(e) => setSearch(e.target.value)} />
        </label>
        <span className="muted">
          {shown.length} of {hosts.length} hosts
        </span>
      </div>
      {shown.length === 0 ? (
        <Empty>No host matches these filters.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Zone / rack</th>
                <th scope="col">Labels</th>
                <th scope="col">Sets</th>
                <th scope="col">Allocated</th>
                <th scope="col">IP pools</th>
                <th scope="col">Heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((h) => (
                <HostRow key={h.name} host={h} networks={networks} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function HostList() {
  const hosts = useApi((c) => c.listHosts());
  const networks = useApi((c) => c.listNetworks());
  return (
    <Data q={hosts} what="hosts" empty={NO_HOSTS}>
      {(list) => <HostTable hosts={list} networks={networks.data} />}
    </Data>
  );
}

export function Hosts() {
  const { me } = useSession();
  return (
    <>
      <h1>Hosts</h1>
      {me.platformAdmin ? <HostList /> : <AdminOnly what="Hosts" />}
    </>
  );
}
