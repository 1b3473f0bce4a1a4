#!/usr/bin/env node
/** The `wharf` executable. Everything is in cli.ts; this only binds it to the process. */
import { once } from 'node:events';
import { processIo } from './context.js';
import { run } from './cli.js';

// `wharf get sets | head -1`: a closed pipe is a normal end, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await run(process.argv.slice(2), processIo());
// Exit as soon as the output is written: fetch's idle keep-alive socket would
// otherwise keep the process alive a little longer for nothing.
await Promise.all([process.stdout, process.stderr].map((s) => (s.writableLength > 0 ? once(s, 'drain') : undefined)));
process.exit(code);
