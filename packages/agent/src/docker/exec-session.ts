/**
 * Interactive exec over Docker's Engine API: `POST /containers/{id}/exec`, then
 * `/exec/{id}/start` hijacked (the HTTP connection becomes the command's stdio;
 * without a TTY Docker multiplexes stdout and stderr on it), `/exec/{id}/resize`
 * for the window, `/exec/{id}/json` for the exit code.
 *
 * Docker cannot kill an exec: closing a session that still runs kills its process
 * by the PID Docker reports, once /proc shows that PID in the container's cgroup
 * (so a reused PID, or an agent in another PID namespace, never kills anything else).
 */
import { readFile } from 'node:fs/promises';
import { PassThrough, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { sleep } from '../backoff.js';
import { EngineError, type ExecSession, type ExecSessionOptions } from './engine.js';

/** How long the exit code may lag the end of the output (Docker records it a moment later). */
const EXIT_CODE_POLLS = 100;
const EXIT_CODE_POLL_MS = 20;

export async function startExecSession(docker: Dockerode, containerId: string, opts: ExecSessionOptions, call: <T>(fn: () => Promise<T>) => Promise<T | undefined>): Promise<ExecSession> {
  const exec = await call(() =>
    docker.getContainer(containerId).exec({
      Cmd: opts.cmd, Tty: opts.tty, AttachStdin: true, AttachStdout: true, AttachStderr: true, ...(opts.env?.length ? { Env: opts.env } : {}),
    }),
  );
  if (!exec) throw new EngineError(`exec in ${containerId}: no answer`);
  const size = opts.tty && opts.cols && opts.rows ? { ConsoleSize: [opts.rows, opts.cols] } : {};
  // ConsoleSize is read by daemons of API 1.42 and later; older ones get the resize below.
  const socket = (await call(() => exec.start({ hijack: true, stdin: true, Tty: opts.tty, ...size }))) as Duplex | undefined;
  if (!socket) throw new EngineError(`exec in ${containerId}: no stream`);

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (opts.tty) socket.pipe(stdout);
  else {
    docker.modem.demuxStream(socket, stdout, stderr);
    socket.once('end', () => {
      stdout.end();
      stderr.end();
    });
  }
  const outputEnded = new Promise<void>((resolve) => {
    socket.once('close', () => {
      stdout.end();
      stderr.end();
      resolve();
    });
    socket.on('error', () => socket.destroy());
  });

  const resize = async (cols: number, rows: number): Promise<void> => {
    if (opts.tty) await call(() => exec.resize({ w: cols, h: rows }));
  };
  if (opts.tty && opts.cols && opts.rows) resize(opts.cols, opts.rows).catch(() => undefined);

  const exitCode = async (): Promise<number> => {
    for (let i = 0; ; i++) {
      const info = await call(() => exec.inspect());
      if (typeof info?.ExitCode === 'number' && !info.Running) return info.ExitCode;
      if (i === EXIT_CODE_POLLS) return -1;
      await sleep(EXIT_CODE_POLL_MS);
    }
  };
  const exited = outputEnded.then(exitCode);
  exited.catch(() => undefined);

  let closed = false;
  return {
    // Writing to the hijacked connection is the command's stdin; ending it half-closes the connection, which Docker passes on as EOF.
    stdin: socket,
    stdout,
    stderr,
    resize,
    exited,
    close() {
      if (closed) return;
      closed = true;
      socket.destroy();
      void killIfRunning(containerId, () => call(() => exec.inspect())).catch(() => undefined);
    },
  };
}

async function killIfRunning(containerId: string, inspect: () => Promise<{ Running: boolean; Pid: number } | undefined>): Promise<void> {
  const info = await inspect();
  if (!info?.Running || !(info.Pid > 0)) return;
  const cgroup = await readFile(`/proc/${info.Pid}/cgroup`, 'utf8').catch(() => '');
  if (cgroup.includes(containerId)) process.kill(info.Pid, 'SIGKILL');
}
