/**
 * OpenExec over the agent's exec WebSocket: finds the set's container and host in the
 * store, refuses the infra container, connects to `<agentUrl>/v1/containers/{id}/exec`
 * with the join token and turns the exec frames (@wharf/types) into an ExecStream.
 *
 *   ExecRequest ─▶ resolveExecTarget (set, container, host) ─▶ ws://agent/v1/containers/{id}/exec?cmd=…
 *   write/endInput/resize ─▶ stdin (0), eof, resize frames      stdout (1)/stderr (2) ─▶ onData
 *   exit frame ─▶ exited resolves      error frame, or the agent gone ─▶ exited rejects (WharfError)
 */
import { WebSocket, type RawData } from 'ws';
import type { Store } from '@wharf/store';
import {
  ExecChannel, INFRA_NAME, WharfError, decodeExecFrame, encodeExecControl, encodeExecData, execQuery, type ContainerStatus, type SetStatus,
} from '@wharf/types';
import { AGENT_TIMEOUT_MS, agentCredentials, agentError, agentPath, unreachable, type AgentHost } from '../agents.js';
import type { TlsIdentity } from '../tls/cluster-pki.js';
import { Keys, setKeys } from '../state/keys.js';
import { getSet } from '../state/sets.js';
import type { HostRecord } from '../state/hosts.js';
import type { ExecRequest, ExecStream, OpenExec } from './types.js';

/** Where a session goes: the running container (its Docker ID) and the agent of its host. */
export interface ExecTarget {
  container: ContainerStatus & { containerId: string };
  host: AgentHost;
}

/** Largest frame accepted from either side (a chunk of output or of input). */
export const MAX_EXEC_FRAME_BYTES = 1024 * 1024;

/** The business container with the lowest index: the one people usually mean. */
function firstBusiness(containers: ContainerStatus[]): ContainerStatus | undefined {
  return containers.filter((c) => c.role === 'business').sort((a, b) => a.index - b.index)[0];
}

/**
 * Throws WharfError: SET_NOT_FOUND; FORBIDDEN for the infra container; CONTAINER_NOT_FOUND
 * naming the set's containers; CONFLICT when it does not run; HOST_UNREACHABLE when the
 * set is on no known host.
 */
export async function resolveExecTarget(store: Store, req: Pick<ExecRequest, 'tenant' | 'appkey' | 'id' | 'container'>): Promise<ExecTarget> {
  const ref = { tenant: req.tenant, appkey: req.appkey, id: req.id };
  const set = (await getSet(store, ref)).value;
  const containers = (await store.get<SetStatus>(setKeys(ref).status))?.value.containers ?? [];
  const name = `${ref.appkey}/${ref.id}`;
  const business = containers.filter((c) => c.role === 'business').map((c) => c.name);
  const found = req.container === undefined ? firstBusiness(containers) : containers.find((c) => c.name === req.container);
  if (req.container === INFRA_NAME || found?.role === 'infra') {
    throw new WharfError('FORBIDDEN', `the infra container of set ${name} only holds its namespaces and volume and is never logged into; name a business container (${business.join(', ') || 'none yet'})`);
  }
  if (!found) {
    const known = containers.map((c) => c.name).join(', ') || 'none yet';
    throw new WharfError('CONTAINER_NOT_FOUND', `set ${name} has no container "${req.container ?? ''}" to exec into (containers: ${known})`);
  }
  if (found.state !== 'running' || !found.containerId) {
    throw new WharfError('CONFLICT', `container ${found.name} of set ${name} is ${found.state}, not running`);
  }
  const host = set.host ? (await store.get<HostRecord>(Keys.host(set.host)))?.value : undefined;
  if (!host) throw new WharfError('HOST_UNREACHABLE', `set ${name} is not on a known host`);
  return { container: { ...found, containerId: found.containerId }, host };
}

/** The OpenExec of wharf-server: the WebSocket route and the SSH gateway use it. */
export function createOpenExec(store: Store, joinToken: string, tls?: TlsIdentity): OpenExec {
  return async (req) => {
    const target = await resolveExecTarget(store, req);
    return connectAgentExec(target, req, joinToken, tls);
  };
}

