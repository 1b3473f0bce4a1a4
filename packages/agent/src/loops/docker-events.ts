/** Follows Docker's event stream for managed containers; re-subscribes when it ends (dockerd restarted). */
import type { Logger } from 'pino';
import { Backoff, sleep } from '../backoff.js';
import type { Engine, EngineEvent } from '../docker/engine.js';
import { FailureLog } from '../failure-log.js';

export interface EventsDeps {
  engine: Engine;
  log: Logger;
  signal: AbortSignal;
  onEvent: (e: EngineEvent) => void;
  /** After a re-subscription: events may have been missed, resync everything. */
  onResubscribed: () => void;
}

export async function dockerEventsLoop(d: EventsDeps): Promise<void> {
  const backoff = new Backoff(200, 5_000);
  const failures = new FailureLog(d.log, 'docker event stream');
  let first = true;
  while (!d.signal.aborted) {
    const since = Date.now();
    try {
      if (!first) d.onResubscribed();
      first = false;
      await d.engine.watchEvents(d.onEvent, d.signal);
      if (d.signal.aborted) return;
      d.log.warn('docker event stream ended; subscribing again');
      failures.ok();
    } catch (err) {
      if (d.signal.aborted) return;
      failures.fail(err);
    }
    if (Date.now() - since > 10_000) backoff.reset();
    await sleep(backoff.next(), d.signal);
  }
}
