/**
 * The naming service: an app's endpoints, computed from its sets and their
 * statuses. A set serves when it is ready and not draining; a draining set drops
 * out at once, before its containers stop (on scale-in, or before a rollout
 * replaces one of its containers). The revision is a hash of the content,
 * so it is the same on every server replica and across restarts, and a watcher
 * that passes it back is answered as soon as the content differs.
 */
import { createHash } from 'node:crypto';
import type { Endpoint, EndpointPort, Endpoints, SetSpec } from '@wharf/types';
import type { Store, Watcher } from '@wharf/store';
import { Keys } from './keys.js';
import { appNotFound, loadMembers, type AppMember } from './apps.js';

export interface EndpointsQuery {
  /** Also sets that do not serve: not ready, or draining (each with its flags). */
  all?: boolean;
}

/** Every port the set's containers declare, in container start order. */
export function portsOf(spec: SetSpec): EndpointPort[] {
  return [...spec.containers]
    .sort((a, b) => a.index - b.index)
    .flatMap((c) => (c.options.ports ?? []).map((p) => ({ containerPort: p.containerPort, protocol: p.protocol ?? 'tcp', container: c.options.name })));
}

export function endpointOf(m: AppMember): Endpoint {
  const s = m.kv.value;
  const ip = s.ips?.[0]?.ip;
  return {
    set: s.id,
    ...(s.host ? { host: s.host } : {}),
    ...(ip ? { ip } : {}),
    ports: portsOf(s.spec),
    ready: m.view.ready,
    draining: s.draining !== undefined || s.outOfRotation !== undefined,
  };
}

/** Serving sets (ready, not draining); with `all`, every placed set neither being deleted nor in the warm pool. */
export function endpointsOf(members: AppMember[], query: EndpointsQuery = {}): Endpoint[] {
  return members
    .filter((m) => !m.kv.value.deleting && !m.kv.value.standby && m.kv.value.host !== undefined)
    .map(endpointOf)
    .filter((e) => query.all || (e.ready && !e.draining));
}

/** A 48-bit hash of the endpoints, never 0 (0 is what a first watch sends). */
export function revisionOf(endpoints: Endpoint[]): number {
  const hex = createHash('sha256').update(JSON.stringify(endpoints)).digest('hex').slice(0, 12);
  return parseInt(hex, 16) || 1;
}

/** The app's endpoints; APP_NOT_FOUND when there is neither an app nor a set of the appkey. */
export async function readEndpoints(store: Store, tenant: string, appkey: string, query: EndpointsQuery = {}, mustExist = true): Promise<Endpoints> {
  const [app, members] = await Promise.all([store.get(Keys.app(tenant, appkey)), loadMembers(store, tenant, appkey)]);
  if (mustExist && !app && members.length === 0) throw appNotFound(tenant, appkey);
  const endpoints = endpointsOf(members, query);
  return { tenant, appkey, revision: revisionOf(endpoints), endpoints };
}

export interface WatchOptions extends EndpointsQuery {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Looked at again this often without a store change: host readiness changes with time. Default 2 s. */
  recheckMs?: number;
}

/** A wake-up that is not lost when it comes while nobody waits. */
class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;

  fire = (): void => {
    this.pending = true;
    this.resolve?.();
  };

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.resolve = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.resolve = done;
    });
  }
}

/**
 * Long poll: answers at once when the endpoints' revision differs from `revision`,
 * else when they change, else after `timeoutMs` with the same revision.
 */
export async function watchEndpoints(store: Store, tenant: string, appkey: string, revision: number, opts: WatchOptions): Promise<Endpoints> {
  const deadline = Date.now() + opts.timeoutMs;
  const since = await store.revision();
  let current = await readEndpoints(store, tenant, appkey, opts);
  if (current.revision !== revision) return current;
  const wakeup = new Wakeup();
  const watchers: Watcher[] = [];
  try {
    for (const prefix of [Keys.appSets(tenant, appkey), Keys.appStatuses(tenant, appkey)]) {
      watchers.push(await store.watch(prefix, wakeup.fire, { fromRevision: since + 1 }));
    }
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || opts.signal?.aborted) return current;
      await wakeup.wait(Math.min(left, opts.recheckMs ?? 2000), opts.signal);
      current = await readEndpoints(store, tenant, appkey, opts, false);
      if (current.revision !== revision) return current;
    }
  } finally {
    for (const w of watchers) w.cancel();
  }
}
