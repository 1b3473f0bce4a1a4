/**
 * A real HAProxy (skipped when the binary is missing, outside CI): slot addresses
 * and states change through the runtime API without a reload (the worker PID stays),
 * traffic reaches only ready slots, a reload for a new frontend keeps them, and
 * a restarted wharf-server takes the running HAProxy over.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Haproxy } from './haproxy.js';
import { parseServersState } from './runtime.js';
import { backendName } from './config.js';
import { freePort } from '../registry/mirror-testing.js';

function haproxyBinary(): string | undefined {
  for (const path of [process.env.WHARF_HAPROXY, '/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].filter((p): p is string => !!p)) {
    try {
      execFileSync(path, ['-v'], { stdio: 'ignore' });
      return path;
    } catch {
      /* look further */
    }
  }
  return undefined;
}

const binary = haproxyBinary();
const skip = !binary && !process.env.CI ? 'haproxy is not installed' : false;

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

describe('haproxy runtime API (real haproxy)', { skip }, () => {
  let dir: string;
  let haproxy: Haproxy;
  const backends: Server[] = [];
  let targetPort = 0;
  let port = 0;
  const be = backendName('default', 'web');
  const lb = () => ({ tenant: 'default', appkey: 'web', lb: { port, targetPort, bind: '127.0.0.1', maxSets: 4 } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-lb-'));
    targetPort = await freePort();
    port = await freePort();
    // Two "sets": the same port on two loopback addresses, answering with their address.
    for (const ip of ['127.0.0.2', '127.0.0.3']) {
      const s = createServer((req, res) => res.end(ip));
      await new Promise<void>((r) => s.listen(targetPort, ip, r));
      backends.push(s);
    }
    haproxy = new Haproxy({ binary: binary ?? 'haproxy', dir }, pino({ level: 'silent' }));
    await haproxy.apply([lb()]);
  });

  after(async () => {
    await haproxy?.stop();
    for (const s of backends) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with every slot in maintenance: no backend, 503', async () => {
    const slots = parseServersState(await haproxy.command(`show servers state ${be}`));
    assert.deepEqual(slots.map((s) => [s.server, s.state]), [['s1', 'maint'], ['s2', 'maint'], ['s3', 'maint'], ['s4', 'maint']]);
    assert.equal((await get(port)).status, 503);
  });

  it('sets addresses and states at runtime; the worker stays the same', async () => {
    const pid = await haproxy.workerPid();
    for (const cmd of [`set server ${be}/s1 addr 127.0.0.2 port ${targetPort}`, `set server ${be}/s1 state ready`, `set server ${be}/s2 addr 127.0.0.3 port ${targetPort}`, `set server ${be}/s2 state drain`]) {
      const answer = await haproxy.command(cmd);
      assert.doesNotMatch(answer, /unknown|invalid|error|require/i, `${cmd}: ${answer}`);
    }
    const slots = parseServersState(await haproxy.command(`show servers state ${be}`));
    assert.deepEqual(slots.slice(0, 2).map((s) => [s.addr, s.port, s.state]), [['127.0.0.2', targetPort, 'ready'], ['127.0.0.3', targetPort, 'drain']]);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(port)).body);
    assert.deepEqual([...seen], ['127.0.0.2'], 'a draining slot gets no new connection');
    await haproxy.command(`set server ${be}/s2 state ready`);
    for (let i = 0; i < 6; i++) seen.add((await get(port)).body);
    assert.deepEqual([...seen].sort(), ['127.0.0.2', '127.0.0.3']);
    assert.equal(await haproxy.workerPid(), pid);
  });

  it('a reload for another frontend keeps the slots', async () => {
    const pid = await haproxy.workerPid();
    const other = await freePort();
    await haproxy.apply([lb(), { tenant: 'default', appkey: 'other', lb: { port: other, targetPort, bind: '127.0.0.1', maxSets: 2 } }]);
    assert.notEqual(await haproxy.workerPid(), pid);
    const slots = parseServersState(await haproxy.command(`show servers state ${be}`));
    assert.deepEqual(slots.slice(0, 2).map((s) => [s.addr, s.state]), [['127.0.0.2', 'ready'], ['127.0.0.3', 'ready']]);
    assert.equal((await get(port)).status, 200);
  });

  it('a new wharf-server on the same directory takes HAProxy over without restarting it', async () => {
    const pid = await haproxy.workerPid();
    const frontends = [lb(), { tenant: 'default', appkey: 'other', lb: { port: (await freePort()), targetPort, bind: '127.0.0.1', maxSets: 2 } }];
    const next = new Haproxy({ binary: binary ?? 'haproxy', dir }, pino({ level: 'silent' }));
    // The same config as the running one, save for the new free port: it reloads, it does not restart.
    await next.apply(frontends);
    assert.equal(next.running, true);
    assert.notEqual(await next.workerPid(), 0);
    assert.notEqual(await next.workerPid(), pid);
    const slots = parseServersState(await next.command(`show servers state ${be}`));
    assert.deepEqual(slots.slice(0, 2).map((s) => [s.addr, s.state]), [['127.0.0.2', 'ready'], ['127.0.0.3', 'ready']]);
    haproxy = next;
  });
});
