/**
 * Keeps a joined host's certificate current: sleeps until it is due (a third of its
 * life left, or `--cert-renew-before`), renews it at the server (tls/identity.ts), and
 * hands the new identity on (the agent's client and its HTTPS server take it). A failed
 * renewal is tried again after 1 min, doubling up to 1 h; the old certificate works
 * until its end, and until the renewal is recorded.
 */
import type { Logger } from 'pino';
import { backoffDelay, sleep } from '../backoff.js';
import { renewalDue, renewIdentity, type HostIdentity } from './identity.js';

/** Looked at again at least this often (a clock that jumps, a long suspend). */
const RECHECK_MS = 6 * 3600_000;

export interface RenewalOptions {
  server: string;
  dir: string;
  beforeMs?: number | undefined;
  current: () => HostIdentity;
  renewed: (identity: HostIdentity) => void;
  log: Logger;
  signal: AbortSignal;
  /** For tests: what renews. */
  renew?: typeof renewIdentity;
}

export async function keepRenewed(o: RenewalOptions): Promise<void> {
  const renew = o.renew ?? renewIdentity;
  let failures = 0;
  let warned = false;
  while (!o.signal.aborted) {
    const wait = renewalDue(o.current().cert, o.beforeMs) - Date.now();
    if (wait > 0) {
      await sleep(Math.min(wait, RECHECK_MS), o.signal);
      continue;
    }
    try {
      const next = await renew({ server: o.server, dir: o.dir, current: o.current(), log: o.log });
      o.renewed(next);
      failures = 0;
      if (renewalDue(next.cert, o.beforeMs) <= Date.now()) {
        // The server issues certificates shorter than --cert-renew-before: renew no more often than this.
        if (!warned) o.log.warn('--cert-renew-before is longer than the certificates the server issues: renewing every 6 h');
        warned = true;
        await sleep(RECHECK_MS, o.signal);
      }
    } catch (err) {
      failures++;
      const delay = backoffDelay(failures, 60_000, 3600_000);
      o.log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'cannot renew the host certificate yet; trying again');
      await sleep(delay, o.signal);
    }
  }
}
