/** Exponential back-off and an abortable sleep. */

/** The delay after the n-th failure in a row (n ≥ 1): firstMs, ×2 each further one, capped at maxMs. */
export function backoffDelay(n: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(n - 1, 0), 30));
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 200,
    private readonly maxMs = 5_000,
  ) {}

  /** The next delay: initial, ×2 each failure, capped at max. */
  next(): number {
    this.attempt = Math.min(this.attempt + 1, 30);
    return backoffDelay(this.attempt, this.initialMs, this.maxMs);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Waits for `p`, but at most `ms` (without keeping the process alive afterwards). */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  const done = new AbortController();
  await Promise.race([p.then(() => undefined, () => undefined), sleep(ms, done.signal)]);
  done.abort();
}
