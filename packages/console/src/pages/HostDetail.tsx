/**
 * One host (platform admins): its facts, what is reserved and used, cordon / uncordon /
 * drain with the drain's progress, the current tenant's sets on it, and its metrics.
 */
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { Host, NetworkView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Bar } from '../components/Bar.js';
import { Data } from '../components/States.js';
import { age, bytes, cores, time } from '../format.js';
import { useSession } from '../session.js';
import { HostCharts } from './HostCharts.js';
import { DrainProgress, HostActions } from './HostDrain.js';
import { AdminOnly, HostAllocation, HostIps, Labels } from './HostParts.js';
import { SetTable } from './Sets.js';

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Facts({ host }: { host: Host }) {
  const c = host.capacity;
  return (
    <section className="card">
      <h2>Facts</h2>
      <dl className="facts">
        <Fact term="State">
          <Badge state={host.state} />
        </Fact>
        <Fact term="Zone">{host.zone || '–'}</Fact>
        <Fact term="Rack">{host.rack || '–'}</Fact>
        <Fact term="Labels">
          <Labels labels={host.labels} />
        </Fact>
        <Fact term="Capacity">
          {cores(c.cpu)} cores, {bytes(c.memory)} memory, {bytes(c.disk)} disk{c.bandwidth !== undefined ? `, ${c.bandwidth} Mbit/s uplink` : ''}
        </Fact>
        <Fact term="Sets">{host.sets}</Fact>
        <Fact term="Networks">{host.networks.length ? host.networks.map((n) => `${n.name} via ${n.uplink}`).join(', ') : '–'}</Fact>
        <Fact term="Images">{host.images?.length ?? '–'}</Fact>
        <Fact term="Docker">{host.dockerVersion}</Fact>
        <Fact term="Agent">
          {host.agentVersion} <small className="mono">{host.agentUrl}</small>
        </Fact>
        <Fact term="Heartbeat">
          <span title={time(host.lastHeartbeat)}>{age(host.lastHeartbeat)} ago</span>
        </Fact>
        <Fact term="Joined">{time(host.registeredAt)}</Fact>
      </dl>
    </section>
  );
}

function Usage({ host, networks }: { host: Host; networks: NetworkView[] | undefined }) {
  const { used, pool } = host;
  return (
    <section className="card">
      <h2>Reserved</h2>
      <HostAllocation host={host} />
      <HostIps host={host} networks={networks} />
      {used && (
        <>
          <h2>In use</h2>
          <Bar label="CPU" used={used.cpu} total={host.capacity.cpu} format={cores} />
          <Bar label="Memory" used={used.memory} total={host.capacity.memory} format={bytes} />
        </>
      )}
      {pool && (
        <>
          <Bar label="Pool" used={pool.used} total={pool.size} format={bytes} />
          <small>
            {pool.driver} pool; recycle bin: {pool.trashCount} volume{pool.trashCount === 1 ? '' : 's'}, {bytes(pool.trash)}
          </small>
        </>
      )}
    </section>
  );
}

function HostSets({ name }: { name: string }) {
  const { tenant, me } = useSession();
  const sets = useApi((c) => c.listSets().then((l) => l.filter((s) => s.host === name)), [name]);
  return (
    <section className="card wide">
      <h2>Sets of {tenant} on this host</h2>
      {me.platformAdmin && <p className="muted">Only the current tenant's sets are listed; switch tenant to see others.</p>}
      <Data q={sets} what="sets" empty={`No set of ${tenant} runs on this host.`}>
        {(list) => <SetTable sets={list} />}
      </Data>
    </section>
  );
}

function HostPage({ name }: { name: string }) {
  const host = useApi((c) => c.getHost(name), [name]);
  const networks = useApi((c) => c.listNetworks());
  return (
    <Data q={host} what="host">
      {(h) => (
        <div className="grid">
          <div className="card wide">
            <HostActions host={h} changed={host.reload} />
          </div>
          <DrainProgress host={h} />
          <div className="split host-facts">
            <Facts host={h} />
            <Usage host={h} networks={networks.data} />
          </div>
          <HostSets name={name} />
          <HostCharts name={name} />
        </div>
      )}
    </Data>
  );
}

export function HostDetail() {
  const { name = '' } = useParams();
  const { me } = useSession();
  return (
    <>
      <p>
        <Link to="/hosts">← Hosts</Link>
      </p>
      <h1>Host {name}</h1>
      {me.platformAdmin ? <HostPage name={name} /> : <AdminOnly what="Hosts" />}
    </>
  );
}
