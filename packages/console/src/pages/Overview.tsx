/**
 * The platform at a glance: capacity and allocation by zone and hosts by state
 * (platform admins), the tenant's sets by state with the failing ones first, and
 * the tenant's recent events with the warnings first.
 */
import { Link } from 'react-router-dom';
import type { Host, RecentEvent, SetView } from '@wharf/types';
import { useApi } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Bar } from '../components/Bar.js';
import { EventsTable } from '../components/EventsTable.js';
import { Data } from '../components/States.js';
import { bytes, cores } from '../format.js';
import { appHref, setHref } from '../links.js';
import { useSession } from '../session.js';
import { NO_HOSTS } from './HostParts.js';

const TROUBLE = new Set(['failed', 'degraded']);

function countBy<T>(items: T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
}

function Counts({ title, counts }: { title: string; counts: Array<[string, number]> }) {
  return (
    <section className="card">
      <h2>{title}</h2>
      <ul className="counts">
        {counts.map(([k, n]) => (
          <li key={k}>
            <Badge state={k} /> <span className="count">{n}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Zones({ hosts }: { hosts: Host[] }) {
  const zones = new Map<string, Host[]>();
  for (const h of hosts) {
    const zone = h.zone || '–';
    zones.set(zone, [...(zones.get(zone) ?? []), h]);
  }
  return (
    <section className="card wide">
      <h2>Capacity by zone</h2>
      <div className="zones">
        {[...zones].sort(([a], [b]) => a.localeCompare(b)).map(([zone, hs]) => {
          const sum = (f: (h: Host) => number) => hs.reduce((a, h) => a + f(h), 0);
          return (
            <div key={zone} className="zone">
              <h3>
                {zone} <small>{hs.length} hosts</small>
              </h3>
              <Bar label="CPU" used={sum((h) => h.allocated.cpu)} total={sum((h) => h.capacity.cpu)} format={cores} />
              <Bar label="Memory" used={sum((h) => h.allocated.memory)} total={sum((h) => h.capacity.memory)} format={bytes} />
              <Bar label="Disk" used={sum((h) => h.allocated.disk)} total={sum((h) => h.capacity.disk)} format={bytes} />
            </div>
          );
        })}
      </div>
    </section>
  );
}

function Trouble({ sets }: { sets: SetView[] }) {
  const bad = sets.filter((s) => TROUBLE.has(s.status)).slice(0, 20);
  if (bad.length === 0) return null;
  return (
    <section className="card wide trouble">
      <h2>Needs attention</h2>
      <ul>
        {bad.map((s) => (
          <li key={`${s.appkey}/${s.id}`}>
            <Badge state={s.status} /> <Link to={setHref(s)}>{`${s.appkey}/${s.id}`}</Link> {s.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

const RECENT_SHOWN = 15;

/** Warnings before the rest, each newest first (the server answers newest first). */
function warningsFirst(events: RecentEvent[]): RecentEvent[] {
  return [...events.filter((e) => e.type === 'Warning'), ...events.filter((e) => e.type !== 'Warning')].slice(0, RECENT_SHOWN);
}

function EventObject({ e }: { e: RecentEvent }) {
  if (e.id === undefined) return <Link to={appHref(e.appkey)}>app {e.appkey}</Link>;
  return <Link to={setHref({ appkey: e.appkey, id: e.id })}>{`${e.appkey}/${e.id}`}</Link>;
}

function RecentEvents() {
  const events = useApi((c) => c.recentEvents({ limit: 100 }));
  return (
    <section className="card wide">
      <h2>Recent events</h2>
      <Data q={events} what="events" empty="No events yet.">
        {(list) => <EventsTable events={warningsFirst(list)} label="Recent events" object={(e) => <EventObject e={e} />} />}
      </Data>
    </section>
  );
}

/** Hosts by state and capacity by zone: `GET /v1/hosts` needs a platform admin. */
function HostCards() {
  const hosts = useApi((c) => c.listHosts());
  return (
    <Data q={hosts} what="hosts" empty={NO_HOSTS}>
      {(list) => (
        <>
          <Counts title={`Hosts (${list.length})`} counts={countBy(list, (h) => h.state)} />
          <Zones hosts={list} />
        </>
      )}
    </Data>
  );
}

export function Overview() {
  const { me, tenant } = useSession();
  const sets = useApi((c) => c.listSets());
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        <Data q={sets} what="sets">
          {(list) => (
            <>
              <Trouble sets={list} />
              <Counts title={`Sets in ${tenant} (${list.length})`} counts={countBy(list, (s) => s.status)} />
            </>
          )}
        </Data>
        {me.platformAdmin && <HostCards />}
        <RecentEvents />
      </div>
    </>
  );
}
