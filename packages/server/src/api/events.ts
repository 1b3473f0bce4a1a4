/**
 * `GET /v1/events`: the newest events of a tenant's sets and apps together, for the
 * console's overview. Both kinds live in capped logs (state/sets.ts `appendToLog`):
 * one per set under `/events/<tenant>/<appkey>/<id>`, one per app under
 * `/app-events/<tenant>/<appkey>`.
 */
import { Type } from '@sinclair/typebox';
import { RECENT_EVENTS_DEFAULT, RECENT_EVENTS_MAX, RecentEvent, type AppEvent, type SetEvent } from '@wharf/types';
import type { Store } from '@wharf/store';
import { Keys } from '../state/keys.js';
import type { EventLog } from '../state/sets.js';
import type { App, ApiContext } from './context.js';
import { TenantQuery, errors, tenantOf } from './schemas.js';

const EventsQuery = Type.Object({
  ...TenantQuery.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: RECENT_EVENTS_MAX, description: `How many events (default ${RECENT_EVENTS_DEFAULT})` })),
});

/** Every event of the tenant's sets and apps, newest first (in a log's own order when times tie). */
export async function recentEvents(store: Store, tenant: string, limit: number): Promise<RecentEvent[]> {
  const [sets, apps] = await Promise.all([store.list<EventLog<SetEvent>>(Keys.tenantEvents(tenant)), store.list<EventLog<AppEvent>>(Keys.tenantAppEvents(tenant))]);
  const all: RecentEvent[] = [];
  for (const kv of sets.items) {
    const [appkey = '', id = ''] = kv.key.slice(Keys.tenantEvents(tenant).length).split('/');
    for (const e of [...kv.value.items].reverse()) all.push({ ...e, appkey, id });
  }
  for (const kv of apps.items) {
    const appkey = kv.key.slice(Keys.tenantAppEvents(tenant).length);
    for (const e of [...kv.value.items].reverse()) all.push({ ...e, appkey });
  }
  // ISO times sort as text; the sort is stable, so ties keep each log's newest first.
  return all.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
}

export function eventRoutes(app: App, { store }: ApiContext): void {
  app.get('/v1/events', {
    config: { access: 'tenant' },
    schema: {
      tags: ['sets', 'apps'],
      summary: 'Recent events of the tenant\'s sets and apps, newest first',
      description: `Set events carry their appkey and id, app events (scaling) their appkey. At most \`limit\` (default ${RECENT_EVENTS_DEFAULT}, up to ${RECENT_EVENTS_MAX}).`,
      querystring: EventsQuery,
      response: { 200: Type.Array(RecentEvent), ...errors(400, 401, 403) },
    },
  }, async (req) => recentEvents(store, tenantOf(req.query), req.query.limit ?? RECENT_EVENTS_DEFAULT));
}
