/**
 * Running the storage tools (btrfs, mkfs, mount, losetup, xfs_growfs, tar). Plain
 * commands go through the injectable CommandRunner, so drivers are unit-tested with
 * recorded commands; streams (btrfs send/receive, tar) spawn real processes.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { CommandError, execRunner, type CommandResult, type CommandRunner } from '../network/netns.js';

export interface RunOptions {
  /** A failure whose output matches is fine (already done, nothing to undo). */
  tolerate?: RegExp;
  timeoutMs?: number;
}

/** Storage tools can take a while on a busy disk (mkfs, subvolume sync). */
const DEFAULT_TIMEOUT_MS = 60_000;

export class Commands {
  constructor(readonly runner: CommandRunner = execRunner) {}

  /** Runs argv; a failure (unless tolerated) throws a CommandError. */
  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const r = await this.runner(argv, { timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    if (r.code !== 0 && !(opts.tolerate && opts.tolerate.test(r.stderr + r.stdout))) throw new CommandError(argv, r);
    return r;
  }

  async read(argv: string[], opts: RunOptions = {}): Promise<string> {
    return (await this.run(argv, opts)).stdout;
  }

  /** The raw outcome, for commands whose failure is an answer (blkid, findmnt). */
  async probe(argv: string[]): Promise<CommandResult> {
    return this.runner(argv, { timeoutMs: DEFAULT_TIMEOUT_MS });
  }
}

export interface StreamProcess {
  /** The child's stdout (an empty stream when not asked for). */
  stdout: Readable;
  /** Resolves when it exited 0; rejects with its stderr otherwise. */
  done: Promise<void>;
  kill(): void;
}

/** Spawns a streaming command; `stdin` is piped in, `stdout` piped out when asked for. */
export function spawnStream(argv: string[], opts: { stdin?: Readable; stdout?: boolean } = {}): StreamProcess {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const child = spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4096);
  });
  let inputError: Error | undefined;
  if (opts.stdin && child.stdin) {
    const input = opts.stdin;
    child.stdin.on('error', () => undefined);
    input.once('error', (err) => {
      inputError = err;
      child.kill('SIGKILL');
    });
    input.pipe(child.stdin);
  }
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (inputError) return reject(new Error(`${argv.join(' ')}: the input stream failed: ${inputError.message}`));
      if (code === 0) return resolve();
      const out = stderr.trim().split('\n').slice(-3).join('; ');
      reject(new Error(`${argv.join(' ')} failed: ${out || (signal ? `killed by ${signal}` : `exit code ${code}`)}`));
    });
  });
  done.catch(() => undefined);
  // Piped at once: node discards the unread output of a child that exits before anyone reads it.
  const stdout = new PassThrough();
  if (child.stdout) child.stdout.pipe(stdout);
  else stdout.end();
  return {
    stdout,
    done,
    kill: () => {
      child.kill('SIGKILL');
      // Output nobody reads any more would keep the child from closing.
      child.stdout?.destroy();
      stdout.destroy();
    },
  };
}
