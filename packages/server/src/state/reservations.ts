/**
 * What sets reserve on their hosts, for writes that change it in place (volume
 * resize, set resize): whether the new size fits beside the other sets on the host,
 * decided by the scheduler's own resource filter so the words match its own, and
 * the write, which compares the host's reservation key like a placement does, so
 * two writes that each passed their fit check against the same picture never both
 * commit.
 */
import { isDeepStrictEqual } from 'node:util';
import { admitQuota, usageChange } from './quotas.js';
import { diagnose, fitsResources, free, type Profile, type Resource } from '@wharf/scheduler';
import { WharfError, setRef, type HostCapacity, type SetEvent, type SetObject } from '@wharf/types';
import type { Store } from '@wharf/store';
import { clusterView } from '../controllers/placement.js';
import { Keys, setKeys } from './keys.js';
import { listAllSets, setReservation, type EffectiveHost } from './hosts.js';
import { getSet, logAppend, type SetRef } from './sets.js';

const FIT_PROFILE: Profile = { filters: [fitsResources], scorers: [] };
const RESOURCES: readonly Resource[] = ['cpu', 'memory', 'disk', 'bandwidth'];

export type HostFit =
  | { fits: true }
  | {
      fits: false;
      /** In the scheduler's words: "insufficient cpu: requested 4 cores, free 1.5 cores". */
      reason: string;
      /** The host's capacity less what every other set there reserves (bandwidth only when the host states a capacity). */
      unreserved: HostCapacity;
    };

/**
 * Does `set` fit its host at the size `next`, beside every other set there? Only
 * the resources that grow are checked: a size that grows nothing cannot make the
 * host fuller, even one whose capacity an operator has since lowered.
 */
export async function hostFit(store: Store, set: SetObject, host: EffectiveHost, next: HostCapacity): Promise<HostFit> {
  const before = setReservation(set);
  const growing = RESOURCES.filter((r) => (next[r] ?? 0) > (before[r] ?? 0));
  if (growing.length === 0) return { fits: true };
  const self = setRef(set);
  const others = (await listAllSets(store)).filter((s) => s.host === host.name && setRef(s) !== self);
  const view = clusterView([host], others, Date.now());
  const asked: HostCapacity = { cpu: 0, memory: 0, disk: 0 };
  for (const r of growing) asked[r] = next[r] ?? 0;
  const [verdict] = diagnose(view, { set: self, appkey: set.appkey, resources: asked, images: [] }, FIT_PROFILE);
  if (!verdict || verdict.fits) return { fits: true };
  const allocated = view.hosts[0]?.allocated ?? { cpu: 0, memory: 0, disk: 0 };
  const unreserved: HostCapacity = {
    cpu: free(host.capacity, allocated, 'cpu'),
    memory: free(host.capacity, allocated, 'memory'),
    disk: free(host.capacity, allocated, 'disk'),
    ...(host.capacity.bandwidth !== undefined ? { bandwidth: free(host.capacity, allocated, 'bandwidth') } : {}),
  };
  return { fits: false, reason: verdict.reason ?? verdict.kind ?? 'insufficient resources', unreserved };
}

/** The reservation key of a host and its revision (0: never written), compared by writes that reserve there. */
export async function reservationRevision(store: Store, host: string): Promise<{ key: string; modRevision: number }> {
  const key = Keys.reservation(host);
  return { key, modRevision: (await store.get(key))?.modRevision ?? 0 };
}

/**
 * Read-modify-write of one set (compare-and-swap, retried on conflict) whose change
 * may reserve more on its host. `change` sees the set as stored, checks the fit and
 * returns the new object, or undefined to leave it. When the new object stays on the
 * set's host, the write also compares that host's reservation key, read before
 * `change` ran: a reservation made meanwhile makes the write fail and `change` run again.
 * `events`, given the set before and after, are logged in the same commit, so nobody
 * (the placement controller placing a set that leaves its host) logs in between.
 */
export async function updateReserving(
  store: Store,
  ref: SetRef,
  change: (set: SetObject) => Promise<SetObject | undefined>,
  events: (before: SetObject, after: SetObject) => SetEvent[] = () => [],
): Promise<{ before: SetObject; after: SetObject }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const kv = await getSet(store, ref);
    const host = kv.value.host;
    const reservation = host ? await reservationRevision(store, host) : undefined;
    const next = await change(kv.value);
    if (!next) return { before: kv.value, after: kv.value };
    const reserves = reservation && next.host === host;
    // A bigger set is admitted against its tenant's quota in the same write.
    const quota = isDeepStrictEqual(kv.value.spec, next.spec) ? undefined : await admitQuota(store, ref.tenant, usageChange(kv.value.spec, next.spec), `set ${ref.appkey}/${ref.id}`);
    const logged = await logAppend(store, setKeys(ref).events, events(kv.value, next));
    const r = await store.txn(
      [{ key: kv.key, modRevision: kv.modRevision }, ...(reserves ? [reservation] : []), ...(quota?.compares ?? []), ...logged.compares],
      [{ type: 'put', key: kv.key, value: next }, ...(reserves ? [{ type: 'put' as const, key: reservation.key, value: { lastSet: setRef(next) } }] : []), ...(quota?.ops ?? []), ...logged.ops],
    );
    if (r.succeeded) return { before: kv.value, after: next };
  }
  throw new WharfError('CONFLICT', `set ${ref.appkey}/${ref.id} is changing too often; try again`);
}
