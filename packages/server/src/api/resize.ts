/**
 * Online resize of a set: the new size goes into the set's spec (a new generation)
 * once its host is known to fit it; the host's agent applies it with `docker update`
 * and the volume driver, restarting nothing. When the host cannot fit it the request
 * is refused or, with `moveIfNeeded`, a set that may move (the rule drain and
 * failover use) gives up its host and the placement controller puts it on one that fits.
 */
import { ResizeRequest, SetView, WharfError, type SetObject } from '@wharf/types';
import type { Store } from '@wharf/store';
import { getEffectiveHost, isRelocatable, setReservation } from '../state/hosts.js';
import { hostFit, updateReserving } from '../state/reservations.js';
import { describeResize, resizedSpec } from '../state/resize.js';
import { event, getSet, type SetRef } from '../state/sets.js';
import { hostRecord, resizeVolumeThenRecord, setName, volumeSize } from '../state/volumes.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';
import { viewOf } from './sets.js';

interface Resized {
  next: SetObject;
  /** Why the set leaves its host. */
  leaves?: string;
}

/**
 * The set with the request's new size, checked against its host; undefined when
 * nothing would change. Throws INSUFFICIENT_RESOURCES when the host cannot fit the
 * new size and the set may not (or cannot) move.
 */
async function resize(store: Store, set: SetObject, req: ResizeRequest, mayMove: boolean): Promise<Resized | undefined> {
  const name = setName(set);
  if (set.deleting) throw new WharfError('CONFLICT', `set ${name} is being deleted`);
  const spec = resizedSpec(set.spec, req, name);
  if (!spec) return undefined;
  const next: SetObject = { ...set, spec, generation: set.generation + 1, updatedAt: new Date().toISOString() };
  if (!set.host) return { next };
  const host = await getEffectiveHost(store, set.host);
  if (!host) throw new WharfError('HOST_UNREACHABLE', `set ${name} is on host ${set.host}, which is not registered`, { host: set.host });
  const requested = setReservation(next);
  const fit = await hostFit(store, set, host, requested);
  if (fit.fits) return { next };
  const relocatable = isRelocatable(set);
  const details = { host: host.name, requested, unreserved: fit.unreserved, relocatable };
  const why = `host ${host.name} cannot fit the new size of set ${name}: ${fit.reason}`;
  if (!req.moveIfNeeded || !mayMove) throw new WharfError('INSUFFICIENT_RESOURCES', why, details);
  if (!relocatable) {
    throw new WharfError('INSUFFICIENT_RESOURCES', `${why}; the set has a local volume, so it cannot move to another host (set placement.relocatable to allow moving it)`, details);
  }
  const { host: _left, ...unplaced } = next;
  return { next: { ...unplaced, movedFrom: host.name }, leaves: why };
}

/** Stays on its host with another volume size: the agent must resize the volume first. */
function resizesVolumeInPlace(before: SetObject, after: SetObject): boolean {
  return before.host !== undefined && after.host === before.host && volumeSize(after) !== volumeSize(before);
}

export function resizeRoutes(app: App, { store, agents }: RouteContext): void {

  app.post('/v1/sets/:appkey/:id/resize', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'Resize a set online: CPU, memory, disk and its containers\' percentages',
      description:
        'Writes the new size into the set spec (a new generation); the host\'s agent applies it without restarting a container. ' +
        'A placed set\'s host must have the growth unreserved (409 INSUFFICIENT_RESOURCES, in the scheduler\'s words; details ' +
        '{host, requested, unreserved, relocatable}); with moveIfNeeded a set without a local volume (or relocatable) leaves its ' +
        'host instead and is placed on one that fits. A new disk size is applied by the agent first (409 VOLUME_TOO_SMALL below ' +
        'what the volume holds). A pending set just gets the new spec. Answers the set; a request that changes nothing answers it as it is.',
      params: SetParams,
      querystring: TenantQuery,
      body: ResizeRequest,
      response: { 200: SetView, ...errors(400, 401, 404, 409, 502) },
    },
  }, async (req) => {
    const ref: SetRef = { tenant: tenantOf(req.query), appkey: req.params.appkey, id: req.params.id };
    const request = req.body;
    const current = (await getSet(store, ref)).value;
    const preview = await resize(store, current, request, true);
    if (!preview) return viewOf(store, current);

    const volumeHost = resizesVolumeInPlace(current, preview.next) ? current.host : undefined;
    let leaves: string | undefined;
    const record = () => updateReserving(store, ref, async (set) => {
      if (volumeHost !== undefined && set.host !== volumeHost) {
        throw new WharfError('CONFLICT', `set ${setName(ref)} moved or is being deleted while its volume was resized; look at it and try again`);
      }
      // Once the agent has resized the volume here, the set stays: a move would leave that volume behind.
      const r = await resize(store, set, request, volumeHost === undefined);
      // Placed since the preview: its volume now exists and needs the agent first.
      if (r && volumeHost === undefined && resizesVolumeInPlace(set, r.next)) {
        throw new WharfError('CONFLICT', `set ${setName(ref)} was placed on host ${set.host} while it was resized; try again`);
      }
      leaves = r?.leaves;
      return r?.next;
    }, (before, after) => {
      const move = leaves ? `; ${leaves}, so the set moves to a host that can` : '';
      return [{ ...event('Normal', 'ResizeRequested', `resize: ${describeResize(before.spec, after.spec)}${move}`), ...(before.host ? { host: before.host } : {}) }];
    });
    const { before, after } = volumeHost !== undefined
      ? (await resizeVolumeThenRecord(agents, await hostRecord(store, volumeHost), ref, { from: volumeSize(current), to: volumeSize(preview.next) }, record, req.log)).recorded
      : await record();
    if (before === after) return viewOf(store, after);
    if (leaves) req.log.info({ set: ref, from: before.host }, 'resized set leaves its host');
    return viewOf(store, after);
  });
}
