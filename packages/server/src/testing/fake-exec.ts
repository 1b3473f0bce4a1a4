/**
 * An OpenExec for tests of what sits in front of exec (the SSH gateway): it runs the
 * command as a local child process (`sh` for a login shell) with pipes, no TTY, and
 * records every request, resize, input end and close. With a TTY asked for, COLUMNS
 * and LINES hold the size and stderr is merged into stdout, as through a terminal.
 */
import { spawn } from 'node:child_process';
import { INFRA_NAME, WharfError } from '@wharf/types';
import type { ExecRequest, ExecStream, OpenExec } from '../exec/types.js';

export interface FakeExecCall {
  req: ExecRequest;
  resizes: [cols: number, rows: number][];
  inputEnded: boolean;
  closed: boolean;
}

export interface FakeExec {
  openExec: OpenExec;
  calls: FakeExecCall[];
}

export function fakeExec(): FakeExec {
  const calls: FakeExecCall[] = [];
  const openExec: OpenExec = async (req) => {
    if (req.container === INFRA_NAME) throw new WharfError('FORBIDDEN', 'the infra container is never exec\'d into');
    const call: FakeExecCall = { req, resizes: [], inputEnded: false, closed: false };
    calls.push(call);
    const [file = 'sh', ...args] = req.cmd;
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const pair of req.env ?? []) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    if (req.tty) Object.assign(env, { COLUMNS: String(req.cols ?? 80), LINES: String(req.rows ?? 24) });
    // A group of its own, so closing kills what the command started too (as a container's exec ends).
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child.stdin.on('error', () => undefined); // the command may end before its input does
    const exited = new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
    });
    const stream: ExecStream = {
      write: (data) => void child.stdin.write(data),
      endInput: () => {
        call.inputEnded = true;
        child.stdin.end();
      },
      resize: (cols, rows) => void call.resizes.push([cols, rows]),
      onData: (listener) => {
        child.stdout.on('data', (d: Buffer) => listener(d, 'stdout'));
        child.stderr.on('data', (d: Buffer) => listener(d, req.tty ? 'stdout' : 'stderr'));
      },
      exited,
      close: () => {
        call.closed = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      },
    };
    return stream;
  };
  return { openExec, calls };
}
