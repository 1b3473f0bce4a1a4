/**
 * `GET /v1/sets/:appkey/:id/exec` upgraded to a WebSocket: a command in a set's
 * business container (`wharf exec`, the console's terminal). Everything is checked
 * before the upgrade, so refusals are ordinary HTTP errors:
 *
 *   onRequest: token, role in the tenant ─▶ preHandler: developer? set, container, host
 *   (404/403/409) ─▶ session opened on the agent (502 when it does not answer) ─▶ 101
 *   ─▶ frames relayed both ways (docs/api.md "Exec") ─▶ exit or error frame, close ─▶ audit record
 *
 * A session is written to the audit log when it ends (who, tenant, set, container,
 * command, exit status), as is an attempt refused after the token was accepted.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import { ExecChannel, MAX_TTY_SIZE, NAME_PATTERN, WharfError, decodeExecFrame, encodeExecControl, encodeExecData, type AuditRecord, type ExecControl } from '@wharf/types';
import { requestSummary } from '../audit/log.js';
import { principal } from '../auth/hook.js';
import { requireTenant } from '../auth/principal.js';
import { connectAgentExec, resolveExecTarget } from '../exec/open.js';
import type { ExecStream } from '../exec/types.js';
import type { App, RouteContext } from './context.js';
import { SetParams, TenantQuery, errors, tenantOf } from './schemas.js';

const ExecQuery = Type.Object({
  ...TenantQuery.properties,
  container: Type.Optional(Type.String({ pattern: NAME_PATTERN, description: 'A business container (default: the one with the lowest index)' })),
  cmd: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 1000 })], {
      description: 'The command, one `cmd` parameter per argument (`cmd=sh&cmd=-c&cmd=echo%20hi`). None: the container\'s shell (bash when it has one, else /bin/sh)',
    }),
  ),
  tty: Type.Optional(Type.Boolean({ description: 'Run the command on a TTY (stdout and stderr then come together on channel 1)' })),
  cols: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTY_SIZE, description: 'The TTY\'s width to start with' })),
  rows: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTY_SIZE, description: 'The TTY\'s height to start with' })),
});

/** A session opened in the preHandler, waiting for the upgrade. */
interface Pending {
  stream: ExecStream;
  audit: (fields: Pick<AuditRecord, 'status' | 'result'> & Partial<AuditRecord>) => void;
}

export function execRoutes(app: App, { store, joinToken, cluster, audit }: RouteContext): void {
  const pending = new WeakMap<FastifyRequest['raw'], Pending>();

  app.route({
    method: 'GET',
    url: '/v1/sets/:appkey/:id/exec',
    config: { access: 'tenant' },
    schema: {
      tags: ['sets'],
      summary: 'Run a command in a container of a set (WebSocket)',
      description:
        'A WebSocket (send the GET with `Connection: Upgrade`, `Upgrade: websocket`). Needs the developer role in the tenant. ' +
        'Binary frames are `[channel byte][bytes]` (0 stdin, 1 stdout, 2 stderr); text frames are JSON control messages: ' +
        '`{"type":"resize","cols","rows"}` and `{"type":"eof"}` from the client, `{"type":"exit","code"}` (the last frame) and ' +
        '`{"type":"error","code","message"}` from the server. Never into the infra container (403). Closing the socket kills the command.',
      params: SetParams,
      querystring: ExecQuery,
      response: errors(400, 401, 403, 404, 409, 502),
    },
    preHandler: async (req) => {
      const who = principal(req);
      const tenant = tenantOf(req.query);
      const { appkey, id } = req.params;
      const cmd = req.query.cmd === undefined ? [] : Array.isArray(req.query.cmd) ? req.query.cmd : [req.query.cmd];
      const tty = req.query.tty ?? false;
      const time = new Date().toISOString();
      const request = requestSummary({ cmd, tty });
      let object = `sets/${appkey}/${id}`;
      const record: Pending['audit'] = (fields) =>
        audit.write({
          time, actor: who.name, actorKind: who.kind === 'admin' ? 'admin' : 'user', tenant, action: 'GET /v1/sets/:appkey/:id/exec', object,
          ...(request !== undefined ? { request } : {}), sourceIp: req.ip, ...fields,
        });
      try {
        requireTenant(who, tenant, 'write');
        const target = await resolveExecTarget(store, { tenant, appkey, id, ...(req.query.container !== undefined ? { container: req.query.container } : {}) });
        object = `sets/${appkey}/${id}/${target.container.name}`;
        if (!req.ws) return; // the handler explains what is missing
        const { cols, rows } = req.query;
        const stream = await connectAgentExec(target, { cmd, tty, ...(cols !== undefined ? { cols } : {}), ...(rows !== undefined ? { rows } : {}) }, joinToken, cluster?.server);
        pending.set(req.raw, { stream, audit: record });
        // If the upgrade never completes the command must not run on.
        req.raw.socket.once('close', () => stream.close());
      } catch (err) {
        if (req.ws && err instanceof WharfError && err.code !== 'NOT_FOUND') record({ status: err.status, result: 'failed', error: err.code });
        throw err;
      }
    },
    handler: async () => {
      throw new WharfError('BAD_REQUEST', 'exec is a WebSocket: send the GET with "Connection: Upgrade" and "Upgrade: websocket" (wharf exec does)');
    },
    wsHandler: (socket, req) => {
      const session = pending.get(req.raw);
      pending.delete(req.raw);
      if (!session) return socket.close(1011);
      relay(socket, session);
    },
  });
}

/** Frames between the client's WebSocket and the session, until the command ends or either side goes. */
function relay(socket: WebSocket, { stream, audit }: Pending): void {
  const finish = (last: ExecControl, closeCode: number): void => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(encodeExecControl(last));
    socket.close(closeCode);
  };
  stream.onData((data, which) => {
    if (socket.readyState === socket.OPEN) socket.send(encodeExecData(which === 'stdout' ? ExecChannel.stdout : ExecChannel.stderr, data));
  });
  socket.on('message', (data: RawData, binary: boolean) => {
    const frame = decodeExecFrame(data as Buffer | ArrayBuffer | Buffer[], binary);
    if (frame?.type === 'data' && frame.channel === ExecChannel.stdin) stream.write(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
    else if (frame?.type === 'resize') stream.resize(frame.cols, frame.rows);
    else if (frame?.type === 'eof') stream.endInput();
    else {
      finish({ type: 'error', code: 'BAD_REQUEST', message: 'not a frame a client sends: binary stdin (channel 0), or {"type":"resize"|"eof"}' }, 1008);
      stream.close();
    }
  });
  let clientGone = false;
  socket.on('close', () => {
    clientGone = true;
    stream.close();
  });
  socket.on('error', () => socket.terminate());
  stream.exited.then(
    (code) => {
      finish({ type: 'exit', code }, 1000);
      audit({ status: 200, result: 'ok', exitStatus: code });
    },
    (err: unknown) => {
      // The client ended the session: no exit status, nothing failed.
      if (clientGone) return audit({ status: 200, result: 'ok' });
      const e = err instanceof WharfError ? err : new WharfError('INTERNAL', err instanceof Error ? err.message : String(err));
      finish({ type: 'error', code: e.code, message: e.message }, 1011);
      audit({ status: e.status, result: 'failed', error: e.code });
    },
  );
}
