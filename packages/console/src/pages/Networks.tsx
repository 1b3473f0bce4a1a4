/**
 * Platform networks (platform admins): subnet, gateway, how full the IP pool is, the
 * hosts that reach it and the addresses in use; create and remove networks.
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { NetworkView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Bar } from '../components/Bar.js';
import { ConfirmButton } from '../components/Confirm.js';
import { Data } from '../components/States.js';
import { time } from '../format.js';
import { hostHref } from '../links.js';
import { useSession } from '../session.js';
import { AdminOnly, count } from './HostParts.js';
import { NetworkForm } from './NetworkForm.js';

/** The addresses in use, loaded when the row is opened (`GET /v1/networks/:name`). */
function Allocations({ name }: { name: string }) {
  const q = useApi((c) => c.getNetwork(name).then((n) => n.allocations ?? []), [name]);
  return (
    <Data q={q} what="addresses" empty="No address of this network is in use.">
      {(list) => (
        <table aria-label={`Addresses of ${name}`}>
          <thead>
            <tr>
              <th scope="col">IP</th>
              <th scope="col">Set</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.ip}>
                <td className="mono">
                  {a.ip}
                  {a.primary ? '' : ' (extra)'}
                </td>
                <td>{`${a.tenant}/${a.appkey}/${a.id}`}</td>
                <td>{time(a.allocatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Data>
  );
}

function NetworkRow({ n, deleted }: { n: NetworkView; deleted: () => void }) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr>
        <th scope="row">
          {n.name} {n.default && <Badge state="default" tone="good" />}
        </th>
        <td className="mono">{n.subnet}</td>
        <td className="mono">{n.gateway}</td>
        <td className="mono">
          {n.rangeStart} – {n.rangeEnd}
        </td>
        <td>
          {n.zone ?? 'any'}
          {n.vlan !== undefined && <small> vlan {n.vlan}</small>}
        </td>
        <td className="alloc">
          <Bar label="IPs" used={n.used} total={n.size} format={count} />
        </td>
        <td>
          {n.hosts.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            n.hosts.map((h, i) => (
              <span key={h}>
                {i > 0 && ', '}
                <Link to={hostHref(h)}>{h}</Link>
              </span>
            ))
          )}
        </td>
        <td>
          <div className="buttons">
            <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? 'Hide addresses' : 'Addresses'}
            </button>
            <ConfirmButton
              label="Delete"
              danger
              question={
                <>
                  Delete network <strong>{n.name}</strong> ({n.subnet})? The server refuses while a set holds one of its addresses.
                </>
              }
              onConfirm={() => client.deleteNetwork(n.name).then(deleted)}
            />
          </div>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={8}>
            <Allocations name={n.name} />
          </td>
        </tr>
      )}
    </>
  );
}

function NetworkList() {
  const q = useApi((c) => c.listNetworks());
  return (
    <div className="stack">
      <NetworkForm created={q.reload} />
      <Data q={q} what="networks" empty="No platform network yet: sets get no platform IP until one exists.">
        {(list) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Subnet</th>
                  <th scope="col">Gateway</th>
                  <th scope="col">Range</th>
                  <th scope="col">Zone</th>
                  <th scope="col">IP pool</th>
                  <th scope="col">Hosts</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((n) => (
                  <NetworkRow key={n.name} n={n} deleted={q.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Data>
    </div>
  );
}

export function Networks() {
  const { me } = useSession();
  return (
    <>
      <h1>Networks</h1>
      {me.platformAdmin ? <NetworkList /> : <AdminOnly what="Platform networks" />}
    </>
  );
}
