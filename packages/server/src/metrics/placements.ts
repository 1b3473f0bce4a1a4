/**
 * Where every set is placed, from a watch on `/sets/`: the fence of metrics
 * ingestion (a host's figures count only for the sets placed on it). The same
 * watches tell when a set or a host is deleted, so its series is forgotten.
 */
import type { Store, Watcher } from '@wharf/store';
import { setRef, type SetObject } from '@wharf/types';
import { Keys } from '../state/keys.js';
import type { SetIdentity } from './history.js';

export interface GoneListener {
  setGone(s: SetIdentity): void;
  hostGone(host: string): void;
}

export class SetPlacements {
  private readonly hostBySet = new Map<string, string>();
  private watchers: Watcher[] = [];

  constructor(
    private readonly store: Store,
    private readonly gone: GoneListener,
  ) {}

  async start(): Promise<void> {
    const { items, revision } = await this.store.list<SetObject>(Keys.setsPrefix);
    for (const kv of items) this.place(kv.value);
    this.watchers.push(
      await this.store.watch<SetObject>(Keys.setsPrefix, (ev) => {
        if (ev.type === 'put') return this.place(ev.kv.value);
        this.hostBySet.delete(setRef(ev.kv.value));
        this.gone.setGone(ev.kv.value);
      }, { fromRevision: revision + 1 }),
      await this.store.watch(Keys.hostsPrefix, (ev) => {
        if (ev.type === 'delete') this.gone.hostGone(ev.kv.key.slice(Keys.hostsPrefix.length));
      }, { fromRevision: revision + 1 }),
    );
  }

  stop(): void {
    for (const w of this.watchers) w.cancel();
    this.watchers = [];
  }

  /** The host the set is placed on; undefined when it is not placed (or unknown). */
  hostOf(s: SetIdentity): string | undefined {
    return this.hostBySet.get(setRef(s));
  }

  private place(s: SetObject): void {
    if (s.host) this.hostBySet.set(setRef(s), s.host);
    else this.hostBySet.delete(setRef(s));
  }
}
