/**
 * A fixed-capacity ring of timed points, oldest first. When full, a new point
 * overwrites the oldest, so a series never holds more than `capacity` points
 * however fast its source reports.
 */
export interface Timed<T> {
  /** When the server received the point (ms since the epoch). */
  at: number;
  value: T;
}

export class Ring<T> {
  private readonly slots: (Timed<T> | undefined)[] = [];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
  }

  get length(): number {
    return this.count;
  }

  push(at: number, value: T): void {
    const entry = { at, value };
    if (this.count < this.capacity) {
      this.slots[(this.start + this.count) % this.capacity] = entry;
      this.count++;
      return;
    }
    this.slots[this.start] = entry;
    this.start = (this.start + 1) % this.capacity;
  }

  /** Drops points received before `cutoff`; returns how many. */
  dropBefore(cutoff: number): number {
    let dropped = 0;
    while (this.count > 0) {
      const oldest = this.slots[this.start];
      if (!oldest || oldest.at >= cutoff) break;
      this.slots[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
      dropped++;
    }
    return dropped;
  }

  newest(): Timed<T> | undefined {
    return this.count > 0 ? this.slots[(this.start + this.count - 1) % this.capacity] : undefined;
  }

  /** Points received at or after `from`, oldest first. */
  since(from = -Infinity): Timed<T>[] {
    const out: Timed<T>[] = [];
    for (let i = 0; i < this.count; i++) {
      const p = this.slots[(this.start + i) % this.capacity];
      if (p && p.at >= from) out.push(p);
    }
    return out;
  }
}
