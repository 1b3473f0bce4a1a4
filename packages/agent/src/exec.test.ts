/** The agent's exec WebSocket with the in-memory engine: auth, which containers, the frames both ways, the end. */
import { after, before, beforeEach, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { ExecChannel, ExecOutput, encodeExecControl, encodeExecData, execQuery, type ExecControl, type ExecParams } from '@wharf/types';
import { FakeEngine } from './docker/fake-engine.js';
import { LOGIN_SHELL, parseExecQuery } from './exec.js';
import { createHttpServer } from './http.js';

const base = { image: 'img', env: [], ports: [], privileged: false, ipcMode: '', networkMode: '', binds: [], restartPolicy: 'no' as const };
const labels = (name: string, role: string) => ({ 'wharf.managed': 'true', 'wharf.set': 't/app/1', 'wharf.name': name, 'wharf.role': role });

async function setup() {
  const engine = new FakeEngine(['img']);
  const web = await engine.create({ ...base, dockerName: 't_app_1_web', labels: labels('web', 'business') });
  const infra = await engine.create({ ...base, dockerName: 't_app_1_infra', labels: labels('infra', 'infra') });
  const stopped = await engine.create({ ...base, dockerName: 't_app_1_side', labels: labels('side', 'business') });
  const other = await engine.create({ ...base, dockerName: 'someone-elses', labels: {} });
  for (const id of [web, infra, other]) await engine.start(id);
  const server = createHttpServer({ engine, token: 'secret', log: pino({ level: 'silent' }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { engine, server, url, ids: { web, infra, stopped, other }, close };
}

interface Session {
  ws: WebSocket;
  stdout: () => string;
  stderr: () => string;
  /** The last control frame and the close code. */
  ended: Promise<{ last?: ExecControl; code: number }>;
}

/** Opens a session, or answers the refused upgrade's status and error code. */
function connect(url: string, id: string, params: ExecParams, token = 'secret'): Promise<Session | { status: number; code?: string }> {
  return open(`${url}/v1/containers/${id}/exec?${execQuery(params)}`, token);
}

function open(url: string, token: string): Promise<Session | { status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const output = new ExecOutput();
    ws.on('message', (data, binary) => output.add(data as Buffer, binary));
    const ended = new Promise<{ last?: ExecControl; code: number }>((r) => ws.once('close', (code) => r({ ...(output.last ? { last: output.last } : {}), code })));
    ws.once('open', () => resolve({ ws, stdout: () => output.stdout(), stderr: () => output.stderr(), ended }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body || '{}') as { error?: { code?: string } }).error?.code }));
    });
    ws.once('error', reject);
  });
}

function opened(s: Awaited<ReturnType<typeof connect>>): Session {
  assert.ok('ws' in s, `the upgrade was refused: ${JSON.stringify(s)}`);
  return s;
}

/** The fake's own default: stdin to stdout, exit 0 at EOF. */
const catLike = new FakeEngine().sessionHandler;

