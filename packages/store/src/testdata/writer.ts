/**
 * Child process for the durability test: puts k/1, k/2, ... into the store at
 * argv[2] and prints `acked N` only after put N resolved. The parent SIGKILLs it.
 */
import { SqliteStore } from '../sqlite.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: writer.js <db path>');

const store = SqliteStore.open(path);
// Bounded so an orphaned writer cannot run forever.
for (let i = 1; i <= 100_000; i++) {
  await store.put(`k/${i}`, { i, pad: 'x'.repeat(100) });
  process.stdout.write(`acked ${i}\n`); // synchronous for pipes on POSIX
}
await store.close();
