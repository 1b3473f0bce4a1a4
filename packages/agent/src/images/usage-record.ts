/**
 * When each image on the host was last used — Docker does not record it — in
 * `<data-dir>/images.json`, with the names it had (so an image that lost its last
 * name to a newer pull is still known). Written whole (write, rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ImageUsage {
  /** ms since the epoch: last seen in use, or first seen. */
  lastUsed: number;
  /** Its names when it last had any. */
  tags: string[];
}

export class UsageRecord {
  private images = new Map<string, ImageUsage>();
  private loaded = false;

  constructor(private readonly file: string) {}

  static in(dataDir: string): UsageRecord {
    return new UsageRecord(join(dataDir, 'images.json'));
  }

  /** Reads the file once; a missing or damaged one is an empty record (every image counts as first seen now). */
  async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { images?: Record<string, { lastUsed?: unknown; tags?: unknown }> };
      for (const [id, u] of Object.entries(data.images ?? {})) {
        if (typeof u.lastUsed !== 'string' || !Array.isArray(u.tags)) continue;
        const lastUsed = Date.parse(u.lastUsed);
        if (!Number.isNaN(lastUsed)) this.images.set(id, { lastUsed, tags: u.tags.filter((t): t is string => typeof t === 'string') });
      }
    } catch {
      // none yet
    }
  }

  get(id: string): ImageUsage | undefined {
    return this.images.get(id);
  }

  /** Notes an image present now: used now (or, seen for the first time, counted from now), with its names. */
  see(id: string, tags: string[], used: boolean, now: number): ImageUsage {
    const before = this.images.get(id);
    const u = { lastUsed: used || !before ? now : before.lastUsed, tags: tags.length > 0 ? tags : (before?.tags ?? []) };
    this.images.set(id, u);
    return u;
  }

  /** Forgets images no longer on the host. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.images.keys()) if (!ids.has(id)) this.images.delete(id);
  }

  async save(): Promise<void> {
    const images = Object.fromEntries([...this.images].map(([id, u]) => [id, { lastUsed: new Date(u.lastUsed).toISOString(), tags: u.tags }]));
    await mkdir(dirname(this.file), { recursive: true });
    await writeFile(`${this.file}.tmp`, `${JSON.stringify({ images }, null, 1)}\n`);
    await rename(`${this.file}.tmp`, this.file);
  }
}
