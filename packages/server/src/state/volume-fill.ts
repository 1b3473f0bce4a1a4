/**
 * Events for volumes filling up, from the usage the hosts' heartbeats carry: a Warning
 * `VolumeFull` on the set when its volume reaches FULL_RATIO of its quota (the next
 * writes fail with "Disk quota exceeded"), and a Normal `VolumeSpaceFreed` once it is back
 * under FREED_RATIO. The gap between the two keeps a volume hovering at the mark from
 * filling the set's events. The host record keeps which volumes are full, so a report
 * repeated every few seconds, a restarted server or another server makes no second event.
 * A volume that is gone (its set deleted) leaves the list without an event.
 */
import { formatBytes, type SetEvent, type VolumeUsage } from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys } from './keys.js';
import { appendEvents, event, type SetRef } from './sets.js';

export const FULL_RATIO = 0.95;
export const FREED_RATIO = 0.9;

const key = (v: Pick<VolumeUsage, 'tenant' | 'appkey' | 'id'>) => `${v.tenant}/${v.appkey}/${v.id}`;

function ratio(v: VolumeUsage): number {
  return v.quota > 0 ? v.used / v.quota : 0;
}

function usage(v: VolumeUsage): string {
  return `${formatBytes(v.used)} of ${formatBytes(v.quota)} used (${Math.floor(ratio(v) * 100)}%)`;
}

export interface VolumeFill {
  /** The volumes (`tenant/appkey/id`) that count as full after this heartbeat: the host record keeps them for the next. */
  full: string[];
  events: { ref: SetRef; event: SetEvent }[];
}

/**
 * What one heartbeat of `host` changes: `wasFull` is what the previous one left, `volumes`
 * the usage it reports now. A volume is full from FULL_RATIO until it is under FREED_RATIO.
 */
export function volumeFill(host: string, wasFull: readonly string[] | undefined, volumes: VolumeUsage[] | undefined): VolumeFill {
  const before = new Set(wasFull ?? []);
  const full: string[] = [];
  const events: VolumeFill['events'] = [];
  for (const v of volumes ?? []) {
    const k = key(v);
    const r = ratio(v);
    const isFull = r >= FULL_RATIO || (before.has(k) && r >= FREED_RATIO);
    if (isFull) full.push(k);
    const ref = { tenant: v.tenant, appkey: v.appkey, id: v.id };
    if (isFull && !before.has(k)) {
      events.push({ ref, event: { ...event('Warning', 'VolumeFull', `volume is full: ${usage(v)}; writes past the quota fail with "Disk quota exceeded" (make room, or grow it: wharf volume resize)`), host } });
    } else if (!isFull && before.has(k)) {
      events.push({ ref, event: { ...event('Normal', 'VolumeSpaceFreed', `volume has room again: ${usage(v)}`), host } });
    }
  }
  return { full, events };
}

/**
 * Appends the fill events of one recorded heartbeat to the sets they are about (a set already gone
 * gets none). A failure is logged: the heartbeat it rides on is already recorded.
 */
export async function recordVolumeFill(store: Store, host: string, events: VolumeFill['events'], log: { warn: (obj: object, msg: string) => void }): Promise<void> {
  for (const { ref, event: e } of events) {
    try {
      if (await store.get(Keys.set(ref.tenant, ref.appkey, ref.id))) await appendEvents(store, ref, [e]);
    } catch (err) {
      log.warn({ host, set: `${ref.tenant}/${ref.appkey}/${ref.id}`, err }, `could not record ${e.reason}`);
    }
  }
}
