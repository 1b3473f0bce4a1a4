/**
 * The scheduler's vocabulary. It sees the cluster only through a read-only view
 * and returns a placement or the reasons why none exists; it does no I/O.
 *
 * Plugins follow the Kubernetes scheduler framework, cut down: a filter or scorer
 * is *prepared* once per request (PreFilter / PreScore: read the request, look
 * things up in the indexes) and returns a small per-host function that the
 * framework calls in its hot loop. Hosts are numbered 0..size-1 in name order.
 */
import type { HostCapacity, PlacementSpec } from '@wharf/types';

/** What the scheduler knows of one host. */
export interface HostView {
  readonly name: string;
  readonly ready: boolean;
  readonly cordoned: boolean;
  readonly zone: string;
  /** Rack name within the zone (rack "r1" in zone "a" and "r1" in zone "b" are different racks). */
  readonly rack: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Image references the host already holds. */
  readonly images: readonly string[];
  readonly capacity: Readonly<HostCapacity>;
  /** Sum of what the sets already placed there reserve. */
  readonly allocated: Readonly<HostCapacity>;
  /** Sets per appkey already on the host. */
  readonly apps: Readonly<Record<string, number>>;
  /** Platform networks the host attaches sets to (absent: none). */
  readonly networks?: readonly string[];
}

/** A snapshot of the cluster. Do not change it after handing it to the scheduler: account a placement with `assume`. */
export interface ClusterView {
  readonly hosts: readonly HostView[];
}

/** What one set asks for. */
export interface PlacementRequest {
  /** tenant/appkey/id, for messages. */
  readonly set: string;
  readonly appkey: string;
  readonly resources: Readonly<HostCapacity>;
  readonly images: readonly string[];
  readonly placement?: PlacementSpec;
  /** Platform networks the set has or needs IPs on: only hosts reaching all of them fit. */
  readonly networks?: readonly string[];
}

/** A host without a bandwidth capacity is not limited; a request without bandwidth asks for none. */
export type Resource = keyof Required<HostCapacity>;
/** A topology domain kind: what `placement.spread.by` spreads over. */
export type Domain = 'host' | 'rack' | 'zone';

/**
 * The cluster as plugins see it: hosts numbered 0..size-1 in name order, with the
 * indexes `assume` keeps current. Everything here is read-only for plugins.
 */
export interface Topology {
  readonly size: number;
  host(i: number): HostView;
  /** 1 for a host that is ready and not cordoned. */
  readonly schedulable: Uint8Array;
  /** Per host, by resource; `free` is capacity − allocated (negative when overcommitted). */
  readonly capacity: Readonly<Record<Resource, Float64Array>>;
  readonly allocated: Readonly<Record<Resource, Float64Array>>;
  readonly free: Readonly<Record<Resource, Float64Array>>;
  /** Host number → its domain number of kind `by` ('host': the host number itself). */
  domainOf(by: Domain): Int32Array;
  domainCount(by: Domain): number;
  /** "z1", "z1/r07" or the host name. */
  domainName(by: Domain, d: number): string;
  /** Sets of `appkey` per domain of kind `by` (all zero for an appkey with no sets). */
  counts(appkey: string, by: Domain): Int32Array;
  /** 1 for every host that holds `image` (references are compared as normalized by `normalizeImage`). */
  imageHosts(image: string): Uint8Array;
}

/** One scheduling cycle: one request against one topology. */
export interface Cycle {
  readonly topology: Topology;
  readonly req: PlacementRequest;
  /** `req.placement`, or `{}`. */
  readonly placement: PlacementSpec;
  /** 1 for hosts that pass every 'select' filter. Valid for 'topology' filters and for scorers. */
  readonly selected: Uint8Array;
  /** The first `feasibleCount` entries are the hosts that passed the filters so far, in name order. */
  readonly feasible: Int32Array;
  readonly feasibleCount: number;
}

/** Why a host does not fit, built only when the set turns out unschedulable. */
export interface Failure {
  /** Hosts failing with the same kind are counted together in the message. */
  readonly kind: string;
  /** This host's own detail, for `reasons[]`. */
  readonly reason: string;
}

/** A filter prepared for one request. */
export interface HostFilter {
  /** Hot path: does host `i` pass? No allocation, no string building. */
  pass(i: number): boolean;
  /** Slow path: why host `i` does not pass. */
  explain(i: number): Failure;
  /** Slow path: the message text for several hosts that failed with the same kind (default: the kind). */
  group?(kind: string, hosts: readonly number[]): string;
}

/**
 * Stages run in this order, whatever the order in the profile:
 * - `select`: where the spec allows the set (zones, labels, affinity). Hosts passing
 *   every select filter are the *selected* hosts whose domains count for hard spread;
 * - `check`: whether the host can take it now (health, free resources);
 * - `topology`: sees `cycle.selected` and the hosts that passed the others.
 */
export type FilterStage = 'select' | 'check' | 'topology';

export interface FilterPlugin {
  readonly name: string;
  readonly stage: FilterStage;
  /** PreFilter: the per-host check for this request, or undefined when the plugin has nothing to check. */
  prepare(cycle: Cycle): HostFilter | undefined;
}

/** A scorer rates feasible hosts 0..100 (higher is better); the framework multiplies by `weight`. */
export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** PreScore (after filtering): the per-host score for this request, or undefined when the plugin does not apply. */
  prepare(cycle: Cycle): ((i: number) => number) | undefined;
}

export interface Profile {
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorePlugin[];
}

export interface Rejection {
  host: string;
  plugin: string;
  /** Groups hosts in `message`. */
  kind: string;
  reason: string;
}

export type ScheduleResult =
  | { kind: 'placed'; host: string; score: number }
  | { kind: 'unschedulable'; reasons: Rejection[]; message: string };
