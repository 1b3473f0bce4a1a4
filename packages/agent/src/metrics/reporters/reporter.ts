/**
 * The one small interface every metrics reporter implements (InfluxDB line protocol,
 * Graphite plaintext, Zabbix trapper, …). The hub (hub.ts) turns each collection
 * into points, filters them by the host's settings and hands them to every reporter
 * through a bounded buffer, so a reporter that is down never stalls collection.
 */

/** One measured value: `wharf.set.cpu` = 0.42 {tenant, appkey, set, host, zone, …}. */
export interface MetricPoint {
  /** Dotted name, e.g. wharf.set.cpu, wharf.container.memory, wharf.host.load1. */
  name: string;
  value: number;
  tags: Record<string, string>;
  /** Milliseconds since the epoch. */
  time: number;
}

export interface Reporter {
  /** For logs and the drop counter, e.g. "influx http://127.0.0.1:8086". */
  readonly name: string;
  /**
   * Delivers the points or rejects; the hub retries later with what its buffer still
   * holds, except after a RejectedPointsError (the points are dropped).
   */
  send(points: MetricPoint[]): Promise<void | SendResult>;
  close(): Promise<void>;
}

/** What a send may tell besides success: points the peer accepted the message for but refused one by one. */
export interface SendResult {
  /** Points the peer refused (e.g. Zabbix items that do not exist); sending them again would not help. */
  refused: number;
  /** The peer's own words, for the log. */
  detail?: string;
}

/**
 * Thrown by send() when the peer refused the points themselves (malformed, too large):
 * the hub drops them and counts them as dropped instead of retrying forever.
 */
export class RejectedPointsError extends Error {
  override readonly name = 'RejectedPointsError';
}
