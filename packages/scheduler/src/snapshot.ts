/**
 * The indexed cluster: hosts in name order, struct-of-arrays for the numbers the hot
 * loop reads, and per-appkey counts per host, rack and zone that `assume` keeps
 * current in O(1). A plain `ClusterView` is indexed once (and remembered while the
 * same object is passed again); `assume` returns a view sharing that index.
 */
import type { HostCapacity } from '@wharf/types';
import type { ClusterView, Domain, HostView, PlacementRequest, Resource, Topology } from './framework.js';

/** Thrown when a view is used after `assume` has moved the cluster on from it: keep only the view `assume` returned. */
export class StaleViewError extends Error {
  constructor() {
    super('this ClusterView is stale: assume() has since returned a newer view; use that one');
    this.name = 'StaleViewError';
  }
}

/** Thrown by `assume` for a host that is not in the view. */
export class UnknownHostError extends Error {
  constructor(readonly host: string) {
    super(`no host named ${JSON.stringify(host)} in the view`);
    this.name = 'UnknownHostError';
  }
}

/** "busybox" and "busybox:latest" are the same image; digests and explicit tags are kept as given. */
export function normalizeImage(ref: string): string {
  if (ref.includes('@')) return ref;
  return ref.indexOf(':', ref.lastIndexOf('/') + 1) === -1 ? `${ref}:latest` : ref;
}

interface MutableHost extends HostView {
  readonly allocated: HostCapacity;
  readonly apps: Record<string, number>;
}

interface AppCounts {
  readonly host: Int32Array;
  readonly rack: Int32Array;
  readonly zone: Int32Array;
}

const RESOURCES: readonly Resource[] = ['cpu', 'memory', 'disk', 'bandwidth'];

/** A resource's amount; bandwidth a host does not state is unlimited, bandwidth a request does not state is none. */
export function amount(c: HostCapacity, r: Resource, missing: number): number {
  return c[r] ?? missing;
}

export class ClusterIndex implements Topology {
  readonly size: number;
  readonly hosts: readonly MutableHost[];
  readonly capacity: Record<Resource, Float64Array>;
  readonly allocated: Record<Resource, Float64Array>;
  readonly free: Record<Resource, Float64Array>;
  readonly schedulable: Uint8Array;
  /** Scratch for one scheduling cycle (schedule is synchronous, so one set per index is enough). */
  readonly selected: Uint8Array;
  readonly failedBy: Int16Array;
  readonly feasible: Int32Array;
  /** Bumped by every `place`; views remember the generation they were made at. */
  gen = 0;

  private readonly byName = new Map<string, number>();
  private readonly identity: Int32Array;
  private readonly zoneOf: Int32Array;
  private readonly rackOf: Int32Array;
  private readonly zoneNames: string[] = [];
  private readonly rackNames: string[] = [];
  private readonly apps = new Map<string, AppCounts>();
  private readonly zero: AppCounts;
  private readonly imageLists = new Map<string, number[]>();
  private readonly imageBits = new Map<string, Uint8Array>();

  constructor(source: readonly HostView[]) {
    const sorted = [...source].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const n = (this.size = sorted.length);
    this.identity = new Int32Array(n);
    this.zoneOf = new Int32Array(n);
    this.rackOf = new Int32Array(n);
    this.capacity = { cpu: new Float64Array(n), memory: new Float64Array(n), disk: new Float64Array(n), bandwidth: new Float64Array(n) };
    this.allocated = { cpu: new Float64Array(n), memory: new Float64Array(n), disk: new Float64Array(n), bandwidth: new Float64Array(n) };
    this.free = { cpu: new Float64Array(n), memory: new Float64Array(n), disk: new Float64Array(n), bandwidth: new Float64Array(n) };
    this.schedulable = new Uint8Array(n);
    this.selected = new Uint8Array(n);
    this.failedBy = new Int16Array(n);
    this.feasible = new Int32Array(n);
    const zones = new Map<string, number>();
    const racks = new Map<string, number>();
    const hosts: MutableHost[] = [];
    sorted.forEach((h, i) => {
      if (this.byName.has(h.name)) throw new Error(`two hosts named ${JSON.stringify(h.name)} in the view`);
      this.byName.set(h.name, i);
      this.identity[i] = i;
      this.zoneOf[i] = intern(zones, this.zoneNames, h.zone);
      this.rackOf[i] = intern(racks, this.rackNames, `${h.zone}/${h.rack}`);
      for (const r of RESOURCES) {
        this.capacity[r][i] = amount(h.capacity, r, Infinity);
        this.allocated[r][i] = amount(h.allocated, r, 0);
        this.free[r][i] = amount(h.capacity, r, Infinity) - amount(h.allocated, r, 0);
      }
      this.schedulable[i] = h.ready && !h.cordoned ? 1 : 0;
      for (const img of new Set(h.images.map(normalizeImage))) {
        const list = this.imageLists.get(img);
        if (list) list.push(i);
        else this.imageLists.set(img, [i]);
      }
      hosts.push({ ...h, allocated: { ...h.allocated }, apps: { ...h.apps } });
    });
    this.hosts = hosts;
    this.zero = this.newCounts();
    hosts.forEach((h, i) => {
      for (const [appkey, c] of Object.entries(h.apps)) if (c > 0) this.add(appkey, i, c);
    });
  }

