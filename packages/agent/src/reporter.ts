/**
 * Sends set status to the server. Whatever is ready goes out in one POST right away
 * (next tick, no batching delay); what arrives while a POST is in flight goes in the
 * next one, sent as soon as the first returns. Events are kept until a report that
 * carries them succeeds (at most MAX_EVENTS per set). An unchanged status is not sent
 * again unless forced (full resync).
 */
import type { Logger } from 'pino';
import { WharfError, type SetEvent, type SetReport, type StatusReport } from '@wharf/types';
import { Backoff, sleep } from './backoff.js';
import type { SetIdentity } from './containers.js';
import { FailureLog } from './failure-log.js';
import type { ReportedStatus } from './reconciler.js';

export const MAX_EVENTS = 50;

interface Entry extends SetIdentity {
  /** The latest state to report: a status, or that the set is deleted. */
  state?: { status: ReportedStatus } | { deleted: true };
  stateJson?: string;
  sentJson?: string;
  events: SetEvent[];
}

export class StatusReporter {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private readonly backoff = new Backoff(250, 5_000);
  private readonly failures: FailureLog;
  private readonly abort = new AbortController();

  constructor(
    private readonly send: (report: StatusReport) => Promise<void>,
    private readonly log: Logger,
  ) {
    this.failures = new FailureLog(log, 'status report');
  }

  /** Records the set's latest state; `force` sends it even when it equals the last one sent. */
  update(ref: string, set: SetIdentity, state: Entry['state'], force = false): void {
    const entry = this.entry(ref, set);
    const json = JSON.stringify(state);
    entry.state = state;
    entry.stateJson = json;
    if (force || json !== entry.sentJson) this.markDirty(ref);
  }

  /** The latest state recorded for the set (sent or not). */
  latest(ref: string): Entry['state'] {
    return this.entries.get(ref)?.state;
  }

  addEvent(ref: string, set: SetIdentity, event: SetEvent): void {
    const entry = this.entry(ref, set);
    entry.events.push(event);
    if (entry.events.length > MAX_EVENTS) entry.events.splice(0, entry.events.length - MAX_EVENTS);
    this.markDirty(ref);
  }

  /** Forgets sets that are no longer placed here (their unsent events too). */
  retain(refs: ReadonlySet<string>): void {
    for (const ref of this.entries.keys()) {
      if (!refs.has(ref)) {
        this.entries.delete(ref);
        this.dirty.delete(ref);
      }
    }
  }

  /** Resolves when everything ready has been sent (or the reporter is closed). */
  async flushed(): Promise<void> {
    while ((this.dirty.size > 0 || this.inFlight) && !this.abort.signal.aborted) {
      await (this.inFlight ?? sleep(5));
    }
  }

  close(): void {
    this.abort.abort();
  }

  private entry(ref: string, set: SetIdentity): Entry {
    let e = this.entries.get(ref);
    if (!e) {
      e = { tenant: set.tenant, appkey: set.appkey, id: set.id, events: [] };
      this.entries.set(ref, e);
    }
    return e;
  }

  private markDirty(ref: string): void {
    this.dirty.add(ref);
    if (this.scheduled || this.inFlight || this.abort.signal.aborted) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.inFlight || this.dirty.size === 0 || this.abort.signal.aborted) return;
    this.inFlight = this.flushOnce().finally(() => {
      this.inFlight = undefined;
      this.kick();
    });
  }

  private async flushOnce(): Promise<void> {
    const refs = [...this.dirty];
    this.dirty.clear();
    const batch = refs.flatMap((ref) => {
      const e = this.entries.get(ref);
      if (!e) return [];
      const report: SetReport = { tenant: e.tenant, appkey: e.appkey, id: e.id, ...(e.state ?? {}) };
      const events = [...e.events];
      if (events.length > 0) report.events = events;
      return [{ ref, entry: e, report, events, json: e.stateJson }];
    });
    if (batch.length === 0) return;
    try {
      await this.sendBatch(batch.map((b) => b.report));
      this.failures.ok();
      this.backoff.reset();
      for (const b of batch) this.sent(b.entry, b.events, b.json);
    } catch (err) {
      if (err instanceof WharfError && err.status >= 400 && err.status < 500 && err.code !== 'UNAUTHORIZED') {
        await this.isolate(batch);
        return;
      }
      this.failures.fail(err);
      for (const b of batch) this.dirty.add(b.ref);
      await sleep(this.backoff.next(), this.abort.signal);
    }
  }

  private sendBatch(sets: SetReport[]): Promise<void> {
    return this.send({ sets });
  }

  /** The server refused the batch: send the sets one by one and drop the ones it refuses. */
  private async isolate(batch: { ref: string; entry: Entry; report: SetReport; events: SetEvent[]; json: string | undefined }[]): Promise<void> {
    for (const b of batch) {
      try {
        await this.sendBatch([b.report]);
        this.sent(b.entry, b.events, b.json);
      } catch (err) {
        if (err instanceof WharfError && err.status >= 400 && err.status < 500) {
          this.log.warn({ set: b.ref, err: err.message, code: err.code }, 'the server refused the status of this set; dropped');
          this.sent(b.entry, b.events, b.json);
        } else {
          this.failures.fail(err);
          this.dirty.add(b.ref);
        }
      }
    }
  }

  private sent(entry: Entry, events: SetEvent[], json: string | undefined): void {
    const sent = new Set(events);
    entry.events = entry.events.filter((e) => !sent.has(e));
    entry.sentJson = json;
  }
}
