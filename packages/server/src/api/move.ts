/**
 * Moving a stopped set, with its volume, to another host: the target's agent pulls
 * the volume from the source's agent, both agents checksum their copy, and only
 * when they agree is the set re-placed (host, movedFrom, desired running) in one
 * compare-and-swap write. Until then nothing about the set changes.
 */
import { Type } from '@sinclair/typebox';
import { diagnose, fitsResources, hostReady, networkReach, type Profile } from '@wharf/scheduler';
import { SetView, WharfError, formatBytes, type SetObject, type SetStatus, type VolumeChecksum, type VolumeUsage } from '@wharf/types';
import type { Store } from '@wharf/store';
import { clusterView, placementRequest } from '../controllers/placement.js';
import { Keys, setKeys } from '../state/keys.js';
import { isReady, listAllSets, listHostRecords } from '../state/hosts.js';
import { loadNetworks, networksOf, wantedIps } from '../state/ipam.js';
import { appendEvents, event, getSet, setView, type SetRef } from '../state/sets.js';
import { hostRecord, setName, volumePath, volumeSize } from '../state/volumes.js';
import { reservationRevision } from '../state/reservations.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';

/**
 * What a move checks of the target: only what the set physically needs there — a
 * ready, uncordoned host with the resources, reaching the networks of its IPs. An
 * explicit move overrides the set's placement preferences (zones, host selector,
 * spread, same-zone affinity), as a person chose the host.
 */
const MOVE_PROFILE: Profile = { filters: [hostReady, networkReach, fitsResources], scorers: [] };

/** A volume copy (and its checksums) may take long: the agents stream it, the request waits. */
const COPY_TIMEOUT_MS = 24 * 3600_000;

function sameSet(a: SetRef, b: SetRef): boolean {
  return a.tenant === b.tenant && a.appkey === b.appkey && a.id === b.id;
}

/** The `wharf` command line that selects `ref` (with --tenant outside the default tenant). */
function cli(ref: SetRef, command: string): string {
  return `wharf ${ref.tenant === 'default' ? '' : `--tenant ${ref.tenant} `}${command} ${setName(ref)}`;
}

/**
 * Does the set fit `target` as the scheduler sees it (MOVE_PROFILE), counting
 * everything but the set itself? Throws when not.
 */
async function checkFit(store: Store, set: SetObject, target: string): Promise<void> {
  const [hosts, all, nets] = await Promise.all([listHostRecords(store), listAllSets(store), loadNetworks(store)]);
  const view = clusterView(hosts, all.filter((s) => !sameSet(s, set)), Date.now(), nets);
  const networks = [...new Set([...networksOf(wantedIps(set.spec, nets).wants), ...(set.ips ?? []).map((x) => x.network)])].sort();
  const verdict = diagnose(view, { ...placementRequest(set), networks }, MOVE_PROFILE).find((v) => v.host === target);
  if (!verdict || verdict.fits) return;
  const disk = verdict.plugin === 'FitsResources' && (verdict.kind ?? '').includes('disk');
  throw new WharfError(disk ? 'INSUFFICIENT_DISK' : 'CONFLICT', `set ${setName(set)} does not fit host ${target}: ${verdict.reason ?? verdict.kind ?? 'rejected by the scheduler'}`, {
    host: target,
    ...(verdict.plugin ? { plugin: verdict.plugin } : {}),
  });
}

function describeSum(c: VolumeChecksum): string {
  return `sha256 ${c.sha256.slice(0, 12)}…, ${c.files} files, ${formatBytes(c.bytes)}`;
}

