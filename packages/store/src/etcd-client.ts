/**
 * How EtcdStore's etcd3 client reaches the members, and what a call does when one fails.
 *
 * - Each attempt of a call has a deadline of at most ATTEMPT_TIMEOUT_MS, so a member that
 *   hangs (stopped, cut off) costs that long and no more. A write caught by the death of
 *   etcd's leader (its proposal is lost with the leader and never answered) waits as long
 *   (etcd itself would hold it 7 s) and is then sent again. The deadline is short next to
 *   `requestTimeoutMs` because one call may meet both: a lost proposal on a live member,
 *   then the hung member itself, before the new leader takes the write.
 * - An attempt that fails in a way another member, or the same one a moment later, may not
 *   (unreachable, timed out, no leader, leader changed: etcd3's "recoverable" errors) is
 *   tried again with back-off (50 ms, doubling to 1 s), on the next member, until
 *   `requestTimeoutMs` have passed since the call began; the attempt under way then (or one
 *   begun at the end of the back-off under way) runs to its own deadline. etcd3's default,
 *   three retries at once, is spent within the milliseconds of a leader election and failed
 *   writes while a member was down.
 * - Each member has a circuit breaker: after 3 failed attempts in a row it is skipped, and
 *   tried again by one call after about 1 s, then 2, 4 and at most 5 s while it stays down
 *   (short, so that etcd back after an outage is used within seconds). When every member
 *   is skipped, the call waits and tries again like after a failed attempt.
 * - What still fails for one of these reasons becomes a StoreUnavailableError naming the
 *   endpoints (`unavailableOr`).
 * - Watch streams require a leader (`LeaderWatchingEtcd3`).
 */
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { Etcd3, WatchClient, isRecoverableError, type ICallable, type IOptions } from 'etcd3';
import { StoreUnavailableError } from './store.js';

/** How to reach a secured etcd: TLS (the CA that signed etcd's certificate, a client certificate) and user auth. */
export interface EtcdAccess {
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
}

export interface EtcdClientOptions extends EtcdAccess {
  hosts: string[];
  /** How long one call keeps trying, across members. */
  requestTimeoutMs: number;
}

/** The longest one attempt of a call may take: etcd answers in milliseconds when it can. */
const ATTEMPT_TIMEOUT_MS = 2_000;

/** An error worth another attempt: the member or the cluster could not serve it now. */
function transient(err: unknown): boolean {
  return err instanceof Error && (isRecoverableError(err) || isBrokenCircuitError(err));
}

export function toEtcd3Options(opts: EtcdClientOptions): IOptions {
  const attemptMs = Math.min(ATTEMPT_TIMEOUT_MS, opts.requestTimeoutMs);
  return {
    hosts: opts.hosts,
    ...(opts.tls
      ? {
          credentials: {
            rootCertificate: opts.tls.ca,
            ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}),
            ...(opts.tls.key ? { privateKey: opts.tls.key } : {}),
          },
        }
      : {}),
    ...(opts.auth ? { auth: { username: opts.auth.username, password: opts.auth.password } } : {}),
    // Watch streams live forever; every other attempt gets a deadline so a hung member cannot stall us.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + attemptMs }),
    faultHandling: {
      global: wrap(
        // Cooperative: no back-off after a failure once the time is up, and the last attempt's error is what the call throws.
        timeout(opts.requestTimeoutMs, TimeoutStrategy.Cooperative),
        retry(handleWhen(transient), { maxAttempts: Infinity, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) }),
      ),
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 5_000 }),
          breaker: new ConsecutiveBreaker(3),
        }),
    },
  };
}

/** The reason in a gRPC error's message (some end with an empty "Resolution note: "). */
export function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*Resolution note:\s*$/, '');
}

/** `err` as a StoreUnavailableError naming the endpoints when etcd could not serve the call; otherwise `err` itself. */
export function unavailableOr(err: unknown, hosts: string[]): unknown {
  return transient(err) ? new StoreUnavailableError(`etcd at ${hosts.join(',')}: ${reasonOf(err)}`) : err;
}

/**
 * etcd3's client whose watch streams require a leader (`leaderWatch`), as etcd's Go
 * client's WithRequireLeader: the gRPC metadata `hasleader: true`. A member cut off from
 * the others has no leader and gets no new entries; without the flag it keeps the watch
 * open and silent. With it, etcd refuses such a stream at once, and ends one that is open
 * after three election timeouts with "no leader", so the feed resumes it on another member.
 */
export class LeaderWatchingEtcd3 extends Etcd3 {
  readonly leaderWatch = new WatchClient(requireLeader(this.pool));
}

function requireLeader<T>(pool: ICallable<T>): ICallable<T> {
  return {
    exec: (service, method, params, options) => pool.exec(service, method, params, options),
    withConnection: (service, fn) =>
      pool.withConnection(service, (args) => {
        const metadata = args.metadata.clone();
        metadata.set('hasleader', 'true');
        return fn({ ...args, metadata });
      }),
    markFailed: (resource, error) => pool.markFailed(resource, error),
    get callOptionsFactory() {
      return pool.callOptionsFactory;
    },
  };
}
