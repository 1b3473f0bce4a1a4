/**
 * Metrics shared by the servers of one store. The metrics history (history.ts) and the
 * custom metrics (custom.ts) live in each server's memory, fed by what reaches that
 * server: an agent heartbeats to whichever server it last reached, and a client pushes
 * to whichever one its load balancer picked. So each server passes on what it received
 * to every other server, once. Every server then holds the whole history: the leader's
 * autoscaler and apps controller, whichever server answers `GET /v1/metrics/…`, and a
 * server that takes the lead after a failover, which has the history already.
 *
 *   heartbeat / custom push ─► this server's history
 *            └─► batch ─(every 500 ms)─► POST /v1/relay/metrics on each peer ─► its history
 *                                        (what a peer receives it does not pass on)
 *
 * Peers are found in the store: each server puts `/servers/<name>` (its URL) when it
 * starts and deletes it when it stops; the list is read again every 10 s. A peer that
 * cannot be reached (killed before it could delete its record, or restarting) is skipped
 * for 10 s and then tried again; what it missed meanwhile is not sent again. After an
 * hour unreachable its record is deleted (a live server puts its own back). The calls
 * carry the admin token, which every server of a store shares (docs/operations.md).
 */
import type { Logger } from 'pino';
import type { Store } from '@wharf/store';
import type { MetricsReport, RelayedMetrics } from '@wharf/types';
import { Keys } from '../state/keys.js';

export interface ServerRecord {
  name: string;
  /** Where the server serves the API (its --advertise-url). */
  url: string;
  startedAt: string;
}

export type CustomSample = RelayedMetrics['custom'][number];

export interface PeersOptions {
  /** How long received metrics are gathered before they are sent on. Default 500 ms. */
  flushMs?: number;
  /** How long one relay call may take. Default 5 s. */
  timeoutMs?: number;
  /** How long an unreachable peer is skipped, and how often the list of servers is read. Default 10 s. */
  retryMs?: number;
  /** How long a peer may stay unreachable before its record is deleted (a server gone for good). Default 1 h. */
  forgetMs?: number;
  now?: () => number;
}

export const RELAY_PATH = '/v1/relay/metrics';

/** The calls to one peer. */
interface Lane {
  /** A call is in flight; `next` gathers what comes meanwhile. */
  busy: boolean;
  next?: RelayedMetrics | undefined;
  /** Skipped until then after a failed call. */
  downUntil: number;
  /** Since when its calls fail (its failure was logged, and not yet its recovery). */
  failingSince?: number | undefined;
}

export class MetricsPeers {
  private peers: ServerRecord[] = [];
  private refresher: NodeJS.Timeout | undefined;
  private readonly lanes = new Map<string, Lane>();
  private readonly inflight = new Set<Promise<void>>();
  private self: ServerRecord | undefined;
  private batch: Omit<RelayedMetrics, 'from'> = { hosts: [], custom: [] };
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushMs: number;
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly forgetMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly token: string,
    private readonly log: Logger,
    opts: PeersOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.retryMs = opts.retryMs ?? 10_000;
    this.forgetMs = opts.forgetMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  /** Registers this server (once it listens), so the others relay to it; what it receives is relayed from now on. */
  async start(self: ServerRecord): Promise<void> {
    await this.store.put(Keys.server(self.name), self);
    this.self = self;
    await this.refresh();
    this.refresher = setInterval(() => void this.refresh(), this.retryMs);
    this.refresher.unref();
  }

