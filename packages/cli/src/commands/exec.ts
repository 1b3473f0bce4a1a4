/**
 * `wharf exec APPKEY/ID [-c NAME] [-i] [-t] -- CMD…`: a command in a container of a set,
 * over the exec WebSocket (GET /v1/sets/:appkey/:id/exec, frames of @wharf/types).
 *
 *   -i: stdin ─▶ stdin frames, its end ─▶ eof       stdout (1) ─▶ stdout, stderr (2) ─▶ stderr
 *   -t: a TTY there, raw mode here, SIGWINCH ─▶ resize      exit frame ─▶ the CLI's exit code
 */
import type { Command } from 'commander';
import { WebSocket, type RawData } from 'ws';
import { ConnectionError, apiError } from '@wharf/client';
import { ExecChannel, WharfError, decodeExecFrame, encodeExecControl, encodeExecData, type ExecControl } from '@wharf/types';
import type { Context, Io } from '../context.js';
import { CliError, CommandExit } from '../errors.js';
import type { SetRef } from '../ref.js';
import { examples, setArgument } from './common.js';

interface ExecFlags {
  container?: string;
  interactive?: boolean;
  tty?: boolean;
}

/** Input waiting to be sent beyond this pauses reading stdin. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Exit codes of a session ended here by a signal (128 + its number), as shells report them. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

type TtyLike = { isTTY?: boolean; getWindowSize?: () => [number, number] };

/** The local terminal's size now, from whichever output is a terminal that knows it. */
function terminalSize(io: Io): { cols: number; rows: number } | undefined {
  for (const s of [io.stdout, io.stderr] as TtyLike[]) {
    const [cols, rows] = s.isTTY && s.getWindowSize ? s.getWindowSize() : [0, 0];
    if (cols > 0 && rows > 0) return { cols, rows };
  }
  return undefined;
}

/** The end of a session: its last control frame, and the close code. */
interface Ending {
  last?: ExecControl;
  code: number;
}

/**
 * Opens the WebSocket with `onOutput` already listening: frames that come with the
 * upgrade's answer are read at once, before the open is known here. Resolves once it is
 * open, with the session's end to come; a refused upgrade rejects with its API error.
 */
function connect(url: string, headers: Record<string, string>, server: string, onOutput: (ws: WebSocket, channel: ExecChannel, data: Uint8Array) => void): Promise<{ ws: WebSocket; ended: Promise<Ending> }> {
  const ws = new WebSocket(url, { headers });
  let last: ExecControl | undefined;
  ws.on('message', (data: RawData, binary: boolean) => {
    const frame = decodeExecFrame(data as Buffer | ArrayBuffer | Buffer[], binary);
    if (frame?.type === 'data') onOutput(ws, frame.channel, frame.data);
    else if (frame?.type === 'exit' || frame?.type === 'error') last = frame;
  });
  const ended = new Promise<Ending>((resolve) => ws.once('close', (code) => resolve({ ...(last ? { last } : {}), code })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, ended }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        reject(apiError(res.statusCode ?? 0, res.statusMessage ?? '', text));
        ws.terminate();
      });
    });
    ws.on('error', (err) => reject(new ConnectionError(server, err))); // after the open: the close tells
  });
}