  host(i: number): HostView {
    const h = this.hosts[i];
    if (!h) throw new RangeError(`no host number ${i}`);
    return h;
  }

  indexOf(name: string): number | undefined {
    return this.byName.get(name);
  }

  domainOf(by: Domain): Int32Array {
    return by === 'host' ? this.identity : by === 'rack' ? this.rackOf : this.zoneOf;
  }

  domainCount(by: Domain): number {
    return by === 'host' ? this.size : by === 'rack' ? this.rackNames.length : this.zoneNames.length;
  }

  domainName(by: Domain, d: number): string {
    const name = by === 'host' ? this.hosts[d]?.name : by === 'rack' ? this.rackNames[d] : this.zoneNames[d];
    return name ?? `#${d}`;
  }

  counts(appkey: string, by: Domain): Int32Array {
    return (this.apps.get(appkey) ?? this.zero)[by];
  }

  imageHosts(image: string): Uint8Array {
    const ref = normalizeImage(image);
    let bits = this.imageBits.get(ref);
    if (!bits) {
      bits = new Uint8Array(this.size);
      for (const i of this.imageLists.get(ref) ?? []) bits[i] = 1;
      this.imageBits.set(ref, bits);
    }
    return bits;
  }

  /** Accounts `req` on host `i`: O(1) plus one counts table the first time an appkey is seen. */
  place(i: number, req: PlacementRequest): void {
    const h = this.hosts[i];
    if (!h) throw new RangeError(`no host number ${i}`);
    for (const r of RESOURCES) {
      const n = amount(req.resources, r, 0);
      (this.allocated[r][i] as number) += n;
      (this.free[r][i] as number) -= n;
      if (n !== 0 || h.allocated[r] !== undefined) h.allocated[r] = amount(h.allocated, r, 0) + n;
    }
    h.apps[req.appkey] = (h.apps[req.appkey] ?? 0) + 1;
    this.add(req.appkey, i, 1);
    this.gen++;
  }

  private add(appkey: string, i: number, n: number): void {
    let c = this.apps.get(appkey);
    if (!c) this.apps.set(appkey, (c = this.newCounts()));
    (c.host[i] as number) += n;
    (c.rack[this.rackOf[i] as number] as number) += n;
    (c.zone[this.zoneOf[i] as number] as number) += n;
  }

  private newCounts(): AppCounts {
    return { host: new Int32Array(this.size), rack: new Int32Array(this.rackNames.length), zone: new Int32Array(this.zoneNames.length) };
  }
}

function intern(ids: Map<string, number>, names: string[], name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    ids.set(name, (id = names.length));
    names.push(name);
  }
  return id;
}

/** A view backed by a shared index; valid until `assume` moves the index on. */
class IndexedView implements ClusterView {
  readonly #index: ClusterIndex;
  readonly #gen: number;

  constructor(index: ClusterIndex) {
    this.#index = index;
    this.#gen = index.gen;
  }

  get hosts(): readonly HostView[] {
    return IndexedView.current(this).hosts;
  }

  static current(view: IndexedView): ClusterIndex {
    if (view.#index.gen !== view.#gen) throw new StaleViewError();
    return view.#index;
  }
}

/** Indexes of plain views, kept while the caller keeps the view (a view must not change once handed over). */
const indexes = new WeakMap<ClusterView, ClusterIndex>();

/** The index behind `view`, built on first use. */
export function topologyOf(view: ClusterView): ClusterIndex {
  if (view instanceof IndexedView) return IndexedView.current(view);
  let ix = indexes.get(view);
  if (!ix || ix.gen !== 0) {
    ix = new ClusterIndex(view.hosts);
    indexes.set(view, ix);
  }
  return ix;
}

/**
 * Indexes a view once, up front (optional: `schedule` and `assume` index a plain view
 * on first use). The result is an ordinary `ClusterView`.
 */
export function snapshot(view: ClusterView): ClusterView {
  if (view instanceof IndexedView) {
    IndexedView.current(view); // throws if stale
    return view;
  }
  return new IndexedView(topologyOf(view));
}

/**
 * The view after placing `req` on `host`: allocation and app counts updated, for the
 * next decision of the same pass. O(1): the returned view shares the index of `view`,
 * and `view` itself becomes stale if it came from `snapshot` or `assume` (using it
 * again throws `StaleViewError`). A plain view passed in is never changed.
 */
export function assume(view: ClusterView, host: string, req: PlacementRequest): ClusterView {
  const ix = topologyOf(view);
  if (!(view instanceof IndexedView)) indexes.delete(view);
  const i = ix.indexOf(host);
  if (i === undefined) throw new UnknownHostError(host);
  ix.place(i, req);
  return new IndexedView(ix);
}
