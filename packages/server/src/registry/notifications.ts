/**
 * Who pushed what when: Distribution's notifications. The registry's config names an
 * endpoint of this server (`POST /v1/registry/events`) with a secret bearer header
 * the server makes at each start; the registry posts an envelope of events after
 * each manifest push or delete (pulls and blob events are filtered out in its
 * config). A manifest push with a tag becomes `/registry/pushes/<repo>:<tag>`
 * `{digest, pushedAt, pushedBy}`; a delete forgets the tags of that digest.
 *
 * Delivery is at least once, in no guaranteed order, from an in-memory queue of the
 * registry: a record changes only for another digest at a later time, and events
 * queued when the registry stops are lost (the catalog then shows no pusher).
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Store } from '@wharf/store';
import { WharfError } from '@wharf/types';
import { Keys } from '../state/keys.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
export const EVENTS_PATH = '/v1/registry/events';

export interface PushRecord {
  repository: string;
  tag: string;
  digest: string;
  pushedAt: string;
  pushedBy?: string;
}

/** One event as Distribution sends it (the fields read here). */
interface RegistryEvent {
  action?: string;
  timestamp?: string;
  target?: { repository?: string; digest?: string; tag?: string; mediaType?: string };
  actor?: { name?: string };
}

/** The events of an envelope `{events: [...]}`; 400 for anything else. */
export function envelopeEvents(body: unknown): RegistryEvent[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new WharfError('BAD_REQUEST', 'not a registry notification envelope: no "events" list');
  return events.filter((e): e is RegistryEvent => typeof e === 'object' && e !== null);
}

/** Applies the events to the push records; returns how many records changed. */
export async function recordEvents(store: Store, events: RegistryEvent[]): Promise<number> {
  let changed = 0;
  for (const e of events) {
    const { repository, digest, tag } = e.target ?? {};
    if (!repository || !digest) continue;
    if (e.action === 'push' && tag) {
      const key = Keys.registryPush(repository, tag);
      const at = e.timestamp ?? new Date().toISOString();
      const old = (await store.get<PushRecord>(key))?.value;
      // The same digest again keeps its first push; an older event never replaces a newer one.
      if (old && (old.digest === digest || Date.parse(old.pushedAt) > Date.parse(at))) continue;
      await store.put(key, { repository, tag, digest, pushedAt: at, ...(e.actor?.name ? { pushedBy: e.actor.name } : {}) } satisfies PushRecord);
      changed++;
    } else if (e.action === 'delete') {
      for (const r of await pushRecords(store, repository)) {
        if (r.digest !== digest) continue;
        await store.delete(Keys.registryPush(repository, r.tag));
        changed++;
      }
    }
  }
  return changed;
}

/** The push records of one repository, or (with `tenant/`) of a tenant. */
export async function pushRecords(store: Store, repository: string): Promise<PushRecord[]> {
  return (await store.list<PushRecord>(Keys.registryRepoPushes(repository))).items.map((kv) => kv.value);
}

export async function tenantPushRecords(store: Store, tenant: string): Promise<PushRecord[]> {
  return (await store.list<PushRecord>(`${Keys.registryPushesPrefix}${tenant}/`)).items.map((kv) => kv.value);
}

/** Forgets one tag's record, or every record of the repository. */
export async function forgetPushes(store: Store, repository: string, tag?: string): Promise<void> {
  const tags = tag !== undefined ? [tag] : (await pushRecords(store, repository)).map((r) => r.tag);
  for (const t of tags) await store.delete(Keys.registryPush(repository, t));
}

/** Whether `authorization` is `Bearer <secret>` (compared in constant time). */
export function notifierAuthorized(authorization: string | undefined, secret: string): boolean {
  const given = Buffer.from(authorization ?? '');
  const want = Buffer.from(`Bearer ${secret}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Where the registry posts its events: this server as reached on the same machine. */
export function notificationsUrl(serverHost: string, port: number): string {
  const host = serverHost === '0.0.0.0' ? '127.0.0.1' : serverHost === '::' ? '::1' : serverHost;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}${EVENTS_PATH}`;
}
