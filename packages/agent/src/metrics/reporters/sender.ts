/**
 * One reporter's delivery loop: takes the oldest buffered points in chunks and sends
 * them, one send at a time; when the reporter is down, puts them back and tries again
 * after a growing pause. Publishing only appends to the buffer, so nothing waits here.
 */
import { PointBuffer } from './buffer.js';
import type { ReporterLog } from './log.js';
import { RejectedPointsError, type MetricPoint, type Reporter, type SendResult } from './reporter.js';

export interface SenderOptions {
  capacity: number;
  chunkSize: number;
  /** Pause after the first failed send, doubled after each further one up to maxMs. */
  retry: { firstMs: number; maxMs: number };
  /** How long close() keeps delivering what is buffered while the reporter answers. */
  closeFlushMs: number;
  log: ReporterLog;
  now: () => number;
}

/** Refused points are logged at most this often per reporter. */
const REFUSED_LOG_EVERY_MS = 60_000;

export class ReporterSender {
  private readonly buffer: PointBuffer;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private failures = 0;
  private closing = false;
  private closeDeadline = 0;
  private endPause: (() => void) | undefined;
  private lastRefusedLog = -Infinity;

  constructor(readonly reporter: Reporter, private readonly o: SenderOptions) {
    this.buffer = new PointBuffer(o.capacity);
  }

  get dropped(): number {
    return this.buffer.dropped;
  }

  get buffered(): number {
    return this.buffer.size;
  }

  /** Whether the last send failed. */
  get down(): boolean {
    return this.failures > 0;
  }

  enqueue(points: readonly MetricPoint[]): void {
    if (this.closing || points.length === 0) return;
    this.buffer.push(points);
    if (!this.running) {
      this.running = true;
      this.loop = this.run();
    }
  }

  /** Delivers what is buffered for up to closeFlushMs (unless the reporter is down), then closes the reporter. */
  async close(): Promise<void> {
    this.closing = true;
    this.closeDeadline = this.o.now() + this.o.closeFlushMs;
    this.endPause?.();
    await settledWithin(this.loop, this.o.closeFlushMs);
    // Closing the reporter ends a send still in flight; one that would not end is not waited for long.
    await settledWithin(this.reporter.close(), this.o.closeFlushMs);
    await settledWithin(this.loop, 100);
  }

  private async run(): Promise<void> {
    try {
      while (this.buffer.size > 0) {
        if (this.closing && (this.down || this.o.now() >= this.closeDeadline)) return;
        const chunk = this.buffer.take(this.o.chunkSize);
        try {
          const result = await this.reporter.send(chunk);
          this.delivered(result);
        } catch (err) {
          if (err instanceof RejectedPointsError) {
            this.buffer.drop(chunk.length);
            this.o.log.warn({ reporter: this.reporter.name, points: chunk.length, err: err.message }, 'metrics reporter refused the points; dropped');
            continue;
          }
          this.buffer.putBack(chunk);
          this.failed(err);
          if (this.closing) return;
          await this.pause(this.retryDelay());
        }
      }
    } finally {
      this.running = false;
    }
  }

  private delivered(result: void | SendResult): void {
    if (this.failures > 0) this.o.log.info({ reporter: this.reporter.name, buffered: this.buffer.size }, 'metrics reporter is back');
    this.failures = 0;
    if (result && result.refused > 0 && this.o.now() - this.lastRefusedLog >= REFUSED_LOG_EVERY_MS) {
      this.lastRefusedLog = this.o.now();
      this.o.log.warn({ reporter: this.reporter.name, refused: result.refused, detail: result.detail }, 'metrics reporter refused some points');
    }
  }

  private failed(err: unknown): void {
    // Logged when it goes down, not at every retry.
    if (this.failures === 0) {
      this.o.log.warn({ reporter: this.reporter.name, err: err instanceof Error ? err.message : String(err), buffered: this.buffer.size }, 'metrics reporter is down; retrying with back-off');
    }
    this.failures++;
  }

  private retryDelay(): number {
    const { firstMs, maxMs } = this.o.retry;
    const delay = Math.min(maxMs, firstMs * 2 ** Math.min(this.failures - 1, 30));
    // Spread out the agents that retry against the same server.
    return delay * (0.8 + 0.4 * Math.random());
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.endPause = done;
    });
  }
}

/** Waits for a promise to settle, at most `ms`; never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
