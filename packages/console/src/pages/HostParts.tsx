/** Pieces the host list and the host page share: allocation bars, IP pools, labels, the admin-only note. */
import type { Host, NetworkView } from '@wharf/types';
import { Bar } from '../components/Bar.js';
import { Empty } from '../components/States.js';
import { bytes, cores } from '../format.js';

export const count = (n: number) => String(n);

export const NO_HOSTS = 'No hosts have joined yet: start wharf-agent on a Docker host (docs/operations.md).';

/** What the scheduler reserved on the host against what it offers. */
export function HostAllocation({ host }: { host: Host }) {
  return (
    <>
      <Bar label="CPU" used={host.allocated.cpu} total={host.capacity.cpu} format={cores} />
      <Bar label="Memory" used={host.allocated.memory} total={host.capacity.memory} format={bytes} />
      <Bar label="Disk" used={host.allocated.disk} total={host.capacity.disk} format={bytes} />
    </>
  );
}

/** The IP pools of the networks the host reaches: addresses in use of each pool. */
export function HostIps({ host, networks }: { host: Host; networks: NetworkView[] | undefined }) {
  if (host.networks.length === 0) return <span className="muted">no platform network</span>;
  return (
    <>
      {host.networks.map((n) => {
        const view = networks?.find((v) => v.name === n.name);
        return view ? (
          <Bar key={n.name} label={`${n.name} IPs`} used={view.used} total={view.size} format={count} />
        ) : (
          <div key={n.name} className="muted">
            {n.name} via {n.uplink}
          </div>
        );
      })}
    </>
  );
}

export function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span className="muted">–</span>;
  return (
    <ul className="labels" aria-label="Labels">
      {entries.map(([k, v]) => (
        <li key={k}>
          <code>
            {k}={v}
          </code>
        </li>
      ))}
    </ul>
  );
}

/** `GET /v1/hosts…` needs a platform admin: others get this instead of a 403. */
export function AdminOnly({ what }: { what: string }) {
  return <Empty>{what} are shown to platform admins only: ask one if you need to know about them.</Empty>;
}
