/**
 * What Docker said about managed containers (their list, each one's inspection), kept
 * while its event stream is live. Every reconcile (each desired set at every resync,
 * 30 s) and the metrics inventory would otherwise ask dockerd to list and inspect every
 * container again though nothing changed. With the stream live, any event for a
 * container, or the agent's own change to one, drops that container's inspection and
 * the list; `maxAgeMs` bounds the rest (a network connected by hand sends no container
 * event). No stream, no cache: every lookup goes to Docker.
 */
interface Kept<T> {
  value: T;
  at: number;
}

export class ContainerCache<I, L> {
  private readonly inspections = new Map<string, Kept<I>>();
  private listed: Kept<L> | undefined;
  /**
   * Bumped by every invalidation and stream change. An answer is kept only when nothing
   * was invalidated while it was on its way (it may predate the event): conservative
   * while containers change, exact when they do not, and nothing that grows per id.
   */
  private version = 0;
  private live = false;

  constructor(
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The event stream is subscribed (true) or gone (false); either way, what was known is forgotten. */
  setLive(live: boolean): void {
    this.live = live;
    this.inspections.clear();
    this.listed = undefined;
    this.version++;
  }

  /** An event for the container, or the agent changed it: inspect it, and list, again. */
  invalidate(id: string): void {
    this.inspections.delete(id);
    this.listed = undefined;
    this.version++;
  }

  inspect(id: string, load: () => Promise<I | undefined>): Promise<I | undefined> {
    return this.through(this.inspections.get(id), load, (kept) => {
      if (kept) this.inspections.set(id, kept);
      else this.inspections.delete(id);
    });
  }

  list(load: () => Promise<L>): Promise<L> {
    return this.through(this.listed, load, (kept) => (this.listed = kept)) as Promise<L>;
  }

  get size(): number {
    return this.inspections.size;
  }

  private async through<T>(hit: Kept<T> | undefined, load: () => Promise<T | undefined>, keep: (kept: Kept<T> | undefined) => void): Promise<T | undefined> {
    if (this.live && hit && this.now() - hit.at <= this.maxAgeMs) return hit.value;
    const version = this.version;
    const at = this.now();
    const value = await load();
    if (value === undefined) keep(undefined);
    else if (this.live && this.version === version) keep({ value, at });
    return value;
  }
}
