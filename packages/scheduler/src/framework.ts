/**
 * The scheduler's vocabulary. It sees the cluster only through a read-only view
 * and returns a placement or the reasons why none exists; it does no I/O.
 */
import type { HostCapacity } from '@wharf/types';

/** What the scheduler knows of one host. */
export interface HostView {
  readonly name: string;
  readonly ready: boolean;
  readonly cordoned: boolean;
  readonly zone: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly capacity: Readonly<HostCapacity>;
  /** Sum of what the sets already placed there reserve. */
  readonly allocated: Readonly<HostCapacity>;
}

export interface ClusterView {
  readonly hosts: readonly HostView[];
}

/** What one set asks for. */
export interface PlacementRequest {
  /** tenant/appkey/id, for messages. */
  readonly set: string;
  readonly resources: Readonly<HostCapacity>;
}

/** A filter rejects a host with a reason a person can act on, or accepts it (undefined). */
export interface FilterPlugin {
  readonly name: string;
  filter(host: HostView, req: PlacementRequest): string | undefined;
}

/** A scorer rates an accepted host 0..100; higher is better. */
export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  score(host: HostView, req: PlacementRequest): number;
}

export interface Rejection {
  host: string;
  plugin: string;
  reason: string;
}

export type ScheduleResult =
  | { kind: 'placed'; host: string; score: number }
  | { kind: 'unschedulable'; reasons: Rejection[]; message: string };
