/**
 * Sums the progress messages of a Docker pull (one JSON object per line, per layer:
 * "Pulling fs layer", "Downloading" with current/total bytes, "Download complete",
 * "Extracting", "Pull complete", or "Already exists") into one PullProgress.
 */
import type { PullProgress } from './engine.js';

/** One line of Docker's pull stream. */
export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

interface Layer {
  current: number;
  total?: number;
  /** Its size, as the first download told it (a resumed download tells only what is left). */
  size?: number;
  /** Downloaded (it may still be extracting). */
  done: boolean;
  /** The host had it already: nothing to download. */
  exists: boolean;
}

/** Statuses that speak of one layer (others, like "Pulling from …" or "Digest: …", do not). */
const LAYER_STATUS = /^(Pulling fs layer|Waiting|Downloading|Verifying Checksum|Download complete|Extracting|Pull complete|Already exists|Retrying in .*)$/;
const DOWNLOADED = new Set(['Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);

export class PullTracker {
  private readonly layers = new Map<string, Layer>();

  /** Takes one message; true when it was about a layer. */
  feed(m: PullMessage): boolean {
    if (!m.id || !m.status || !LAYER_STATUS.test(m.status)) return false;
    let layer = this.layers.get(m.id);
    if (!layer) this.layers.set(m.id, (layer = { current: 0, done: false, exists: false }));
    if (m.status === 'Already exists') layer.exists = true;
    else if (m.status === 'Downloading') {
      const { current, total } = m.progressDetail ?? {};
      if (typeof total === 'number' && total > 0) layer.size ??= total;
      // After "Retrying", Docker resumes where it broke off and counts from there.
      const offset = layer.size !== undefined && typeof total === 'number' && total > 0 && total < layer.size ? layer.size - total : 0;
      if (typeof current === 'number') layer.current = offset + current;
      if (layer.size !== undefined) layer.total = layer.size;
    } else if (DOWNLOADED.has(m.status) && !layer.done) {
      layer.done = true;
      if (layer.total !== undefined) layer.current = layer.total;
    }
    return true;
  }

  progress(): PullProgress {
    const layers = [...this.layers.values()].filter((l) => !l.exists);
    const downloaded = layers.reduce((n, l) => n + l.current, 0);
    const known = layers.every((l) => l.total !== undefined || l.done);
    return {
      layers: layers.length,
      layersDone: layers.filter((l) => l.done).length,
      downloaded,
      ...(known && layers.length > 0 ? { total: layers.reduce((n, l) => n + (l.total ?? l.current), 0) } : {}),
    };
  }
}
