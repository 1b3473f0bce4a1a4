/**
 * Slows down password guessing: after `maxFailures` failed logins for one user from one
 * address within `windowMs`, further attempts are refused (429) until the window that
 * began with the first of them has passed; a success clears the count. A second,
 * looser limit per address covers guessing across user names.
 */
import { WharfError } from '@wharf/types';

interface Count {
  failures: number;
  since: number;
}

export interface LoginLimits {
  maxFailures: number;
  maxFailuresPerAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailures: 5, maxFailuresPerAddress: 30, windowMs: 60_000 };
/** Entries kept at most (old ones are dropped first): bounded memory under a flood of names. */
const MAX_ENTRIES = 10_000;

export class LoginLimiter {
  private readonly counts = new Map<string, Count>();

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws TOO_MANY_REQUESTS when this user from this address must wait. */
  check(address: string, user: string): void {
    const wait = Math.max(this.waitMs(`u:${address}|${user}`, this.limits.maxFailures), this.waitMs(`a:${address}`, this.limits.maxFailuresPerAddress));
    if (wait > 0) throw new WharfError('TOO_MANY_REQUESTS', `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`, { retryAfterSeconds: Math.ceil(wait / 1000) });
  }

  failed(address: string, user: string): void {
    for (const key of [`u:${address}|${user}`, `a:${address}`]) {
      const c = this.live(key);
      if (c) c.failures++;
      else this.counts.set(key, { failures: 1, since: this.now() });
    }
    while (this.counts.size > MAX_ENTRIES) this.counts.delete(this.counts.keys().next().value as string);
  }

  succeeded(address: string, user: string): void {
    this.counts.delete(`u:${address}|${user}`);
  }

  private live(key: string): Count | undefined {
    const c = this.counts.get(key);
    if (c && this.now() - c.since >= this.limits.windowMs) {
      this.counts.delete(key);
      return undefined;
    }
    return c;
  }

  private waitMs(key: string, max: number): number {
    const c = this.live(key);
    return c && c.failures >= max ? c.since + this.limits.windowMs - this.now() : 0;
  }
}
