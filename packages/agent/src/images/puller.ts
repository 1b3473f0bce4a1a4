/**
 * Gets images onto the host. One pull per image at a time (asking again joins the pull
 * under way), at most `concurrency` pulls at once; an image on a registry the platform
 * mirrors is fetched from the mirror and named as asked; every set waiting for a pull
 * gets its progress as events (`Pulling` at the start and at 25/50/75 % of the bytes,
 * `Pulled` with the time and size); after a failure the image is not pulled again for
 * a while (5 s, doubling, at most `maxBackoffMs`), so a missing image costs a quick
 * failure per retry rather than a pull.
 *
 *   reconcile (ensure) ─┐                                ┌─▶ mirror ref ─▶ tag as asked
 *   pre-pull ───────────┼─▶ pull per image ─▶ limiter ──┤   (its failure: the image itself)
 *                       │   (subscribers by set)        └─▶ the image itself
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { formatBytes, imageRegistry } from '@wharf/types';
import { backoffDelay } from '../backoff.js';
import type { Engine, PullProgress } from '../docker/engine.js';
import { Limiter } from '../health/limiter.js';

export interface PullEvent {
  type: 'Normal';
  reason: 'Pulling' | 'Pulled';
  message: string;
}

/** Who waits for a pull, one per set (`key`): a later subscriber with the same key replaces the earlier one. */
export interface PullSubscriber {
  key: string;
  onEvent(e: PullEvent): void;
}

/** An image could not be pulled (now, or lately: `retryAt` is when it will be tried again). */
export class ImagePullError extends Error {
  override name = 'ImagePullError';

  constructor(
    readonly image: string,
    /** Docker's reason. */
    readonly reason: string,
    readonly retryAt: number,
  ) {
    super(`cannot pull image ${image}: ${reason}`);
  }
}

export interface ImagePullerOptions {
  engine: Engine;
  log: Logger;
  /** Pulls at once. Default 3 */
  concurrency?: number;
  /** A pull without progress for this long is given up. Default 60 s */
  stallTimeoutMs?: number;
  /** The name to fetch `image` by from a mirror of its registry, if the platform runs one. */
  mirrorFor?: (image: string) => Promise<string | undefined>;
  /** The longest wait before an image that failed is pulled again. Default 60 s */
  maxBackoffMs?: number;
  now?: () => number;
}

/** Percentages of the download told as events, besides the start and the end. */
const STEPS = [25, 50, 75];
const FIRST_BACKOFF_MS = 5_000;

interface Pull {
  image: string;
  /** The names it is fetched by (the image's, a mirror's). */
  names: Set<string>;
  subscribers: Map<string, PullSubscriber>;
  /** The start event once the pull has a slot, for subscribers that come later. */
  started?: PullEvent;
  done: Promise<void>;
}

interface Failure {
  count: number;
  until: number;
  reason: string;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const bytes = (n: number): string => (n >= 1024 ? formatBytes(n) : `${n}B`);

export class ImagePuller {
  private readonly pulls = new Map<string, Pull>();
  private readonly failures = new Map<string, Failure>();
  private readonly limiter: Limiter;
  private readonly abort = new AbortController();
  private readonly now: () => number;

  constructor(private readonly opts: ImagePullerOptions) {
    this.limiter = new Limiter(opts.concurrency ?? 3);
    this.now = opts.now ?? Date.now;
  }

  /** Every name being pulled now (the images, and the mirror names they are fetched by). */
  pulling(): string[] {
    return [...this.pulls.values()].flatMap((p) => [...p.names]);
  }

  /**
   * Makes sure `image` is on the host: resolves false at once when it is, else pulls it
   * (or joins the pull under way) and resolves true. Throws ImagePullError.
   */
  async ensure(image: string, subscribers: PullSubscriber[] = []): Promise<boolean> {
    let pull = this.pulls.get(image);
    if (!pull) {
      if (await this.opts.engine.hasImage(image)) {
        this.failures.delete(image);
        return false;
      }
      pull = this.pulls.get(image);
    }
    if (!pull) {
      const failed = this.failures.get(image);
      if (failed && this.now() < failed.until) throw new ImagePullError(image, failed.reason, failed.until);
      if (this.abort.signal.aborted) throw new ImagePullError(image, 'the agent is stopping', this.now());
      pull = this.start(image);
    }
    for (const s of subscribers) this.join(pull, s);
    await pull.done;
    return true;
  }