export function moveRoutes(app: App, { store, agents }: RouteContext): void {

  app.post('/v1/sets/:appkey/:id/move', {
    schema: {
      tags: ['sets', 'volumes'],
      summary: 'Move a stopped set, with its volume, to another host',
      description:
        'The set must be stopped (desired and actual). The target host must be ready, not cordoned, have the resources the set ' +
        'reserves and reach the networks of its IPs; the set\'s placement preferences (zones, host selector, spread) do not apply. ' +
        'The target\'s agent copies the volume from the source\'s agent; when both checksums agree the set is placed on ' +
        'the target and started there (the copy on the source goes to its recycle bin). Answers when the copy is done; ' +
        'on any failure the set stays where it was.',
      params: SetParams,
      querystring: TenantQuery,
      body: Type.Object({ host: Type.String({ minLength: 1, description: 'The target host' }) }, { additionalProperties: false }),
      response: { 200: SetView, ...errors(400, 401, 404, 409, 502) },
    },
  }, async (req) => {
    const ref: SetRef = { tenant: tenantOf(req.query), appkey: req.params.appkey, id: req.params.id };
    const target = req.body.host;
    const kv = await getSet(store, ref);
    const set = kv.value;
    if (set.deleting) throw new WharfError('CONFLICT', `set ${setName(ref)} is being deleted`);
    if (!set.host) throw new WharfError('CONFLICT', `set ${setName(ref)} is not placed on a host yet; there is nothing to move (${cli(ref, 'describe set')} says why it is pending)`);
    const from = set.host;
    if (from === target) throw new WharfError('CONFLICT', `set ${setName(ref)} is already on host ${target}`);
    const status = (await store.get<SetStatus>(setKeys(ref).status))?.value;
    const phase = status?.host === from ? status.phase : undefined;
    if (set.desired !== 'stopped' || phase !== 'stopped') {
      const state = phase ?? 'not reported by its host yet';
      const now = set.desired === 'stopped' ? `is still ${state} on host ${from}` : `is ${state} on host ${from}`;
      throw new WharfError('CONFLICT', `set ${setName(ref)} ${now}; stop it first: ${cli(ref, 'stop set')} --wait`, { desired: set.desired, ...(phase ? { phase } : {}) });
    }
    const to = await hostRecord(store, target);
    if (!isReady(to)) throw new WharfError('CONFLICT', `host ${target} is not ready (its agent last reported at ${to.lastHeartbeat})`, { host: target });
    if (to.draining || to.cordoned) throw new WharfError('CONFLICT', `host ${target} is ${to.draining ? 'draining' : 'cordoned'}; no set may move there (wharf uncordon ${target})`, { host: target });
    await checkFit(store, set, target);
    const source = await hostRecord(store, from);

    try {
      const started = Date.now();
      const copied = await agents.call<VolumeUsage>(to, 'POST', volumePath(ref, 'import'), { from: source.agentUrl, quota: volumeSize(set) }, { timeoutMs: COPY_TIMEOUT_MS });
      const seconds = (Date.now() - started) / 1000;
      const [original, copy] = await Promise.all([
        agents.call<VolumeChecksum>(source, 'GET', volumePath(ref, 'checksum'), undefined, { timeoutMs: COPY_TIMEOUT_MS }),
        agents.call<VolumeChecksum>(to, 'GET', volumePath(ref, 'checksum'), undefined, { timeoutMs: COPY_TIMEOUT_MS }),
      ]);
      if (original.sha256 !== copy.sha256 || original.files !== copy.files || original.bytes !== copy.bytes) {
        throw new WharfError('CONFLICT', `the copy of set ${setName(ref)}'s volume on host ${target} (${describeSum(copy)}) differs from the original on host ${from} (${describeSum(original)}); the set stays on ${from}`, {
          source: original,
          target: copy,
        });
      }
      const moved = await commit(store, ref, kv.modRevision, from, target);
      await appendEvents(store, ref, [
        { ...event('Normal', 'VolumeCopied', `volume copied from host ${from} to ${target}: ${formatBytes(copy.bytes)} in ${copy.files} files (${formatBytes(copied.used)} used) in ${seconds.toFixed(1)}s; checksums match`), host: target },
        { ...event('Normal', 'Moved', `moved from host ${from} to ${target}; starting there`), host: target },
      ]);
      req.log.info({ set: ref, from, to: target, bytes: copy.bytes, seconds }, 'set moved');
      return setView(moved, status, true);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      await appendEvents(store, ref, [{ ...event('Warning', 'MoveFailed', `move to host ${target} failed: ${why}`), host: from }]);
      throw err;
    }
  });
}

/**
 * Places the set on `target` if nothing about it changed since `modRevision` (the
 * copy is of the volume as it was then), comparing the target's reservation key
 * like a placement and checking the fit again when that changed meanwhile.
 */
async function commit(store: Store, ref: SetRef, modRevision: number, from: string, target: string): Promise<SetObject> {
  const key = Keys.set(ref.tenant, ref.appkey, ref.id);
  for (let attempt = 0; attempt < 10; attempt++) {
    const kv = await store.get<SetObject>(key);
    if (!kv || kv.modRevision !== modRevision) {
      throw new WharfError('CONFLICT', `set ${setName(ref)} changed while its volume was copied; it stays on host ${from} (look at it, stop it, and move it again)`);
    }
    const reservation = await reservationRevision(store, target);
    await checkFit(store, kv.value, target);
    const next: SetObject = { ...kv.value, host: target, movedFrom: from, desired: 'running', updatedAt: new Date().toISOString() };
    const r = await store.txn(
      [{ key, modRevision }, { key: reservation.key, modRevision: reservation.modRevision }],
      [{ type: 'put', key, value: next }, { type: 'put', key: reservation.key, value: { lastSet: `${ref.tenant}/${ref.appkey}/${ref.id}` } }],
    );
    if (r.succeeded) return next;
  }
  throw new WharfError('CONFLICT', `host ${target} is changing too often to move set ${setName(ref)} there; try again`);
}
