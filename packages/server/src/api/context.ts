import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '@wharf/store';
import type { HostChanges } from '../state/host-changes.js';
import type { Monitoring } from '../metrics/monitoring.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What route modules need; passed explicitly, no singletons. */
export interface ApiContext {
  store: Store;
  hostChanges: HostChanges;
  /** The join token, which the server also presents to agents (logs). */
  joinToken: string;
  /** The metrics history and Wharf's own metrics; buildApp makes one when not given. */
  monitoring?: Monitoring;
}
