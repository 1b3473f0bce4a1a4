/**
 * Interactive exec: `GET /v1/containers/{id}/exec?cmd=…&tty=…&cols=…&rows=…&env=…`
 * upgraded to a WebSocket that speaks the exec frames of @wharf/types (wharf-server
 * relays them to `wharf exec` and the SSH gateway).
 *
 *   upgrade ─▶ parse query ─▶ inspect (managed? infra? running?) ─▶ engine.execSession ─▶ 101
 *   frames: stdin (0) ─▶ session.stdin    stdout/stderr ─▶ (1)/(2)    resize, eof ─▶ session
 *   output ended + exit code ─▶ {"type":"exit","code"} ─▶ close     WebSocket closed ─▶ session killed
 *
 * Everything that goes wrong before the upgrade is an HTTP error with the API's error
 * body; after it, an `error` frame and the close.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import { ExecChannel, MAX_TTY_SIZE, WharfError, decodeExecFrame, encodeExecControl, encodeExecData, type ExecControl } from '@wharf/types';
import { EngineError, type Engine, type ExecSession, type ExecSessionOptions } from './docker/engine.js';
import { parseBool } from './query.js';

/** Without a command: the container's bash when it has one, else its sh. */
export const LOGIN_SHELL = ['/bin/sh', '-c', 'if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh'];

/** Output waiting for a slow reader beyond this pauses the command's output. */
const HIGH_WATER_BYTES = 1024 * 1024;

const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;

function size(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_TTY_SIZE) throw new WharfError('BAD_REQUEST', `${name} must be a whole number from 1 to ${MAX_TTY_SIZE}, not "${text}"`);
  return n;
}

export function parseExecQuery(url: URL): ExecSessionOptions {
  const tty = parseBool(url.searchParams.get('tty'), false);
  if (tty === undefined) throw new WharfError('BAD_REQUEST', 'tty must be true or false');
  const cmd = url.searchParams.getAll('cmd');
  const env = url.searchParams.getAll('env');
  const bad = env.find((e) => !ENV_ENTRY.test(e));
  if (bad !== undefined) throw new WharfError('BAD_REQUEST', `env entries are KEY=value, not "${bad}"`);
  const cols = size(url, 'cols');
  const rows = size(url, 'rows');
  return { cmd: cmd.length > 0 ? cmd : LOGIN_SHELL, tty, ...(cols !== undefined ? { cols } : {}), ...(rows !== undefined ? { rows } : {}), ...(env.length ? { env } : {}) };
}

/** Starts the command in a managed business container that runs; WharfError otherwise. */
export async function openSession(engine: Engine, id: string, opts: ExecSessionOptions): Promise<ExecSession> {
  const c = await engine.inspect(id);
  if (!c) throw new WharfError('CONTAINER_NOT_FOUND', `no container ${id} managed by Wharf on this host`);
  if (c.role === 'infra') {
    throw new WharfError('FORBIDDEN', `${c.dockerName} is the infra container of set ${c.setRef}: it only holds the set's namespaces and volume, exec into a business container`);
  }
  if (c.state !== 'running') throw new WharfError('CONFLICT', `container ${c.dockerName} is ${c.state}, not running`);
  try {
    return await engine.execSession(c.id, opts);
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 409) throw new WharfError('CONFLICT', `container ${c.dockerName}: ${err.message}`);
    throw err;
  }
}

/** Pumps frames between the WebSocket and the command until one side ends. */
export function relaySession(ws: WebSocket, session: ExecSession, log: Logger): void {
  const outputs: Readable[] = [session.stdout, session.stderr];
  const resumeOutputs = (): void => {
    if (ws.bufferedAmount <= HIGH_WATER_BYTES) for (const o of outputs) o.resume();
  };
  const forward = (channel: ExecChannel) => (chunk: Buffer) => {
    ws.send(encodeExecData(channel, chunk), resumeOutputs);
    if (ws.bufferedAmount > HIGH_WATER_BYTES) for (const o of outputs) o.pause();
  };
  session.stdout.on('data', forward(ExecChannel.stdout));
  session.stderr.on('data', forward(ExecChannel.stderr));
  session.stdin.on('error', () => undefined); // written to after the command ended: the exit frame follows

  const finish = (last: ExecControl, closeCode: number): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(encodeExecControl(last));
    ws.close(closeCode);
  };
  Promise.all(outputs.map((o) => finished(o)))
    .then(() => session.exited)
    .then(
      (code) => finish({ type: 'exit', code }, 1000),
      (err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'exec session failed');
        finish({ type: 'error', code: 'INTERNAL', message: `exec failed: ${err instanceof Error ? err.message : String(err)}` }, 1011);
      },
    );

  let inputOpen = true;
  ws.on('message', (data: RawData, binary: boolean) => {
    const frame = decodeExecFrame(data, binary);
    if (frame?.type === 'data' && frame.channel === ExecChannel.stdin) {
      if (inputOpen && !session.stdin.write(frame.data)) {
        ws.pause();
        session.stdin.once('drain', () => ws.resume());
      }
    } else if (frame?.type === 'resize') {
      session.resize(frame.cols, frame.rows).catch((err: unknown) => log.debug({ err: String(err) }, 'exec resize failed'));
    } else if (frame?.type === 'eof') {
      if (inputOpen) session.stdin.end();
      inputOpen = false;
    } else {
      finish({ type: 'error', code: 'BAD_REQUEST', message: 'not a frame a client sends: binary stdin (channel 0), or {"type":"resize"|"eof"}' }, 1008);
    }
  });
  ws.on('close', () => session.close());
  ws.on('error', () => ws.terminate());
}

/** Handles an authenticated upgrade of the exec route; a WharfError before the upgrade is the caller's to answer. */
export async function serveExec(engine: Engine, wss: WebSocketServer, log: Logger, id: string, url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const opts = parseExecQuery(url);
  const session = await openSession(engine, id, opts);
  // The command is killed if the upgrade never completes, as when the session ends.
  socket.once('close', () => session.close());
  wss.handleUpgrade(req, socket, head, (ws) => relaySession(ws, session, log));
}
