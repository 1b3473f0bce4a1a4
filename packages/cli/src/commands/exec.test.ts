/** `wharf exec` as a user runs it (the built CLI in a child process) against a stand-in exec WebSocket. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ExecChannel, decodeExecFrame, encodeExecControl, encodeExecData, type ExecFrame } from '@wharf/types';
import { runCli, type CliResult } from '../testing/run-cli.js';

interface Upgrade {
  url: URL;
  headers: IncomingHttpHeaders;
  /** What the client sent, in order (stdin as text). */
  frames: (ExecFrame | { type: 'stdin'; text: string })[];
}

/** What the stand-in server does with a session; `refuse` answers the upgrade with an API error instead. */
let behaviour: (ws: WebSocket, u: Upgrade) => void = () => undefined;
let refuse: { status: number; code: string; message: string } | undefined;
const upgrades: Upgrade[] = [];
let server: Server;
let url: string;
let home: string;

before(async () => {
  const wss = new WebSocketServer({ noServer: true });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const u: Upgrade = { url: new URL(req.url ?? '/', 'http://server'), headers: req.headers, frames: [] };
    upgrades.push(u);
    if (refuse) {
      const body = JSON.stringify({ error: { code: refuse.code, message: refuse.message } });
      socket.end(`HTTP/1.1 ${refuse.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, binary) => {
        const f = decodeExecFrame(data as Buffer, binary);
        if (f) u.frames.push(f.type === 'data' ? { type: 'stdin', text: Buffer.from(f.data).toString() } : f);
      });
      behaviour(ws, u);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  home = mkdtempSync(join(tmpdir(), 'wharf-cli-exec-'));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(home, { recursive: true, force: true });
});

function wharf(args: string[], stdin?: string): Promise<CliResult> {
  return runCli(args, { server: url, home, env: { WHARF_TOKEN: 'tok-1' }, ...(stdin !== undefined ? { stdin } : {}) });
}

const send = (ws: WebSocket, channel: ExecChannel, text: string) => ws.send(encodeExecData(channel, Buffer.from(text)));
const exit = (ws: WebSocket, code: number) => {
  ws.send(encodeExecControl({ type: 'exit', code }));
  ws.close(1000);
};

test('runs the command: stdout and stderr apart, the remote exit code is the exit code; no -i sends EOF at once', async () => {
  refuse = undefined;
  behaviour = (ws) => {
    send(ws, ExecChannel.stdout, 'out\n');
    send(ws, ExecChannel.stderr, 'err\n');
    ws.once('message', () => exit(ws, 3));
  };
  const r = await wharf(['exec', '--tenant', 'team-a', 'com.example.web/1', '-c', 'side', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  const u = upgrades.at(-1);
  assert.equal(u?.url.pathname, '/v1/sets/com.example.web/1/exec');
  assert.deepEqual(u?.url.searchParams.getAll('cmd'), ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([u?.url.searchParams.get('tty'), u?.url.searchParams.get('container'), u?.url.searchParams.get('tenant')], ['false', 'side', 'team-a']);
  assert.equal(u?.headers.authorization, 'Bearer tok-1');
  assert.deepEqual(u?.frames, [{ type: 'eof' }]);
});

test('-i passes stdin and then its end', async () => {
  refuse = undefined;
  behaviour = (ws, u) => {
    ws.on('message', () => {
      const text = u.frames.filter((f) => f.type === 'stdin').map((f) => (f as { text: string }).text).join('');
      if (u.frames.at(-1)?.type === 'eof') {
        send(ws, ExecChannel.stdout, text.toUpperCase());
        exit(ws, 0);
      }
    });
  };
  const r = await wharf(['exec', '-i', 'com.example.web/1', '--', 'cat'], 'line one\nline two\n');
  assert.deepEqual(r, { code: 0, stdout: 'LINE ONE\nLINE TWO\n', stderr: '' });
});

test('an error frame is told on stderr with exit code 1; a lost connection too', async () => {
  refuse = undefined;
  behaviour = (ws) => {
    ws.send(encodeExecControl({ type: 'error', code: 'HOST_UNREACHABLE', message: 'agent of host h1: the connection was lost' }));
    ws.close(1011);
  };
  assert.deepEqual(await wharf(['exec', 'com.example.web/1', '--', 'ls']), { code: 1, stdout: '', stderr: 'wharf: agent of host h1: the connection was lost\n' });
  behaviour = (ws) => ws.terminate();
  const lost = await wharf(['exec', 'com.example.web/1', '--', 'ls']);
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /^wharf: the exec session ended without an exit code \(the connection to the server was lost\)\n$/);
});

test('a refused upgrade is told like any API error', async () => {
  refuse = { status: 403, code: 'FORBIDDEN', message: 'your role in tenant "default" is viewer; this needs developer' };
  const r = await wharf(['exec', 'com.example.web/1', '--', 'ls']);
  assert.deepEqual(r, { code: 1, stdout: '', stderr: 'wharf: your role in tenant "default" is viewer; this needs developer\n' });
  refuse = undefined;
});

test('no command and no -t is a usage error; -t asks for a TTY', async () => {
  const before = upgrades.length;
  const r = await wharf(['exec', 'com.example.web/1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no command: put it after "--" \(wharf exec APPKEY\/ID -- CMD…\), or use -it for a shell/);
  assert.equal(upgrades.length, before, 'nothing was opened');
  behaviour = (ws) => exit(ws, 0);
  assert.equal((await wharf(['exec', '-t', 'com.example.web/1'])).code, 0);
  assert.deepEqual([upgrades.at(-1)?.url.searchParams.getAll('cmd'), upgrades.at(-1)?.url.searchParams.get('tty')], [[], 'true']);
});

test('--help shows examples', async () => {
  const r = await wharf(['exec', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Examples:\n {2}\$ wharf exec com\.example\.web\/1 -- ls -l \/data/);
  assert.match(r.stdout, /-i, --interactive/);
});