/** Runs the session to its end and answers the command's exit code. */
async function runExec(ctx: Context, ref: SetRef, cmd: string[], flags: ExecFlags): Promise<number> {
  const { io } = ctx;
  const client = ctx.client();
  const tty = flags.tty === true;
  const size = tty ? terminalSize(io) : undefined;
  const conn = client.execConnection(ref.appkey, ref.id, { cmd, tty, ...(flags.container ? { container: flags.container } : {}), ...size });
  // A slow reader here pauses the socket: the server buffers what it relays meanwhile.
  const onOutput = (ws: WebSocket, channel: ExecChannel, data: Uint8Array): void => {
    const out = channel === ExecChannel.stderr ? io.stderr : io.stdout;
    if (!out.write(data)) {
      ws.pause();
      out.once('drain', () => ws.resume());
    }
  };
  const session = await connect(conn.url, conn.headers, client.server, onOutput);
  const socket = session.ws;

  const stdin = io.stdin as NodeJS.ReadStream;
  const raw = tty && flags.interactive === true && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const cleanups: (() => void)[] = [];
  try {
    return await new Promise<number>((resolve, reject) => {
      let interrupted: keyof typeof SIGNAL_EXIT | undefined;
      const send = (frame: Uint8Array | string, sent?: () => void): void => {
        if (socket.readyState === WebSocket.OPEN) socket.send(frame, sent);
      };
      session.ended.then(({ last, code }) => {
        if (interrupted) resolve(SIGNAL_EXIT[interrupted]);
        else if (last?.type === 'exit') resolve(last.code);
        else if (last?.type === 'error') reject(new WharfError(last.code, last.message));
        else reject(new CliError(`the exec session ended without an exit code (${code === 1006 ? 'the connection to the server was lost' : `closed with ${code}`})`));
      });

      if (raw) {
        stdin.setRawMode(true);
        cleanups.push(() => stdin.setRawMode(false));
      }
      if (flags.interactive) {
        const onData = (chunk: Buffer): void => {
          send(encodeExecData(ExecChannel.stdin, chunk), () => {
            if (socket.bufferedAmount < HIGH_WATER_BYTES) stdin.resume();
          });
          if (socket.bufferedAmount >= HIGH_WATER_BYTES) stdin.pause();
        };
        const onEnd = (): void => send(encodeExecControl({ type: 'eof' }));
        stdin.on('data', onData);
        stdin.once('end', onEnd);
        cleanups.push(() => {
          stdin.off('data', onData);
          stdin.off('end', onEnd);
          stdin.pause();
        });
      } else if (!tty) {
        // No input: the command reads an empty stdin, as with `docker exec` without -i.
        send(encodeExecControl({ type: 'eof' }));
      }
      if (tty) {
        const onResize = (): void => {
          const s = terminalSize(io);
          if (s) send(encodeExecControl({ type: 'resize', ...s }));
        };
        process.on('SIGWINCH', onResize);
        cleanups.push(() => process.off('SIGWINCH', onResize));
      }
      // Without raw mode Ctrl-C is ours: it ends the session (and the command with it).
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const onSignal = (): void => {
          interrupted = signal;
          socket.close();
        };
        process.once(signal, onSignal);
        cleanups.push(() => process.off(signal, onSignal));
      }
    });
  } finally {
    for (const undo of cleanups.reverse()) undo();
    socket.terminate();
  }
}

export function registerExec(program: Command, ctx: Context): void {
  program
    .command('exec')
    .summary('run a command in a container of a set')
    .description(
      'Run a command in a business container of a set (without -c, the one with the lowest index) and exit with its exit ' +
        'code. Put the command after "--". With -i, stdin is passed to it (its end too). With -t, it runs on a terminal of ' +
        "this terminal's size, kept up to date; with -it this terminal is in raw mode (Ctrl-C goes to the command), so an " +
        "interactive shell works. No command needs -t: the container's shell (bash if it has one, else /bin/sh). Without " +
        '-t, stdout and stderr stay apart. Needs the developer role in the tenant; the infra container is never logged ' +
        'into. Every session is in the audit log.',
    )
    .addArgument(setArgument())
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-c, --container <name>', 'the container (default: the first business container)')
    .option('-i, --interactive', 'pass stdin to the command')
    .option('-t, --tty', 'run the command on a terminal')
    .addHelpText(
      'after',
      examples([
        ['wharf exec com.example.web/1 -- ls -l /data', 'run a command, exit with its exit code'],
        ['wharf exec -it com.example.web/1', 'a shell in the first business container'],
        ['wharf exec -it com.example.web/1 -c sidecar -- bash', 'bash in another container'],
        ["wharf exec -i com.example.web/1 -- sh -c 'cat > /data/seed.sql' < seed.sql", 'copy a file in through stdin'],
        ['wharf exec --tenant team-a com.example.web/1 -- env', 'a set of another tenant'],
      ]),
    )
    .action(async (ref: SetRef, cmd: string[], flags: ExecFlags, command: Command) => {
      if (cmd.length === 0 && !flags.tty) {
        command.error('error: no command: put it after "--" (wharf exec APPKEY/ID -- CMD…), or use -it for a shell', { exitCode: 2, code: 'wharf.execUsage' });
      }
      const code = await runExec(ctx, ref, cmd, flags);
      if (code !== 0) throw new CommandExit(code);
    });
}