/** Opens the session on the agent; refusals (HTTP errors of the upgrade) become WharfErrors as for any agent call. */
export function connectAgentExec(target: ExecTarget, req: Pick<ExecRequest, 'cmd' | 'tty' | 'cols' | 'rows' | 'env'>, joinToken: string, tls?: TlsIdentity): Promise<ExecStream> {
  const { host } = target;
  const path = agentPath('containers', target.container.containerId, 'exec');
  const query = execQuery({
    cmd: req.cmd, tty: req.tty, ...(req.cols !== undefined ? { cols: req.cols } : {}), ...(req.rows !== undefined ? { rows: req.rows } : {}), ...(req.env ? { env: req.env } : {}),
  });
  const url = `${host.agentUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}${path}?${query}`;
  return new Promise((resolve, reject) => {
    const auth = agentCredentials(host, joinToken, tls);
    const ws = new WebSocket(url, { ...auth.tls, headers: auth.headers, handshakeTimeout: AGENT_TIMEOUT_MS, maxPayload: MAX_EXEC_FRAME_BYTES });
    // Frames that come with the upgrade's answer are kept for the stream.
    const stream = new AgentExecStream(ws, host);
    ws.once('open', () => resolve(stream));
    ws.once('unexpected-response', (request, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c.slice(0, 4096)));
      res.on('end', () => {
        reject(agentError(host, 'GET', path, res.statusCode ?? 0, text));
        ws.terminate();
      });
      res.on('error', (err) => reject(unreachable(host, err, undefined)));
      request.on('error', () => undefined);
    });
    ws.once('error', (err) => reject(unreachable(host, err, /timed out/i.test(err.message) ? AGENT_TIMEOUT_MS : undefined)));
  });
}

class AgentExecStream implements ExecStream {
  readonly exited: Promise<number>;
  private listeners: ((data: Buffer, stream: 'stdout' | 'stderr') => void)[] = [];
  private closedHere = false;
  /** Output that came before anyone listened. */
  private early: [Buffer, 'stdout' | 'stderr'][] = [];

  constructor(
    private readonly ws: WebSocket,
    host: AgentHost,
  ) {
    this.exited = new Promise<number>((resolve, reject) => {
      let outcome: { code: number } | WharfError | undefined;
      ws.on('message', (data: RawData, binary: boolean) => {
        const frame = decodeExecFrame(data as Buffer | ArrayBuffer | Buffer[], binary);
        if (frame?.type === 'data' && frame.channel !== ExecChannel.stdin) {
          this.emit(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), frame.channel === ExecChannel.stdout ? 'stdout' : 'stderr');
        } else if (frame?.type === 'exit') {
          outcome ??= { code: frame.code };
        } else if (frame?.type === 'error') {
          outcome ??= new WharfError(frame.code, frame.message, { host: host.name });
        }
      });
      ws.once('close', (code) => {
        if (outcome instanceof WharfError) reject(outcome);
        else if (outcome) resolve(outcome.code);
        else if (this.closedHere) reject(new WharfError('CONFLICT', 'the session was closed before the command ended'));
        else {
          const why = code === 1006 ? 'the connection was lost' : `it closed the session (${code}) without an exit code`;
          reject(new WharfError('HOST_UNREACHABLE', `agent of host ${host.name}: ${why}`, { host: host.name }));
        }
      });
      // A failure after the open ends in 'close' too; before it, the opener reports it.
      ws.on('error', () => undefined);
    });
    // Whoever opened the stream awaits `exited`; until then a rejection is not unhandled.
    this.exited.catch(() => undefined);
  }

  private emit(data: Buffer, stream: 'stdout' | 'stderr'): void {
    if (this.listeners.length === 0) this.early.push([data, stream]);
    for (const l of this.listeners) l(data, stream);
  }

  private send(frame: Uint8Array | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  write(data: Buffer): void {
    this.send(encodeExecData(ExecChannel.stdin, data));
  }

  endInput(): void {
    this.send(encodeExecControl({ type: 'eof' }));
  }

  resize(cols: number, rows: number): void {
    this.send(encodeExecControl({ type: 'resize', cols, rows }));
  }

  onData(listener: (data: Buffer, stream: 'stdout' | 'stderr') => void): void {
    this.listeners.push(listener);
    for (const [data, stream] of this.early.splice(0)) listener(data, stream);
  }

  close(): void {
    this.closedHere = true;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close();
  }
}
