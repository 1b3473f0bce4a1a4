/**
 * The desired-state long poll: `desiredSets(host, rev)` answers at once when the
 * server is past `rev`, else holds the request until a change or the wait expires.
 */
import type { Logger } from 'pino';
import type { WharfClient } from '@wharf/client';
import { WharfError, type DesiredSets } from '@wharf/types';
import { Backoff, sleep } from '../backoff.js';
import { FailureLog } from '../failure-log.js';

export interface DesiredDeps {
  client: Pick<WharfClient, 'desiredSets'>;
  host: string;
  waitSeconds: number;
  log: Logger;
  signal: AbortSignal;
  /** The whole answer: the sets, and the host's network attachments and the sets' firewalls. */
  onSets: (answer: DesiredSets) => void;
}

export async function desiredLoop(d: DesiredDeps): Promise<void> {
  const backoff = new Backoff(200, 5_000);
  const failures = new FailureLog(d.log, 'desired-state poll');
  let revision = 0;
  while (!d.signal.aborted) {
    try {
      const asked = Date.now();
      const answer = await d.client.desiredSets(d.host, revision, { waitSeconds: d.waitSeconds, signal: d.signal });
      failures.ok();
      backoff.reset();
      // Only a new revision carries news; a timed-out wait returns the same sets again.
      const news = answer.revision !== revision || revision === 0;
      revision = answer.revision;
      if (news) d.onSets(answer);
      // A server that does not hold the request must not turn this into a busy loop.
      else if (Date.now() - asked < 500) await sleep(1_000, d.signal);
    } catch (err) {
      if (d.signal.aborted) return;
      if (err instanceof WharfError && err.code === 'REVISION_COMPACTED') {
        d.log.info({ revision }, 'revision compacted; fetching everything again');
        revision = 0;
        continue;
      }
      failures.fail(err);
      await sleep(backoff.next(), d.signal);
    }
  }
}
