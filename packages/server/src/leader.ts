/**
 * Leadership among the servers sharing a store. Every server serves the API; only the
 * leader runs the controllers (placement, apps, rollouts, autoscale, host lifecycle),
 * so no two servers act on the same change. On etcd the leader holds a lease of
 * `ttlSeconds`: when it dies, another server takes over once the lease runs out and
 * continues from the store (the controllers are level-triggered). On SQLite the one
 * server leads at once. The controllers write through the campaign's fenced store, so a
 * leader that lost its lease before noticing (a long pause, a partition from etcd) cannot
 * write beside its successor; such a refused write also ends its leadership here.
 *
 *   campaign ─▶ elected ─▶ start controllers ─▶ … lost (lease gone) ─▶ stop them ─▶ campaign again
 */
import type { Logger } from 'pino';
import type { Campaign, Store } from '@wharf/store';
import type { LeaderStatus } from './api/context.js';

export const LEADERSHIP = 'controllers';
export const DEFAULT_LEASE_SECONDS = 5;

export interface LeaderWork {
  /**
   * Starts the controllers on `store`: the store as this leader writes it, each write
   * applied only while the leadership holds (a stale leader's writes are refused).
   */
  start(store: Store): Promise<void>;
  stop(): void;
}

export class LeaderLoop {
  private campaign: Campaign | undefined;
  private closed = false;
  private leadingSince: string | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    /** Who this server is, as the others see it (`<hostname>:<port>` unless named). */
    readonly candidate: string,
    private readonly work: LeaderWork,
    private readonly log: Logger,
    private readonly ttlSeconds = DEFAULT_LEASE_SECONDS,
  ) {}

  /** Starts campaigning; returns at once (the work starts when this server is elected). */
  run(): void {
    if (this.closed) return;
    const campaign = this.store.campaign(LEADERSHIP, this.candidate, this.ttlSeconds);
    this.campaign = campaign;
    campaign.elected.then(
      async () => {
        if (this.closed || this.campaign !== campaign) return;
        this.leadingSince = new Date().toISOString();
        this.log.info({ candidate: this.candidate }, 'leading: the controllers run on this server');
        campaign.onLost((err) => this.lost(campaign, err));
        await this.work.start(campaign.fenced()).catch((err: unknown) => {
          // Controllers that cannot start: give the leadership to another server.
          this.log.error({ err: String(err) }, 'the controllers did not start; resigning');
          this.lost(campaign, err instanceof Error ? err : new Error(String(err)));
        });
      },
      (err: unknown) => {
        if (this.closed || this.campaign !== campaign) return;
        this.log.warn({ err: String(err) }, 'leader campaign failed; trying again');
        this.again();
      },
    );
  }

  /** Whether the controllers run here. */
  get leading(): boolean {
    return this.leadingSince !== undefined;
  }

  /** This server's view: its name, whether it leads and since when, and the leader's name. */
  async status(): Promise<LeaderStatus> {
    const leader = await this.store.leader(LEADERSHIP).catch(() => undefined);
    return { server: this.candidate, leading: this.leading, ...(leader ? { leader } : {}), ...(this.leadingSince ? { since: this.leadingSince } : {}) };
  }

  /** Stops the controllers and gives the leadership up (another server takes over at once). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.leading) this.work.stop();
    this.leadingSince = undefined;
    await this.campaign?.resign().catch(() => undefined);
  }

  private lost(campaign: Campaign, err: Error): void {
    if (this.closed || this.campaign !== campaign) return;
    // Another server may lead already: stop acting at once.
    this.work.stop();
    this.leadingSince = undefined;
    this.log.warn({ err: err.message }, 'leadership lost: the controllers stopped on this server; campaigning again');
    void campaign.resign().catch(() => undefined);
    this.again();
  }

  private again(): void {
    this.campaign = undefined;
    this.retry = setTimeout(() => this.run(), 1000);
  }
}
