/**
 * An engine that shows an agent only one tenant's containers. Test files share the
 * tests' dockerd; a whole agent (startAgent) on it would take every other file's
 * containers for orphans of its own host and remove them (the orphan sweep, and a
 * reconcile on each Docker event). In production one agent owns its dockerd.
 */
import { Labels } from '@wharf/types';
import type { Engine } from '../docker/engine.js';

export function tenantEngine(engine: Engine, tenant: string): Engine {
  const mine = (setRef: string | undefined) => setRef?.startsWith(`${tenant}/`) === true;
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'listManaged') return async () => (await target.listManaged()).filter((m) => mine(m.setRef));
      if (prop === 'watchEvents') {
        return (onEvent: Parameters<Engine['watchEvents']>[0], signal: AbortSignal) =>
          target.watchEvents((e) => {
            if (mine(e.labels[Labels.set])) onEvent(e);
          }, signal);
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