  /** Sends what is gathered, then deletes this server's record (unless another server took the name since). */
  async stop(): Promise<void> {
    const self = this.self;
    if (this.closed || !self) return;
    this.flush();
    this.closed = true;
    clearInterval(this.refresher);
    while (this.inflight.size > 0) await Promise.all(this.inflight);
    const kv = await this.store.get<ServerRecord>(Keys.server(self.name)).catch(() => undefined);
    if (kv?.value.url === self.url && kv.value.startedAt === self.startedAt) {
      await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }]).catch(() => undefined);
    }
  }

  /** A report an agent's heartbeat brought to this server. */
  hostReport(name: string, report: MetricsReport): void {
    this.add(() => this.batch.hosts.push({ name, report }));
  }

  /** A custom metric pushed to this server. */
  customSample(sample: CustomSample): void {
    this.add(() => this.batch.custom.push(sample));
  }

  private add(put: () => void): void {
    if (this.closed || !this.self) return;
    put();
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    if (!this.self || (batch.hosts.length === 0 && batch.custom.length === 0)) return;
    this.batch = { hosts: [], custom: [] };
    const from = this.self.name;
    for (const peer of this.peers) this.offer(peer, { from, ...batch });
  }

  /** Each peer has a lane of its own: one that is slow or gone holds up none of the others. */
  private offer(peer: ServerRecord, batch: RelayedMetrics): void {
    const lane = this.laneOf(peer.name);
    if (lane.downUntil > this.now()) return;
    if (lane.busy) {
      // Sent when the call in flight ends: at most one call per peer at a time, and one batch waiting.
      lane.next = lane.next ? { from: batch.from, hosts: [...lane.next.hosts, ...batch.hosts], custom: [...lane.next.custom, ...batch.custom] } : batch;
      return;
    }
    this.track(this.deliver(peer, lane, batch));
  }

  private async deliver(peer: ServerRecord, lane: Lane, first: RelayedMetrics): Promise<void> {
    lane.busy = true;
    try {
      for (let batch: RelayedMetrics | undefined = first; batch; batch = lane.next, lane.next = undefined) {
        const problem = await this.post(peer, batch);
        if (!problem) {
          if (lane.failingSince !== undefined) this.log.info({ peer: peer.name, url: peer.url }, 'metrics relay to the server works again');
          lane.failingSince = undefined;
          continue;
        }
        lane.downUntil = this.now() + this.retryMs;
        lane.next = undefined;
        // Once per outage: a peer that stays away would otherwise log every 10 s.
        if (lane.failingSince === undefined) this.log.warn({ peer: peer.name, url: peer.url, problem }, 'metrics relay to the server failed; it misses what this server receives until it answers (a server with another admin.token answers 401)');
        lane.failingSince ??= this.now();
        return;
      }
    } finally {
      lane.busy = false;
    }
  }

  /** What went wrong with one call, or undefined when the peer took the batch. */
  private post(peer: ServerRecord, batch: RelayedMetrics): Promise<string | undefined> {
    return fetch(new URL(RELAY_PATH, peer.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify(batch),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).then(async (res) => (res.ok ? undefined : `${res.status} ${(await res.text()).slice(0, 200)}`), (err: Error) => err.message);
  }

  private laneOf(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) this.lanes.set(name, (lane = { busy: false, downUntil: 0 }));
    return lane;
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /**
   * Reads the list of servers again; puts this server's record back if another server
   * deleted it, and deletes the record of a peer unreachable for `forgetMs` (it puts
   * its record back itself within `retryMs` if it was only cut off).
   */
  private async refresh(): Promise<void> {
    const self = this.self;
    if (!self || this.closed) return;
    try {
      const { items } = await this.store.list<ServerRecord>(Keys.serversPrefix);
      if (!items.some((kv) => kv.value.name === self.name)) await this.store.put(Keys.server(self.name), self);
      const peers: ServerRecord[] = [];
      for (const kv of items.filter((x) => x.value.name !== self.name)) {
        const since = this.lanes.get(kv.value.name)?.failingSince;
        if (since === undefined || this.now() - since < this.forgetMs) {
          peers.push(kv.value);
          continue;
        }
        this.log.warn({ peer: kv.value.name, url: kv.value.url, unreachableMs: this.now() - since }, 'forgetting a server long unreachable: its record is deleted');
        await this.store.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ type: 'delete', key: kv.key }]);
        this.lanes.delete(kv.value.name);
      }
      this.peers = peers;
      for (const name of this.lanes.keys()) if (!peers.some((p) => p.name === name)) this.lanes.delete(name);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'metrics relay: the list of servers could not be read; using the last one');
    }
  }
}
