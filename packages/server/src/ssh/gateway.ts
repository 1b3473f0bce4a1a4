/**
 * The SSH gateway: `ssh -p 2222 APPKEY/ID@server` opens a shell or runs a command in a
 * business container of a set. An ssh2 server with the data directory's host key;
 * public-key authentication only, against the keys users registered
 * (/v1/me/ssh-keys); each session goes through OpenExec (server → agent → Docker).
 *
 *   TCP ─► handshake (host key) ─► publickey: key known? signature valid? ─► ready
 *          │ login timeout, at most maxAuthTries refused attempts           │
 *          └─ closed without login: an `SSH login` audit record              └─► session.ts, per channel
 */
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import ssh2, { type AuthContext, type ClientInfo, type Connection } from 'ssh2';
import type { Store } from '@wharf/store';
import type { AuditRecord } from '@wharf/types';
import type { ExecStream, OpenExec } from '../exec/types.js';
import { getUser } from '../state/identity.js';
import { findSshKey } from '../state/ssh-keys.js';
import type { HostKey } from './host-key.js';
import { fingerprintOf, keyIdOf, loadPublicKey } from './public-key.js';
import { handleSession } from './session.js';

export { DEFAULT_SSH_PORT } from '@wharf/types';
const DEFAULT_LOGIN_TIMEOUT_MS = 60_000;
/** Refused authentication attempts before the connection is closed (OpenSSH's MaxAuthTries). */
const DEFAULT_MAX_AUTH_TRIES = 6;
/** Commands running at once per connection (like OpenSSH's MaxSessions). */
const MAX_SESSIONS = 10;

export interface SshGatewayOptions {
  store: Store;
  openExec: OpenExec;
  hostKey: HostKey;
  audit: { write(rec: AuditRecord): void };
  log: Logger;
  host: string;
  /** 0: a free port. */
  port: number;
  loginTimeoutMs?: number;
  maxAuthTries?: number;
}

/** A TCP connection: its login timer (cleared at login), and its SSH client once it said hello. */
interface Pending {
  socket: Socket;
  timer: NodeJS.Timeout;
  client?: Connection;
}

export class SshGateway {
  /** By the remote address and port, which ssh2 also reports for the client. */
  private readonly sockets = new Map<string, Pending>();

  private constructor(
    private readonly opts: SshGatewayOptions,
    private readonly ssh: ssh2.Server,
    private readonly tcp: TcpServer,
  ) {}

  /** Listens; rejects naming the address when it cannot (say, the port is taken). */
  static async start(opts: SshGatewayOptions): Promise<SshGateway> {
    const ssh = new ssh2.Server({ hostKeys: [opts.hostKey.privateKey], ident: 'wharf' });
    // Our own listener hands sockets to ssh2, so the login timer runs from the TCP accept on.
    const tcp = createServer();
    const gateway = new SshGateway(opts, ssh, tcp);
    ssh.on('connection', (client: Connection, info: ClientInfo) => gateway.accept(client, info));
    tcp.on('connection', (socket: Socket) => gateway.adopt(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`SSH gateway: cannot listen on ${opts.host}:${opts.port}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message} (--ssh-listen HOST:PORT or off)`)));
      tcp.listen(opts.port, opts.host, () => resolve());
    });
    tcp.on('error', (err: Error) => opts.log.error({ err: String(err) }, 'ssh: server error'));
    opts.log.info({ address: `${opts.host}:${gateway.port}`, hostKey: opts.hostKey.fingerprint }, 'ssh gateway listening');
    return gateway;
  }

  get port(): number {
    return (this.tcp.address() as AddressInfo).port;
  }

  /** Stops listening and ends every connection (their commands are closed with them). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const p of this.sockets.values()) {
      if (p.client) p.client.end();
      else p.socket.destroy();
    }
    await closed;
  }

  private adopt(socket: Socket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const timer = setTimeout(() => {
      this.opts.log.info({ ip: socket.remoteAddress }, 'ssh: login timed out');
      socket.destroy();
    }, this.opts.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS);
    this.sockets.set(key, { socket, timer });
    socket.once('close', () => {
      clearTimeout(timer);
      this.sockets.delete(key);
    });
    this.ssh.injectSocket(socket);
  }

  private accept(client: Connection, info: ClientInfo): void {
    const { log, maxAuthTries = DEFAULT_MAX_AUTH_TRIES } = this.opts;
    const pending = this.sockets.get(`${info.ip}:${info.port}`);
    if (pending) pending.client = client;
    const open = new Set<ExecStream>();
    let user: string | undefined;
    let loginName = '';
    let refused = 0;
    const tried = new Set<string>();
    // The last refusal is the disconnect itself, like OpenSSH's "Too many authentication failures".
    const refuse = (ctx: AuthContext) => {
      if (ctx.method !== 'none' && ++refused >= maxAuthTries) client.end();
      else ctx.reject(['publickey']);
    };
    client.on('authentication', (ctx: AuthContext) => {
      if (refused >= maxAuthTries) return;
      loginName = ctx.username;
      if (ctx.method !== 'publickey') return refuse(ctx);
      tried.add(fingerprintOf(ctx.key.data));
      void this.checkKey(ctx.key.data, ctx.signature, ctx.blob, ctx.hashAlgo).then((owner) => {
        if (!owner) return refuse(ctx);
        // A key query (no signature yet) is only told that the key would do.
        if (ctx.signature) user = owner;
        ctx.accept();
      }, (err: unknown) => {
        log.warn({ err: String(err) }, 'ssh: key lookup failed');
        refuse(ctx);
      });
    });
    client.on('ready', () => {
      clearTimeout(pending?.timer);
      const who = user as string;
      log.info({ user: who, login: loginName, ip: info.ip }, 'ssh: logged in');
      client.on('session', (accept, reject) => {
        if (open.size >= MAX_SESSIONS) return reject();
        const session = accept();
        handleSession(session, { store: this.opts.store, openExec: this.opts.openExec, audit: this.opts.audit, log, user: who, loginName, sourceIp: info.ip, open });
      });
    });
    client.on('error', (err: Error) => log.debug({ err: String(err), ip: info.ip }, 'ssh: connection error'));
    client.on('close', () => {
      for (const stream of open) stream.close();
      if (user === undefined && (refused > 0 || tried.size > 0)) {
        this.opts.audit.write({
          time: new Date().toISOString(),
          actor: '',
          actorKind: 'anonymous',
          action: 'SSH login',
          object: `ssh/${loginName.slice(0, 200)}`,
          status: 401,
          result: 'failed',
          error: 'UNAUTHORIZED',
          request: JSON.stringify({ keys: [...tried].slice(0, 10) }),
          sourceIp: info.ip,
        });
      }
    });
  }

  /**
   * The user whose registered key `blob` is, when the signature (if any) verifies and the
   * user still exists; undefined otherwise.
   */
  private async checkKey(blob: Buffer, signature: Buffer | undefined, signed: Buffer | undefined, hashAlgo: string | undefined): Promise<string | undefined> {
    const found = await findSshKey(this.opts.store, keyIdOf(blob));
    if (!found) return undefined;
    const key = loadPublicKey(found.record.publicKey);
    if (!key.getPublicSSH().equals(blob)) return undefined;
    if (signature && (!signed || key.verify(signed, signature, hashAlgo) !== true)) return undefined;
    return (await getUser(this.opts.store, found.user)) ? found.user : undefined;
  }
}
