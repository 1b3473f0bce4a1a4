import type { MetricPoint } from './reporter.js';

/** The points waiting for one reporter, oldest first, at most `capacity`; the oldest go when it is full. */
export class PointBuffer {
  private points: MetricPoint[] = [];
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`buffer capacity must be at least 1, not ${capacity}`);
  }

  get size(): number {
    return this.points.length;
  }

  /** Points lost so far: pushed out by newer ones, or refused by the peer (see drop). */
  get dropped(): number {
    return this.droppedCount;
  }

  push(points: readonly MetricPoint[]): void {
    this.points = this.points.concat(points);
    this.trimOldest();
  }

  /** Removes and returns up to `count` of the oldest points. */
  take(count: number): MetricPoint[] {
    return this.points.splice(0, count);
  }

  /** Puts points taken but not delivered back in front, as far as there is room left. */
  putBack(points: readonly MetricPoint[]): void {
    this.points = points.concat(this.points);
    this.trimOldest();
  }

  /** Counts points given up on. */
  drop(count: number): void {
    this.droppedCount += count;
  }

  private trimOldest(): void {
    const excess = this.points.length - this.capacity;
    if (excess > 0) {
      this.points.splice(0, excess);
      this.droppedCount += excess;
    }
  }
}
