/**
 * Image garbage collection on the host: every pass (at most every --image-gc-interval)
 * notes which images are in use — by any container, running or stopped, or named by a
 * set placed on this host (whatever its state), or being pulled — and removes those
 * unused for --image-gc-after that the host can fetch again from a registry the
 * platform runs (`removable`: the platform registry, its mirrors and their upstreams).
 * Images from elsewhere (built or loaded by hand, other registries) and `keep` (the
 * infra image) are never removed. Docker does not record when an image was last used:
 * the usage record (usage-record.ts) does, from the passes.
 */
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { EngineError, type Engine, type LocalImage } from '../docker/engine.js';
import { withTag } from '../docker/reference.js';
import { failureKind } from '../failure-log.js';
import type { UsageRecord } from './usage-record.js';

export interface ImageGcOptions {
  engine: Engine;
  record: UsageRecord;
  log: Logger;
  /** An image unused for this long is removed. */
  unusedForMs: number;
  /** Whether the host can fetch an image of this name again (only such images are removed). */
  removable: (name: string) => boolean;
  /** Names sets placed on this host use or will use, and pulls under way; asked again right before each removal. */
  wanted: () => Iterable<string>;
  /** Never removed. */
  keep: string[];
  now?: () => number;
}

export interface RemovedImage {
  id: string;
  tags: string[];
  /** Docker's size of the image; layers it shared with images that stay are not freed. */
  size: number;
}

export class ImageGc {
  private readonly now: () => number;

  constructor(private readonly opts: ImageGcOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One pass; resolves with what it removed. */
  async pass(): Promise<RemovedImage[]> {
    const { engine, record, log } = this.opts;
    await record.load();
    const now = this.now();
    const [images, inContainers] = await Promise.all([engine.listImages(), engine.containerImageIds()]);
    const used = new Set(inContainers);
    const byName = new Map(images.flatMap((i) => [...i.tags, ...i.digests].map((n) => [n, i.id] as const)));
    const wantedIds = (): Set<string> => new Set([...this.opts.wanted(), ...this.opts.keep].flatMap((ref) => byName.get(withTag(ref)) ?? []));
    const wanted = wantedIds();
    const due: { image: LocalImage; unusedMs: number }[] = [];
    for (const image of images) {
      const inUse = used.has(image.id) || wanted.has(image.id);
      const usage = record.see(image.id, image.tags, inUse, now);
      if (inUse || now - usage.lastUsed < this.opts.unusedForMs) continue;
      if (usage.tags.length > 0 && usage.tags.every(this.opts.removable)) due.push({ image, unusedMs: now - usage.lastUsed });
    }

    const removed: RemovedImage[] = [];
    for (const { image, unusedMs } of due) {
      // A set placed here since the pass began may want it now.
      if (wantedIds().has(image.id)) continue;
      try {
        for (const ref of image.tags.length > 0 ? image.tags : [image.id]) await engine.removeImage(ref);
      } catch (err) {
        // Docker refuses while a container uses it (one made since the listing): it counts as used.
        if (err instanceof EngineError && err.statusCode === 409) record.see(image.id, image.tags, true, now);
        log.info({ image: image.tags[0] ?? image.id, kind: failureKind(err), err: err instanceof Error ? err.message : String(err) }, 'image GC kept an image Docker would not remove');
        continue;
      }
      removed.push({ id: image.id, tags: image.tags, size: image.size });
      log.info({ image: image.tags[0] ?? image.id, id: image.id, tags: image.tags, bytes: image.size, unusedSeconds: Math.round(unusedMs / 1000) }, 'image GC removed an unused image');
    }
    const gone = new Set(removed.map((r) => r.id));
    record.retain(new Set(images.map((i) => i.id).filter((id) => !gone.has(id))));
    await record.save();
    if (removed.length > 0) log.info({ removed: removed.length, bytes: removed.reduce((n, r) => n + r.size, 0) }, 'image GC pass');
    return removed;
  }

  /** A pass every `intervalMs` while `ready()` (the host knows which sets it runs), until `signal` aborts. */
  async run(intervalMs: number, signal: AbortSignal, ready: () => boolean): Promise<void> {
    while (!signal.aborted) {
      await sleep(intervalMs, signal);
      if (signal.aborted || !ready()) continue;
      await this.pass().catch((err: unknown) => this.opts.log.warn({ kind: failureKind(err), err: err instanceof Error ? err.message : String(err) }, 'image GC pass failed'));
    }
  }
}
