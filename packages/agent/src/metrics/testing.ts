/** Helpers for the collector's tests: readers over recorded files or an in-memory tree. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ReadText } from './cgroup-sample.js';

/** packages/agent/src/metrics/testdata (the tests run from dist/). */
export const TESTDATA = fileURLToPath(new URL('../../src/metrics/testdata/', import.meta.url));

/** Reads absolute paths below `root` (e.g. testdata/v1). */
export function rootedReader(root: string): ReadText {
  return (path) => readFileSync(`${root.replace(/\/$/, '')}${path}`, 'utf8');
}

/** A file tree in memory: absolute path → content; a missing path throws like ENOENT. */
export class MemoryFiles {
  readonly files = new Map<string, string>();
  readonly reads: string[] = [];

  readonly read: ReadText = (path) => {
    this.reads.push(path);
    const text = this.files.get(path);
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };

  set(path: string, text: string): this {
    this.files.set(path, text);
    return this;
  }

  delete(prefix: string): void {
    for (const p of [...this.files.keys()]) if (p.startsWith(prefix)) this.files.delete(p);
  }
}
