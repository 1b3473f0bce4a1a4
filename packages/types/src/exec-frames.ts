/**
 * The frames of an exec session over a WebSocket, the same between the CLI (or the
 * console) and wharf-server as between wharf-server and the agent, so the server only
 * relays them. See docs/api.md ("Exec").
 *
 * - Binary frames carry bytes: one channel byte, then the data. Channel 0 is the
 *   command's stdin (towards the container), 1 its stdout, 2 its stderr (from it).
 *   With a TTY everything the command writes comes on channel 1.
 * - Text frames carry one JSON control message: `resize` and `eof` towards the
 *   container; `exit` (the last frame of a session that ran) and `error` (a session
 *   that could not go on) from it.
 *
 * Plain Uint8Array (a Node Buffer is one), so a browser can use it too.
 */
import { isErrorCode, type ErrorCode } from './errors.js';

export const ExecChannel = { stdin: 0, stdout: 1, stderr: 2 } as const;
export type ExecChannel = (typeof ExecChannel)[keyof typeof ExecChannel];

export type ExecControl =
  /** The TTY's window size changed (ignored without a TTY). */
  | { type: 'resize'; cols: number; rows: number }
  /** The command's stdin ends. */
  | { type: 'eof' }
  /** The command ended with this exit code; the session closes after it. */
  | { type: 'exit'; code: number }
  /** The session failed (the host went away, the container stopped…); it closes after it. */
  | { type: 'error'; code: ErrorCode; message: string };

/**
 * WebSocket subprotocols of the exec route. A browser cannot set an Authorization
 * header on a WebSocket, so it offers `[EXEC_WS_PROTOCOL, WS_BEARER_PREFIX + token]`;
 * the server takes the token from the second and answers with the first only.
 */
export const EXEC_WS_PROTOCOL = 'wharf.exec';
export const WS_BEARER_PREFIX = 'wharf.bearer.';

/** Largest window size accepted (both ways). */
export const MAX_TTY_SIZE = 10_000;

export function encodeExecData(channel: ExecChannel, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(data.length + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

/** Bytes on a channel (a binary frame). */
export interface ExecData {
  type: 'data';
  channel: ExecChannel;
  data: Uint8Array;
}

/** Any frame, decoded. */
export type ExecFrame = ExecData | ExecControl;

/** undefined for an empty frame or an unknown channel. */
export function decodeExecData(frame: Uint8Array): ExecData | undefined {
  const channel = frame[0];
  if (channel !== ExecChannel.stdin && channel !== ExecChannel.stdout && channel !== ExecChannel.stderr) return undefined;
  return { type: 'data', channel, data: frame.subarray(1) };
}

export function encodeExecControl(msg: ExecControl): string {
  return JSON.stringify(msg);
}

const isSize = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TTY_SIZE;

/** undefined for anything that is not a well-formed control message. */
export function decodeExecControl(text: string): ExecControl | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  switch (m.type) {
    case 'resize':
      return isSize(m.cols) && isSize(m.rows) ? { type: 'resize', cols: m.cols, rows: m.rows } : undefined;
    case 'eof':
      return { type: 'eof' };
    case 'exit':
      return Number.isInteger(m.code) ? { type: 'exit', code: m.code as number } : undefined;
    case 'error':
      return isErrorCode(m.code) && typeof m.message === 'string' ? { type: 'error', code: m.code, message: m.message } : undefined;
    default:
      return undefined;
  }
}

/**
 * A received WebSocket message as a frame: `data` as a WebSocket library hands it
 * over (one buffer, fragments, or an ArrayBuffer), `binary` whether it came as a
 * binary message. undefined for anything that is not a frame of this protocol.
 */
export function decodeExecFrame(data: Uint8Array | ArrayBuffer | Uint8Array[], binary: boolean): ExecFrame | undefined {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : Array.isArray(data) ? concat(data) : data;
  return binary ? decodeExecData(bytes) : decodeExecControl(new TextDecoder().decode(bytes));
}

/** A session's output as it comes: stdout and stderr apart, and the last control message (exit, error). */
export class ExecOutput {
  private readonly out: Uint8Array[] = [];
  private readonly err: Uint8Array[] = [];
  last: ExecControl | undefined;

  /** One received WebSocket message (as decodeExecFrame takes it). */
  add(data: Uint8Array | ArrayBuffer | Uint8Array[], binary: boolean): void {
    const f = decodeExecFrame(data, binary);
    if (f?.type === 'data') (f.channel === ExecChannel.stderr ? this.err : this.out).push(f.data.slice());
    else if (f) this.last = f;
  }

  stdout(): string {
    return new TextDecoder().decode(concat(this.out));
  }

  stderr(): string {
    return new TextDecoder().decode(concat(this.err));
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What starts a session, as the query of the exec URL (`cmd` repeated, one argument each). */
export interface ExecParams {
  cmd: string[];
  tty: boolean;
  cols?: number;
  rows?: number;
  /** KEY=value, one `env` parameter each. */
  env?: string[];
}

export function execQuery(p: ExecParams): URLSearchParams {
  const q = new URLSearchParams();
  for (const arg of p.cmd) q.append('cmd', arg);
  q.set('tty', String(p.tty));
  if (p.cols !== undefined) q.set('cols', String(p.cols));
  if (p.rows !== undefined) q.set('rows', String(p.rows));
  for (const e of p.env ?? []) q.append('env', e);
  return q;
}
