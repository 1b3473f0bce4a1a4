import { Type, type Static } from '@sinclair/typebox';
import { SetEvent } from './objects.js';

/** An event of a tenant's set or app, as `GET /v1/events` lists them (newest first). */
export const RecentEvent = Type.Object({
  ...SetEvent.properties,
  appkey: Type.String(),
  id: Type.Optional(Type.String({ description: 'The set, for a set\'s event; absent for an app\'s (scaling)' })),
});
export type RecentEvent = Static<typeof RecentEvent>;

export const RECENT_EVENTS_DEFAULT = 50;
export const RECENT_EVENTS_MAX = 500;
