import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WharfError } from '@wharf/types';
import { Agents, agentPath } from './agents.js';

let server: Server;
let host: { name: string; agentUrl: string };
const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      const reply = (status: number, text: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      switch (req.url?.split('?')[0]) {
        case '/ok': return reply(200, JSON.stringify({ fine: true }));
        case '/none': return void res.writeHead(204).end();
        case '/small': return reply(409, JSON.stringify({ error: { code: 'VOLUME_TOO_SMALL', message: 'it holds 2Gi', details: { used: 2 } } }));
        case '/auth': return reply(401, JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'bad token' } }));
        case '/route': return reply(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no route' } }));
        case '/broken': return reply(500, '<html>oops</html>');
        case '/garbage': return reply(200, 'not json');
        case '/slow': return void setTimeout(() => reply(200, '{}'), 500);
        default: return reply(404, '{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = { name: 'h1', agentUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
});

after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(p: Promise<unknown>): Promise<WharfError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WharfError, String(err));
    return err;
  }
  assert.fail('no error');
}

test('agent calls: JSON both ways with the join token; errors passed on or made HOST_UNREACHABLE', async () => {
  const agents = new Agents('join-secret', 200);
  assert.deepEqual(await agents.call(host, 'POST', '/ok', { bytes: 5 }), { fine: true });
  assert.deepEqual(seen.at(-1), { method: 'POST', url: '/ok', auth: 'Bearer join-secret', body: '{"bytes":5}' });
  assert.equal(await agents.call(host, 'DELETE', '/none'), undefined);

  const small = await failure(agents.call(host, 'POST', '/small'));
  assert.deepEqual([small.code, small.message, small.details], ['VOLUME_TOO_SMALL', 'it holds 2Gi', { used: 2, host: 'h1' }]);
  const auth = await failure(agents.call(host, 'GET', '/auth'));
  assert.deepEqual([auth.code, auth.message], ['HOST_UNREACHABLE', "agent of host h1 refused the server's join token (bad token)"]);
  const route = await failure(agents.call(host, 'GET', '/route?x=1'));
  assert.deepEqual([route.code, route.message], ['HOST_UNREACHABLE', 'agent of host h1 does not serve GET /route (is it older than the server?)']);
  const broken = await failure(agents.call(host, 'GET', '/broken'));
  assert.deepEqual([broken.code, broken.message], ['HOST_UNREACHABLE', 'agent of host h1 answered GET /broken with 500: <html>oops</html>']);
  assert.match((await failure(agents.call(host, 'GET', '/garbage'))).message, /^agent of host h1 answered GET \/garbage with something that is not JSON/);
  const slow = await failure(agents.call(host, 'GET', '/slow'));
  assert.equal(slow.message, `agent of host h1 at ${host.agentUrl} did not answer: no answer within 0s`);
  assert.deepEqual(await agents.call(host, 'GET', '/slow', undefined, { timeoutMs: 5000 }), {});
  const down = await failure(new Agents('t').call({ name: 'h9', agentUrl: 'http://127.0.0.1:1' }, 'GET', '/v1/trash'));
  assert.match(down.message, /^agent of host h9 at http:\/\/127\.0\.0\.1:1 did not answer: connect ECONNREFUSED/);
  assert.equal(down.status, 502);
});

test('agent streams pass errors on the same way', async () => {
  const agents = new Agents('join-secret');
  const ok = await agents.stream(host, '/ok');
  assert.equal(await ok.text(), '{"fine":true}');
  assert.equal((await failure(agents.stream(host, '/small'))).code, 'VOLUME_TOO_SMALL');
  assert.equal(agentPath('volumes', 'default', 'a/b', '1'), '/v1/volumes/default/a%2Fb/1');
});
