/**
 * What every command gets: the streams, the environment, a clock, and lazily the
 * resolved config and client (so `wharf --help` or a usage error never reads the
 * config file).
 */
import { homedir } from 'node:os';
import { WharfClient } from '@wharf/client';
import { resolveConfig, type ResolvedConfig } from './config.js';
import { lineProgress, spinnerProgress, type Progress } from './progress.js';
import { systemClock, type Clock } from './wait.js';

export type OutStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  homedir: string;
  clock: Clock;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, homedir: homedir(), clock: systemClock };
}

export interface Context {
  io: Io;
  clock: Clock;
  debug: boolean;
  config(): ResolvedConfig;
  client(): WharfClient;
  /** Writes `text` and a newline to stdout. */
  out(text: string): void;
  /** Writes `text` and a newline to stderr. */
  note(text: string): void;
  /** A spinner on an interactive stderr, otherwise one line per change. */
  progress(): Promise<Progress>;
}

/** The global flags that select the server, the token and the tenant. */
export interface GlobalFlags {
  server?: string;
  token?: string;
  tenant?: string;
}

export function createContext(io: Io, flags: () => GlobalFlags): Context {
  let config: ResolvedConfig | undefined;
  let client: WharfClient | undefined;
  const ctx: Context = {
    io,
    clock: io.clock,
    debug: io.env.WHARF_DEBUG === '1' || io.env.WHARF_DEBUG === 'true',
    config: () => (config ??= resolveConfig({ flags: flags(), env: io.env, homedir: io.homedir })),
    client() {
      if (!client) {
        const c = ctx.config();
        client = new WharfClient({ server: c.server, ...(c.token !== undefined ? { token: c.token } : {}), ...(c.tenant !== undefined ? { tenant: c.tenant } : {}) });
      }
      return client;
    },
    out: (text) => void io.stdout.write(`${text}\n`),
    note: (text) => void io.stderr.write(`${text}\n`),
    async progress() {
      // A pty without a size (columns 0, e.g. under `script`) makes ora's line counting loop forever.
      const columns = (io.stderr as { columns?: number }).columns ?? 0;
      const interactive = io.stderr.isTTY === true && columns > 0 && io.env.TERM !== 'dumb' && io.env.CI === undefined;
      return interactive ? spinnerProgress(io.stderr as NodeJS.WriteStream) : lineProgress(ctx.note);
    },
  };
  return ctx;
}
