/**
 * cgroup files kept open between collections and read again from offset 0. A cgroupfs
 * file regenerates its content at every read from the start, so one pread replaces
 * readFileSync's open, fstat, read and close and the path walk through cgroupfs: about a
 * third of the CPU per file (measured: 8 µs instead of 26 µs per file on cgroup v1).
 * When the cgroup is removed (the container stopped or restarted, even under the same
 * path) the kernel answers ENODEV on the old descriptor: it is closed and the read
 * throws, as a missing file would. Descriptors not read during a collection are closed
 * at its end (`sweep`). Only for cgroupfs: a /proc/<pid>/net file held open would keep
 * a dead container's network namespace alive.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { ReadText } from './cgroup-sample.js';

export class OpenFiles {
  private readonly fds = new Map<string, number>();
  private readonly read = new Set<string>();
  private buf = Buffer.allocUnsafe(16 * 1024);

  /** A ReadText over the kept descriptors. */
  readonly readText: ReadText = (path) => {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      this.fds.set(path, fd);
    }
    this.read.add(path);
    try {
      return this.readAll(fd);
    } catch (err) {
      this.close(path);
      throw err;
    }
  };

  /** Closes what was not read since the last sweep. */
  sweep(): void {
    for (const path of this.fds.keys()) if (!this.read.has(path)) this.close(path);
    this.read.clear();
  }

  closeAll(): void {
    for (const path of [...this.fds.keys()]) this.close(path);
    this.read.clear();
  }

  get open(): number {
    return this.fds.size;
  }

  private readAll(fd: number): string {
    for (;;) {
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      // The whole file fits (the kernel gives a seq_file's content in one read up to the buffer's size).
      if (n < this.buf.length) return this.buf.toString('latin1', 0, n);
      this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    }
  }

  private close(path: string): void {
    const fd = this.fds.get(path);
    this.fds.delete(path);
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
  }
}
