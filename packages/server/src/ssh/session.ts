/**
 * One SSH session channel of an authenticated user: the pty and environment the client
 * asks for, then a shell or a command in the container the login name names, through
 * OpenExec. Bytes are pumped both ways, window changes resize the TTY, the exit status
 * goes back to the client, and the session is written to the audit log.
 *
 *   pty-req, env ─► (kept) ─► shell | exec ─► authorise (developer in the tenant)
 *        window-change ─► resize             ─► resolve target ─► OpenExec ─► pump ─► exit-status, close, audit
 */
import type { Logger } from 'pino';
import type { ServerChannel, Session } from 'ssh2';
import type { Store } from '@wharf/store';
import { WharfError, type AuditRecord } from '@wharf/types';
import { requestSummary } from '../audit/log.js';
import { requireTenant } from '../auth/principal.js';
import type { ExecStream, OpenExec } from '../exec/types.js';
import { getUser } from '../state/identity.js';
import { parseLoginName, resolveTarget, type Target } from './target.js';

/** The exit status of a session the gateway refused or lost (like ssh's own failures). */
export const REFUSED_EXIT_STATUS = 255;
const MAX_ENV = 64;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface SessionContext {
  store: Store;
  openExec: OpenExec;
  audit: { write(rec: AuditRecord): void };
  log: Logger;
  /** The user whose key authenticated the connection. */
  user: string;
  /** The login name: which container to enter. */
  loginName: string;
  sourceIp: string;
  /** The connection's open commands, closed when it ends. */
  open: Set<ExecStream>;
}

interface Pty {
  term: string;
  cols: number;
  rows: number;
}

/** The WharfError behind a refusal; anything else is logged and told as an internal error. */
function asWharfError(err: unknown, log: Logger): WharfError {
  if (err instanceof WharfError) return err;
  log.error({ err: String(err) }, 'ssh: session failed');
  return new WharfError('INTERNAL', 'the SSH gateway failed to start the session; see the server log');
}

export function handleSession(session: Session, ctx: SessionContext): void {
  let pty: Pty | undefined;
  let exec: ExecStream | undefined;
  const env: string[] = [];
  session.on('pty', (accept, _reject, info) => {
    pty = { term: info.term || 'xterm', cols: info.cols || 80, rows: info.rows || 24 };
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    if (pty) pty = { ...pty, cols: info.cols, rows: info.rows };
    exec?.resize(info.cols, info.rows);
    accept?.();
  });
  session.on('env', (accept, reject, info) => {
    if (env.length >= MAX_ENV || !ENV_NAME.test(info.key)) return reject?.();
    env.push(`${info.key}=${info.val}`);
    accept?.();
  });
  const start = (channel: ServerChannel, kind: 'shell' | 'exec', command: string) => {
    void run(channel, kind, command).catch((err: unknown) => ctx.log.error({ err: String(err) }, 'ssh: session failed'));
  };
  session.on('shell', (accept) => start(accept(), 'shell', ''));
  session.on('exec', (accept, _reject, info) => start(accept(), 'exec', info.command));
  // No 'subsystem'/'sftp' listener: ssh2 refuses them (scp needs -O, see docs/ssh.md).

  async function run(channel: ServerChannel, kind: 'shell' | 'exec', command: string): Promise<void> {
    const time = new Date().toISOString();
    const tty = pty !== undefined;
    let target: Target | undefined;
    const request = requestSummary({ ...(kind === 'exec' ? { command } : {}), tty });
    const audit = (fields: Pick<AuditRecord, 'status' | 'result'> & Partial<AuditRecord>) => ctx.audit.write({
      time,
      actor: ctx.user,
      actorKind: 'user',
      action: `SSH ${kind}`,
      object: target ? `sets/${target.appkey}/${target.id}/${target.container}` : `ssh/${ctx.loginName.slice(0, 200)}`,
      ...(request !== undefined ? { request } : {}),
      sourceIp: ctx.sourceIp,
      ...fields,
    });
    // The client may go at any time: nothing is written to a closed channel.
    let gone = false;
    channel.once('close', () => (gone = true));
    const quiet = (err: Error) => ctx.log.debug({ err: String(err) }, 'ssh: channel error');
    channel.on('error', quiet);
    channel.stderr.on('error', quiet);
    // Without a TTY the client keeps stderr apart; with one there is only the terminal.
    const say = (text: string) => void (gone ? undefined : (tty ? channel : channel.stderr).write(tty ? text.replace(/\n/g, '\r\n') : text));
    const finish = (code: number) => {
      if (gone) return;
      channel.exit(code);
      channel.end();
    };
    let tenant: string | undefined;
    try {
      const login = parseLoginName(ctx.loginName);
      tenant = login.tenant;
      const user = await getUser(ctx.store, ctx.user);
      if (!user) throw new WharfError('UNAUTHORIZED', `user "${ctx.user}" no longer exists`);
      requireTenant(user.value, login.tenant, 'write');
      target = await resolveTarget(ctx.store, login);
      exec = await ctx.openExec({
        tenant: target.tenant, appkey: target.appkey, id: target.id, container: target.container,
        cmd: kind === 'exec' ? ['sh', '-c', command] : [],
        tty,
        ...(pty ? { cols: pty.cols, rows: pty.rows } : {}),
        env: pty ? [`TERM=${pty.term}`, ...env] : env,
      });
    } catch (err) {
      const e = asWharfError(err, ctx.log);
      say(`wharf: ${e.message}\n`);
      finish(REFUSED_EXIT_STATUS);
      audit({ ...(tenant ? { tenant } : {}), status: e.status, result: 'failed', error: e.code });
      ctx.log.info({ user: ctx.user, login: ctx.loginName, ip: ctx.sourceIp, code: e.code }, 'ssh: session refused');
      return;
    }
    const stream = exec;
    ctx.open.add(stream);
    ctx.log.info({ user: ctx.user, target, kind, tty, ip: ctx.sourceIp }, 'ssh: session started');
    stream.onData((data, which) => void (gone ? undefined : (which === 'stderr' && !tty ? channel.stderr : channel).write(data)));
    channel.on('data', (data: Buffer) => stream.write(data));
    // Like sshd: with a TTY the client's EOF does not reach the command (^D typed on the
    // terminal does); without one it ends the command's stdin.
    channel.on('end', () => void (tty ? undefined : stream.endInput()));
    if (gone) stream.close();
    else channel.once('close', () => stream.close());
    // Undefined when the client went before the command ended (and it was killed with the session).
    let code: number | undefined;
    try {
      code = await stream.exited;
    } catch (err) {
      if (!gone) {
        say(`wharf: ${asWharfError(err, ctx.log).message}\n`);
        code = REFUSED_EXIT_STATUS;
      }
    }
    ctx.open.delete(stream);
    if (code !== undefined) finish(code);
    audit({ tenant: target.tenant, status: 200, result: 'ok', ...(code !== undefined ? { exitStatus: code } : {}) });
  }
}