describe('exec over the agent API', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    t = await setup();
  });
  after(() => t?.close());
  beforeEach(() => {
    t.engine.sessions.length = 0;
    t.engine.sessionHandler = catLike;
  });

  it('stdin goes in, stdout comes out, EOF ends it with the exit code', async () => {
    const s = opened(await connect(t.url, t.ids.web, { cmd: ['cat'], tty: false }));
    s.ws.send(encodeExecData(ExecChannel.stdin, Buffer.from('hello ')));
    s.ws.send(encodeExecData(ExecChannel.stdin, Buffer.from('world\n')));
    s.ws.send(encodeExecControl({ type: 'eof' }));
    const end = await s.ended;
    assert.deepEqual(end, { last: { type: 'exit', code: 0 }, code: 1000 });
    assert.equal(s.stdout(), 'hello world\n');
    assert.deepEqual(t.engine.sessions[0]?.opts, { cmd: ['cat'], tty: false });
  });

  it('stdout and stderr stay apart; the exit frame comes after all output', async () => {
    t.engine.sessionHandler = async (s) => {
      s.stdout.write('out 1\n');
      s.stderr.write('err 1\n');
      s.stdout.write('x'.repeat(200_000));
      return 3;
    };
    const s = opened(await connect(t.url, t.ids.web, { cmd: ['sh', '-c', 'exit 3'], tty: false, env: ['A=1'] }));
    assert.deepEqual(await s.ended, { last: { type: 'exit', code: 3 }, code: 1000 });
    assert.equal(s.stdout(), `out 1\n${'x'.repeat(200_000)}`);
    assert.equal(s.stderr(), 'err 1\n');
    assert.deepEqual(t.engine.sessions[0]?.opts.env, ['A=1']);
  });

  it('a TTY gets its size at the start and on every resize; no command is the login shell', async () => {
    const s = opened(await connect(t.url, t.ids.web, { cmd: [], tty: true, cols: 100, rows: 30 }));
    s.ws.send(encodeExecControl({ type: 'resize', cols: 120, rows: 40 }));
    await waitFor(() => t.engine.sessions[0]?.resizes.length === 1);
    assert.deepEqual(t.engine.sessions[0]?.opts, { cmd: LOGIN_SHELL, tty: true, cols: 100, rows: 30 });
    assert.deepEqual(t.engine.sessions[0]?.resizes, [[120, 40]]);
    s.ws.send(encodeExecControl({ type: 'eof' }));
    assert.equal((await s.ended).code, 1000);
  });

  it('closing the WebSocket ends the command', async () => {
    t.engine.sessionHandler = () => new Promise(() => undefined); // never ends by itself
    const s = opened(await connect(t.url, t.ids.web, { cmd: ['sleep', '1000'], tty: false }));
    await waitFor(() => t.engine.sessions.length === 1);
    s.ws.close();
    await waitFor(() => t.engine.sessions[0]?.closed === true);
  });

  it('a frame a client may not send ends the session with an error frame', async () => {
    const s = opened(await connect(t.url, t.ids.web, { cmd: ['cat'], tty: false }));
    s.ws.send(encodeExecData(ExecChannel.stdout, Buffer.from('not yours')));
    const end = await s.ended;
    assert.equal(end.last?.type, 'error');
    assert.equal(end.last?.type === 'error' && end.last.code, 'BAD_REQUEST');
    assert.equal(end.code, 1008);
    await waitFor(() => t.engine.sessions[0]?.closed === true);
  });

  it('refused before the upgrade — no token, infra, unmanaged, stopped, bad query, other routes', async () => {
    assert.deepEqual(await connect(t.url, t.ids.web, { cmd: ['sh'], tty: false }, 'wrong'), { status: 401, code: 'UNAUTHORIZED' });
    assert.deepEqual(await connect(t.url, t.ids.infra, { cmd: ['sh'], tty: false }), { status: 403, code: 'FORBIDDEN' });
    assert.deepEqual(await connect(t.url, t.ids.other, { cmd: ['sh'], tty: false }), { status: 404, code: 'CONTAINER_NOT_FOUND' });
    assert.deepEqual(await connect(t.url, 'nope', { cmd: ['sh'], tty: false }), { status: 404, code: 'CONTAINER_NOT_FOUND' });
    assert.deepEqual(await connect(t.url, t.ids.stopped, { cmd: ['sh'], tty: false }), { status: 409, code: 'CONFLICT' });
    assert.deepEqual(await connect(t.url, t.ids.web, { cmd: ['sh'], tty: true, cols: 0 }), { status: 400, code: 'BAD_REQUEST' });
    assert.deepEqual(await open(`${t.url}/v1/containers/${t.ids.web}/logs`, 'secret'), { status: 404, code: 'NOT_FOUND' });
    assert.equal(t.engine.sessions.length, 0, 'nothing was started');
  });
});

test('exec: stopping the HTTP API ends open sessions', async () => {
  const t = await setup();
  t.engine.sessionHandler = () => new Promise(() => undefined);
  const s = opened(await connect(t.url, t.ids.web, { cmd: ['sleep', '1000'], tty: false }));
  await t.close();
  assert.equal((await s.ended).code, 1006);
  await waitFor(() => t.engine.sessions[0]?.closed === true);
});

test('exec: query parsing', () => {
  const q = (s: string) => parseExecQuery(new URL(`http://agent/v1/containers/x/exec?${s}`));
  assert.deepEqual(q('cmd=ls&cmd=-l&cmd=a%20b'), { cmd: ['ls', '-l', 'a b'], tty: false });
  assert.deepEqual(q('tty=1&cols=80&rows=24'), { cmd: LOGIN_SHELL, tty: true, cols: 80, rows: 24 });
  assert.throws(() => q('tty=maybe'), /tty must be true or false/);
  assert.throws(() => q('rows=-3'), /rows must be a whole number from 1 to 10000, not "-3"/);
  assert.throws(() => q('env=NOEQUALS'), /env entries are KEY=value, not "NOEQUALS"/);
});

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'condition not met within 30 s');
}
