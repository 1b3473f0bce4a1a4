/**
 * `GET /v1/sets/:appkey/:id/exec` through the real app on a socket, with a stand-in
 * agent speaking the exec frames: who may exec, which containers, the relay both ways,
 * the audit record, and an agent that goes away mid-session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  EXEC_WS_PROTOCOL, ExecChannel, ExecOutput, WS_BEARER_PREFIX, decodeExecFrame, encodeExecControl, encodeExecData, execQuery, type AuditRecord, type ExecControl, type ExecParams, type SetStatus, type TokenCreated,
} from '@wharf/types';
import { setKeys } from '../state/keys.js';
import { createOpenExec } from '../exec/open.js';
import { adminApi, bearer, heartbeat, placedOn, startTestServer, type TestServer } from '../testing/test-server.js';

interface AgentCall {
  path: string;
  cmd: string[];
  tty: string | null;
  cols: string | null;
  auth: string | undefined;
}

/**
 * An agent's exec endpoint: `cat` echoes stdin until EOF; `fail` writes to stdout and
 * stderr and exits 3; `vanish` writes a line and drops the connection; `wait` runs until
 * closed. Resizes are recorded.
 */
async function startExecAgent(token: string) {
  const calls: AgentCall[] = [];
  const resizes: [number, number][] = [];
  let closedByServer = 0;
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    calls.push({ path: url.pathname, cmd: url.searchParams.getAll('cmd'), tty: url.searchParams.get('tty'), cols: url.searchParams.get('cols'), auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${token}`) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"UNAUTHORIZED","message":"join token"}}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const cmd = url.searchParams.getAll('cmd')[0];
      const out = (channel: ExecChannel, text: string) => ws.send(encodeExecData(channel, Buffer.from(text)));
      const exit = (code: number) => {
        ws.send(encodeExecControl({ type: 'exit', code }));
        ws.close(1000);
      };
      let exited = false;
      ws.on('message', (data, binary) => {
        const f = decodeExecFrame(data as Buffer, binary);
        if (f?.type === 'data' && cmd === 'cat') ws.send(encodeExecData(ExecChannel.stdout, f.data));
        if (f?.type === 'resize') resizes.push([f.cols, f.rows]);
        if (f?.type === 'eof' && cmd === 'cat') {
          exited = true;
          exit(0);
        }
      });
      ws.on('close', () => {
        if (!exited) closedByServer++;
      });
      if (cmd === 'fail') {
        exited = true;
        out(ExecChannel.stdout, 'to stdout\n');
        out(ExecChannel.stderr, 'to stderr\n');
        exit(3);
      } else if (cmd === 'vanish') {
        out(ExecChannel.stdout, 'about to go\n');
        setTimeout(() => socket.destroy(), 20);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    resizes,
    closedByServer: () => closedByServer,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface ClientSession {
  ws: WebSocket;
  stdout: () => string;
  stderr: () => string;
  ended: Promise<{ last?: ExecControl; code: number }>;
}

describe('GET /v1/sets/{appkey}/{id}/exec (WebSocket)', () => {
  let t: TestServer;
  let agent: Awaited<ReturnType<typeof startExecAgent>>;
  let base: string;
  const tokens: Record<string, string> = {};
  const status = (containers: SetStatus['containers']): SetStatus => ({ phase: 'running', observedGeneration: 1, host: 'h1', containers, updatedAt: new Date().toISOString() });
  const c = (name: string, role: 'infra' | 'business', index: number, state: 'running' | 'exited', containerId?: string) => ({
    name, role, index, image: 'busybox', state, restartCount: 0, ...(containerId ? { containerId } : {}),
  });

  /** Opens a session, or answers the refused upgrade's status and error. The token goes as the header, or as the given subprotocols. */
  function exec(set: string, params: ExecParams & { container?: string; tenant?: string }, token: string | { protocols: string[] } = t.admin): Promise<ClientSession | { status: number; code?: string; message?: string }> {
    const q = execQuery(params);
    if (params.container) q.set('container', params.container);
    if (params.tenant) q.set('tenant', params.tenant);
    return new Promise((resolve, reject) => {
      const url = `${base.replace('http', 'ws')}/v1/sets/${set}/exec?${q}`;
      const ws = typeof token === 'string' ? new WebSocket(url, { headers: bearer(token) }) : new WebSocket(url, token.protocols);
      const output = new ExecOutput();
      ws.on('message', (data, binary) => output.add(data as Buffer, binary));
      const ended = new Promise<{ last?: ExecControl; code: number }>((r) => ws.once('close', (code) => r({ ...(output.last ? { last: output.last } : {}), code })));
      ws.once('open', () => resolve({ ws, stdout: () => output.stdout(), stderr: () => output.stderr(), ended }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const e = (JSON.parse(body || '{}') as { error?: { code?: string; message?: string } }).error;
          resolve({ status: res.statusCode ?? 0, ...(e?.code ? { code: e.code } : {}), ...(e?.message ? { message: e.message } : {}) });
          ws.terminate();
        });
      });
      ws.once('error', reject);
    });
  }
  const opened = (s: Awaited<ReturnType<typeof exec>>): ClientSession => {
    assert.ok('ws' in s, `refused: ${JSON.stringify(s)}`);
    return s;
  };
  const audits = async () => (await t.store.list<AuditRecord>('/audit/')).items.map((kv) => kv.value).filter((r) => r.action.endsWith('/exec'));

  before(async () => {
    t = await startTestServer();
    agent = await startExecAgent(t.join);
    const api = adminApi(t);
    assert.equal((await heartbeat(t, { name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 8 * 1024 ** 3, disk: 100 * 1024 ** 3 }, agentUrl: agent.url, agentVersion: 'test', dockerVersion: 'test' })).statusCode, 200);
    assert.equal((await api('PUT', '/v1/tenants/team-b', {})).statusCode, 201);
    for (const [user, roles] of [['dev', { default: 'developer' }], ['vera', { default: 'viewer' }], ['bob', { 'team-b': 'developer' }]] as const) {
      assert.equal((await api('PUT', `/v1/users/${user}`, { password: `${user}-password`, roles })).statusCode, 201);
      const login = await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user, password: `${user}-password` } });
      tokens[user] = (login.json() as TokenCreated).token;
    }
    const containers = [{ index: 0, image: 'busybox', options: { name: 'web' } }, { index: 1, image: 'busybox', options: { name: 'side' } }];
    assert.equal((await api('PUT', '/v1/sets/web/1', { appkey: 'web', id: '1', containers })).statusCode, 201);
    await placedOn(t, 'web/1');
    await t.store.put(setKeys({ tenant: 'default', appkey: 'web', id: '1' }).status, status([c('infra', 'infra', -1, 'running', 'infra-id'), c('web', 'business', 0, 'running', 'web-id'), c('side', 'business', 1, 'exited', 'side-id')]));
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t?.stop();
    await agent?.close();
  });

  it('is in the OpenAPI document with its query', async () => {
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, { get?: { summary?: string; parameters?: { name: string }[] } }> };
    const op = doc.paths['/v1/sets/{appkey}/{id}/exec']?.get;
    assert.match(op?.summary ?? '', /WebSocket/);
    assert.deepEqual(op?.parameters?.map((p) => p.name).filter((n) => ['cmd', 'tty', 'cols', 'rows', 'container', 'tenant'].includes(n)).sort(), ['cmd', 'cols', 'container', 'rows', 'tenant', 'tty']);
  });

  it('a developer runs a command: stdout and stderr apart, the exit code last, an audit record', async () => {
    const s = opened(await exec('web/1', { cmd: ['fail', 'a b'], tty: false }, tokens.dev));
    assert.deepEqual(await s.ended, { last: { type: 'exit', code: 3 }, code: 1000 });
    assert.equal(s.stdout(), 'to stdout\n');
    assert.equal(s.stderr(), 'to stderr\n');
    const call = agent.calls.at(-1);
    assert.deepEqual(call, { path: '/v1/containers/web-id/exec', cmd: ['fail', 'a b'], tty: 'false', cols: null, auth: `Bearer ${t.join}` });
    let rec: AuditRecord | undefined;
    for (let i = 0; i < 200 && !rec; i++) {
      rec = (await audits()).find((r) => r.actor === 'dev' && r.exitStatus === 3);
      if (!rec) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(rec, JSON.stringify(await audits()));
    assert.deepEqual(
      { tenant: rec.tenant, object: rec.object, status: rec.status, result: rec.result, request: rec.request, actorKind: rec.actorKind },
      { tenant: 'default', object: 'sets/web/1/web', status: 200, result: 'ok', request: '{"cmd":["fail","a b"],"tty":false}', actorKind: 'user' },
    );
  });

  it('stdin, EOF and window sizes reach the agent; a named container is used', async () => {
    const s = opened(await exec('web/1', { cmd: ['cat'], tty: true, cols: 100, rows: 30, container: 'web' }));
    assert.equal(agent.calls.at(-1)?.cols, '100');
    s.ws.send(encodeExecControl({ type: 'resize', cols: 120, rows: 40 }));
    s.ws.send(encodeExecData(ExecChannel.stdin, Buffer.from('hello\n')));
    s.ws.send(encodeExecControl({ type: 'eof' }));
    assert.deepEqual(await s.ended, { last: { type: 'exit', code: 0 }, code: 1000 });
    assert.equal(s.stdout(), 'hello\n');
    assert.deepEqual(agent.resizes.at(-1), [120, 40]);
  });

  it('refusals come before the upgrade, as HTTP errors', async () => {
    const refused = async (set: string, params: Parameters<typeof exec>[1], token?: string) => {
      const r = await exec(set, params, token);
      assert.ok(!('ws' in r), `${set} ${JSON.stringify(params)} was not refused`);
      return r;
    };
    const viewer = await refused('web/1', { cmd: ['ls'], tty: false }, tokens.vera);
    assert.deepEqual([viewer.status, viewer.code, viewer.message], [403, 'FORBIDDEN', 'your role in tenant "default" is viewer; this needs developer']);
    const stranger = await refused('web/1', { cmd: ['ls'], tty: false }, tokens.bob);
    assert.deepEqual([stranger.status, stranger.code], [404, 'NOT_FOUND']);
    assert.deepEqual((await refused('web/1', { cmd: ['ls'], tty: false }, 'not-a-token')).status, 401);
    const infra = await refused('web/1', { cmd: ['ls'], tty: false, container: 'infra' });
    assert.equal(infra.status, 403);
    assert.match(infra.message ?? '', /infra container of set web\/1 .* never logged into; name a business container \(web, side\)/);
    const unknown = await refused('web/1', { cmd: ['ls'], tty: false, container: 'nope' });
    assert.deepEqual([unknown.status, unknown.code, unknown.message], [404, 'CONTAINER_NOT_FOUND', 'set web/1 has no container "nope" to exec into (containers: infra, web, side)']);
    const stopped = await refused('web/1', { cmd: ['ls'], tty: false, container: 'side' });
    assert.deepEqual([stopped.status, stopped.code, stopped.message], [409, 'CONFLICT', 'container side of set web/1 is exited, not running']);
    assert.deepEqual([(await refused('web/2', { cmd: ['ls'], tty: false })).code], ['SET_NOT_FOUND']);
    const badSize = await refused('web/1', { cmd: ['ls'], tty: true, cols: 0 });
    assert.equal(badSize.status, 400);
    assert.ok(!agent.calls.some((x) => x.cmd[0] === 'ls'), 'no refused session reached the agent');
    // A plain GET is told what it lacks.
    const plain = await t.app.inject({ url: '/v1/sets/web/1/exec?cmd=ls', headers: bearer(t.admin) });
    assert.equal(plain.statusCode, 400);
    assert.match(plain.json().error.message, /exec is a WebSocket/);
    // Refused attempts are audited too (not those of strangers to the tenant).
    const failed = (await audits()).filter((r) => r.result === 'failed');
    // (Bad input is refused by the schema before anything is looked at, and not audited.)
    assert.deepEqual(failed.map((r) => `${r.actor} ${r.status} ${r.error}`).sort(), ['403 FORBIDDEN', '403 FORBIDDEN', '404 CONTAINER_NOT_FOUND', '404 SET_NOT_FOUND', '409 CONFLICT'].map((x, i) => `${i === 1 ? 'vera' : 'bootstrap-admin'} ${x}`).sort());
  });

  it('an agent that goes away mid-session: the client gets an error frame and the server carries on', async () => {
    const s = opened(await exec('web/1', { cmd: ['vanish'], tty: false }));
    const end = await s.ended;
    assert.equal(s.stdout(), 'about to go\n');
    assert.equal(end.last?.type, 'error');
    assert.equal(end.last?.type === 'error' && end.last.code, 'HOST_UNREACHABLE');
    assert.equal(end.code, 1011);
    assert.equal((await fetch(`${base}/v1/health`)).status, 200);
  });

  it('closing the client ends the session on the agent', async () => {
    const s = opened(await exec('web/1', { cmd: ['wait'], tty: false }));
    const before = agent.closedByServer();
    s.ws.close();
    for (let i = 0; i < 500 && agent.closedByServer() === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(agent.closedByServer(), before + 1);
  });

  it('a browser\'s token comes as a subprotocol: the session answers wharf.exec, never the token; a wrong one is a 401', async () => {
    // The token offered first: ws answers with the first offer unless the server picks.
    const s = opened(await exec('web/1', { cmd: ['fail'], tty: false }, { protocols: [WS_BEARER_PREFIX + (tokens.dev ?? ''), EXEC_WS_PROTOCOL] }));
    assert.equal(s.ws.protocol, EXEC_WS_PROTOCOL);
    assert.deepEqual(await s.ended, { last: { type: 'exit', code: 3 }, code: 1000 });
    assert.equal(s.stdout(), 'to stdout\n');
    const wrong = await exec('web/1', { cmd: ['fail'], tty: false }, { protocols: [EXEC_WS_PROTOCOL, `${WS_BEARER_PREFIX}wharf_user_not-a-real-token`] });
    assert.ok(!('ws' in wrong));
    assert.deepEqual([wrong.status, wrong.code], [401, 'UNAUTHORIZED']);
  });

  it('OpenExec (the SSH gateway\'s way in): output that comes before onData is kept; the join token is checked', async () => {
    const open = createOpenExec(t.store, t.join);
    const stream = await open({ tenant: 'default', appkey: 'web', id: '1', cmd: ['fail'], tty: false });
    const code = await stream.exited;
    const got: string[] = [];
    stream.onData((d, which) => got.push(`${which}:${d.toString()}`));
    assert.equal(code, 3);
    assert.deepEqual(got, ['stdout:to stdout\n', 'stderr:to stderr\n']);
    await assert.rejects(createOpenExec(t.store, 'wrong')({ tenant: 'default', appkey: 'web', id: '1', cmd: ['ls'], tty: false }), { code: 'HOST_UNREACHABLE', message: /refused the server's join token/ });
  });

  it('an agent that does not answer is a 502 before the upgrade', async () => {
    await t.store.put('/hosts/h1', { ...(await t.store.get<Record<string, unknown>>('/hosts/h1'))?.value, agentUrl: 'http://127.0.0.1:1' });
    const r = await exec('web/1', { cmd: ['ls'], tty: false });
    assert.ok(!('ws' in r));
    assert.deepEqual([r.status, r.code], [502, 'HOST_UNREACHABLE']);
    assert.match(r.message ?? '', /agent of host h1 at http:\/\/127\.0\.0\.1:1 did not answer/);
  });
});
