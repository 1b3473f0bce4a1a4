/**
 * Volumes as the server sees them: every set has one, as large as its resolved
 * `resources.disk`, on the set's host. Usage comes from the host's heartbeats; every
 * operation on a volume goes to the agent of its host (see agents.ts).
 */
import { WharfError, formatBytes, parseBytes, setRef, type SetObject, type VolumeUsage, type VolumeView } from '@wharf/types';
import type { Store } from '@wharf/store';
import type { FastifyBaseLogger } from 'fastify';
import { agentPath, type Agents, type AgentHost } from '../agents.js';
import { getEffectiveHost, setReservation, type EffectiveHost, type HostRecord } from './hosts.js';
import { getSet, type SetRef } from './sets.js';

/** `/v1/volumes/<tenant>/<appkey>/<id>[/more…]` on the agent. */
export function volumePath(ref: SetRef, ...more: string[]): string {
  return agentPath('volumes', ref.tenant, ref.appkey, ref.id, ...more);
}

/** The set's volume size: its resolved disk. */
export function volumeSize(set: SetObject): number {
  return setReservation(set).disk;
}

/** A size as the spec should keep it: "20Gi" when that is exact, else bytes. */
export function sizeQuantity(bytes: number): string | number {
  const text = formatBytes(bytes);
  return parseBytes(text) === bytes ? text : bytes;
}

/** The usage entry of the set in a host's last heartbeat. */
export function reportedUsage(host: Pick<HostRecord, 'volumes'> | undefined, ref: SetRef): VolumeUsage | undefined {
  return host?.volumes?.find((v) => v.tenant === ref.tenant && v.appkey === ref.appkey && v.id === ref.id);
}

export function volumeView(set: SetObject, usage: VolumeUsage | undefined, reportedAt: string | undefined): VolumeView {
  return {
    tenant: set.tenant,
    appkey: set.appkey,
    id: set.id,
    ...(set.host ? { host: set.host } : {}),
    size: volumeSize(set),
    ...(usage
      ? { driver: usage.driver, used: usage.used, quota: usage.quota, path: usage.path, ...(reportedAt ? { reportedAt } : {}) }
      : {}),
  };
}

export function setName(ref: SetRef): string {
  return `${ref.appkey}/${ref.id}`;
}

/** The set and its host, for an operation on its volume: the set must be placed on a known host and not be deleting. */
export async function placedSet(store: Store, ref: SetRef, what: string): Promise<{ set: SetObject; modRevision: number; host: EffectiveHost }> {
  const kv = await getSet(store, ref);
  const set = kv.value;
  if (set.deleting) throw new WharfError('CONFLICT', `set ${setName(ref)} is being deleted; cannot ${what}`);
  if (!set.host) throw new WharfError('CONFLICT', `set ${setName(ref)} is not placed on a host yet, so it has no volume to ${what}`, { set: setRef(set) });
  const host = await getEffectiveHost(store, set.host);
  if (!host) throw new WharfError('HOST_UNREACHABLE', `set ${setName(ref)} is on host ${set.host}, which is not registered`, { host: set.host });
  return { set, modRevision: kv.modRevision, host };
}

export async function hostRecord(store: Store, name: string): Promise<EffectiveHost> {
  const h = await getEffectiveHost(store, name);
  if (!h) throw new WharfError('HOST_NOT_FOUND', `host ${name} not found`, { host: name });
  return h;
}

/**
 * Resizes the set's volume on its host's agent, then runs `record` (the write of the
 * new size). The agent goes first because only it knows what the volume holds
 * (VOLUME_TOO_SMALL); when the write fails, the volume gets its old size back rather
 * than stay at a size nobody reserved.
 */
export async function resizeVolumeThenRecord<T>(
  agents: Agents,
  host: AgentHost,
  ref: SetRef,
  size: { from: number; to: number },
  record: () => Promise<T>,
  log: Pick<FastifyBaseLogger, 'warn'>,
): Promise<{ usage: VolumeUsage; recorded: T }> {
  const usage = await agents.call<VolumeUsage>(host, 'POST', volumePath(ref, 'resize'), { bytes: size.to });
  try {
    return { usage, recorded: await record() };
  } catch (err) {
    if (size.from !== size.to) {
      await agents.call(host, 'POST', volumePath(ref, 'resize'), { bytes: size.from }).catch((e: unknown) => {
        log.warn({ set: ref, err: (e as Error).message }, 'could not undo a volume resize');
      });
    }
    throw err;
  }
}
