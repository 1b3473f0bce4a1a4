/** Volumes as tar archives: the export format of every driver (and XFS's only one). */
import type { Readable } from 'node:stream';
import { spawnStream, type StreamProcess } from './commands.js';

/** The tree under `dir` as a tar stream (numeric owners; sockets are skipped by tar). */
export function tarFrom(dir: string): StreamProcess {
  return spawnStream(['tar', '--numeric-owner', '--xattrs', '-C', dir, '-cf', '-', '.'], { stdout: true });
}

/** Unpacks a tar stream into `dir`, keeping modes and owners. */
export function tarInto(input: Readable, dir: string): StreamProcess {
  return spawnStream(['tar', '--numeric-owner', '--xattrs', '-xpf', '-', '-C', dir], { stdin: input });
}