  /** Pulls `image` in the background unless the host has it; a failure is left for the sets' reconciles to tell. */
  prePull(image: string, subscribers: PullSubscriber[]): void {
    if (this.abort.signal.aborted) return;
    this.ensure(image, subscribers).then(
      (pulled) => pulled && this.opts.log.debug({ image, sets: subscribers.map((s) => s.key) }, 'image pre-pulled'),
      (err: unknown) => this.opts.log.debug({ image, err: errorText(err) }, 'image pre-pull failed'),
    );
  }

  /** Cancels the pulls under way. */
  close(): void {
    this.abort.abort();
  }

  private join(pull: Pull, s: PullSubscriber): void {
    const known = pull.subscribers.has(s.key);
    pull.subscribers.set(s.key, s);
    if (!known && pull.started) s.onEvent(pull.started);
  }

  private emit(pull: Pull, e: PullEvent): void {
    for (const s of pull.subscribers.values()) s.onEvent(e);
  }

  private start(image: string): Pull {
    const pull: Pull = { image, names: new Set([image]), subscribers: new Map(), done: Promise.resolve() };
    this.pulls.set(image, pull);
    pull.done = this.limiter.run(() => this.fetch(pull)).then(
      () => {
        this.failures.delete(image);
      },
      (err: unknown) => {
        const count = (this.failures.get(image)?.count ?? 0) + 1;
        const failure = { count, until: this.now() + backoffDelay(count, FIRST_BACKOFF_MS, this.opts.maxBackoffMs ?? 60_000), reason: errorText(err) };
        this.failures.set(image, failure);
        this.opts.log.info({ image, err: failure.reason, retryInMs: failure.until - this.now() }, 'image pull failed');
        throw new ImagePullError(image, failure.reason, failure.until);
      },
    ).finally(() => this.pulls.delete(image));
    // Its waiters get the error; a pull nobody waits for must not become an unhandled rejection.
    pull.done.catch(() => undefined);
    return pull;
  }

  private async fetch(pull: Pull): Promise<void> {
    const { engine, log } = this.opts;
    const { image } = pull;
    const t0 = performance.now();
    const mirrored = await this.opts.mirrorFor?.(image);
    pull.started = { type: 'Normal', reason: 'Pulling', message: `Pulling image ${image}${mirrored ? ` from the mirror ${imageRegistry(mirrored)}` : ''}` };
    this.emit(pull, pull.started);
    let last: PullProgress | undefined;
    let step = 0;
    const attempt = (ref: string) => engine.pull(ref, {
      stallTimeoutMs: this.opts.stallTimeoutMs ?? 60_000,
      signal: this.abort.signal,
      onProgress: (p) => {
        last = p;
        if (!p.total) return;
        const percent = Math.floor((p.downloaded * 100) / p.total);
        let crossed = false;
        while (step < STEPS.length && percent >= STEPS[step]!) {
          step++;
          crossed = true;
        }
        if (crossed && percent < 100) this.emit(pull, { type: 'Normal', reason: 'Pulling', message: `Pulling image ${image}: ${percent}% (${bytes(p.downloaded)} of ${bytes(p.total)})` });
      },
    });
    if (mirrored) {
      pull.names.add(mirrored);
      try {
        await attempt(mirrored);
        await engine.tagImage(mirrored, image);
      } catch (err) {
        log.warn({ image, mirror: mirrored, err: errorText(err) }, 'pull through the mirror failed; pulling from the upstream itself');
        await attempt(image).catch((direct: unknown) => {
          throw new Error(`${errorText(direct)} (through the mirror: ${errorText(err)})`);
        });
      }
      // The image keeps the name it was asked by, which is what sets and the heartbeat use.
      await engine.removeImage(mirrored).catch((err: unknown) => log.debug({ ref: mirrored, err: errorText(err) }, 'cannot drop the mirror name'));
    } else {
      await attempt(image);
    }
    const seconds = (performance.now() - t0) / 1000;
    const size = (await engine.inspectImage(image).catch(() => undefined))?.size;
    const downloaded = last?.downloaded ?? 0;
    log.info({ image, ...(mirrored ? { mirror: mirrored } : {}), seconds: Number(seconds.toFixed(2)), size, downloaded }, 'image pulled');
    const facts = [size !== undefined ? bytes(size) : undefined, `${bytes(downloaded)} downloaded`].filter(Boolean).join(', ');
    this.emit(pull, { type: 'Normal', reason: 'Pulled', message: `Pulled image ${image} in ${seconds.toFixed(1)}s (${facts})` });
  }
}
