/**
 * Runs work per key: one run at a time per key (a request during a run schedules
 * exactly one more), at most `concurrency` keys at once, in request order.
 */
export class KeyedQueue {
  private readonly running = new Set<string>();
  /** Keys waiting for a slot or for their current run to end, in request order. */
  private readonly waiting = new Set<string>();
  private idle: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly concurrency = 4,
    private readonly onError: (key: string, err: unknown) => void = () => {},
  ) {}

  request(key: string): void {
    if (this.closed) return;
    this.waiting.add(key);
    this.pump();
  }

  get size(): number {
    return this.running.size + this.waiting.size;
  }

  /** Stops starting new runs; resolves when the current ones end. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await this.drain();
  }

  /** Resolves when nothing is running or waiting. */
  drain(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    for (const key of this.waiting) {
      if (this.running.size >= this.concurrency) break;
      if (this.running.has(key)) continue;
      this.waiting.delete(key);
      this.running.add(key);
      void this.run(key);
    }
    if (this.size === 0) {
      const idle = this.idle;
      this.idle = [];
      for (const resolve of idle) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.work(key);
    } catch (err) {
      this.onError(key, err);
    } finally {
      this.running.delete(key);
      this.pump();
    }
  }
}
