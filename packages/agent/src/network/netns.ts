/**
 * Running the host's network tools (ip, tc, iptables-restore, sysctl) in a network
 * namespace: `nsenter --net=PATH CMD…` (never `ip netns exec`, which remounts /sys).
 * A namespace of `undefined` is the agent's own. The runner is injectable so every
 * module above it is unit-tested with recorded commands.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (argv[0] found on PATH) and resolves with its outcome; rejects only when it cannot run at all. */
export type CommandRunner = (argv: string[], opts?: { input?: string; timeoutMs?: number }) => Promise<CommandResult>;

/** One command of a rendered program. `tolerate`: a failure whose output matches is fine (already done, nothing to undo). */
export interface Cmd {
  argv: string[];
  input?: string;
  tolerate?: RegExp;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: CommandResult,
  ) {
    const out = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(0, 3).join('; ');
    super(`${argv.join(' ')} failed: ${out || `exit code ${result.code}`}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

export const execRunner: CommandRunner = (argv, opts = {}) =>
  new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new Error('empty command'));
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal === 'SIGKILL' && code === null ? `${stderr}timed out` : stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });

/** A network namespace to run commands in. */
export class Netns {
  constructor(
    private readonly runner: CommandRunner,
    /** A namespace file (/run/netns/NAME, /proc/PID/ns/net); undefined: the agent's own. */
    readonly path: string | undefined,
  ) {}

  /** The full command line: nsenter in front when the namespace is not our own. */
  argv(argv: string[]): string[] {
    return this.path === undefined ? argv : ['nsenter', `--net=${this.path}`, ...argv];
  }

  /** Runs one command; a failure (unless tolerated) throws a CommandError. */
  async run(cmd: Cmd | string[]): Promise<CommandResult> {
    const c: Cmd = Array.isArray(cmd) ? { argv: cmd } : cmd;
    const full = this.argv(c.argv);
    const r = await this.runner(full, c.input !== undefined ? { input: c.input } : {});
    if (r.code !== 0 && !(c.tolerate && c.tolerate.test(r.stderr + r.stdout))) throw new CommandError(c.argv, r);
    return r;
  }

  /** Runs the commands in order, stopping at the first failure. */
  async runAll(cmds: Cmd[]): Promise<void> {
    for (const c of cmds) await this.run(c);
  }

  /** stdout of a command that reads state. */
  async read(argv: string[]): Promise<string> {
    return (await this.run(argv)).stdout;
  }
}

/** The namespace of a container's process (pids are the machine's: the agent runs in its pid namespace). */
export function processNetns(pid: number): string {
  return `/proc/${pid}/ns/net`;
}
