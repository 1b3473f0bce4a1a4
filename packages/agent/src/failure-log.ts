/**
 * Logs a failing loop once per kind of failure (not once per retry), and once when
 * it recovers.
 */
import type { Logger } from 'pino';
import { WharfError } from '@wharf/types';

/** A short kind for grouping: the API error code, the errno, or the error's name. */
export function failureKind(err: unknown): string {
  if (err instanceof WharfError) return err.code;
  // The client's ConnectionError says why in its (stable) message: refused, timed out…
  if (err instanceof Error && err.name === 'ConnectionError') return `unreachable (${/: ([^:]*)$/.exec(err.message)?.[1] ?? err.message})`;
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown; statusCode?: unknown };
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.statusCode === 'number') return `HTTP_${e.statusCode}`;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

export class FailureLog {
  private last: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  fail(err: unknown): void {
    const kind = failureKind(err);
    if (kind === this.last) return;
    this.last = kind;
    this.log.warn({ kind, err: err instanceof Error ? err.message : String(err) }, `${this.what} failed; retrying`);
  }

  ok(): void {
    if (this.last === undefined) return;
    this.last = undefined;
    this.log.info(`${this.what} recovered`);
  }
}
