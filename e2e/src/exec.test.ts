/**
 * `wharf exec` through server → agent → a real dockerd: stdout and stderr apart with the
 * exit code, stdin and its end, a TTY with its size (under `script`, which gives the CLI
 * a terminal), the infra container refused (by the server and by the agent itself), the
 * command killed when the CLI goes, and an agent that dies mid-session.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { SetView } from '@wharf/types';
import type { DockerHost } from './harness/docker-host.js';
import { Platform } from './harness/platform.js';
import { run, waitFor, type RunResult } from './harness/exec.js';
import { LOOP } from './harness/images.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const WHARF = join(ROOT, 'bin/wharf');
const SET = 'e2e.exec/1';

describe('wharf exec on a real Docker engine', () => {
  let wharf: Platform;
  let host: DockerHost;
  let set: SetView;
  const env = () => ({ ...process.env, WHARF_SERVER: wharf.url, WHARF_TOKEN: wharf.adminToken, WHARF_CONFIG: join(wharf.dir, 'no-config.json') });
  const containerId = (name: string) => set.containers.find((c) => c.name === name)?.containerId ?? assert.fail(`no ${name} in ${JSON.stringify(set.containers)}`);
  /** The command lines running in a container (its /proc, read by a `docker exec` of its own). */
  const processes = async (name: string) => (await host.docker(['exec', containerId(name), 'ps'])).stdout;

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    host = wharf.host('h1');
    const container = (index: number, name: string) => ({ index, image: 'wharf/busybox:latest', options: { name, command: { cmd: '/bin/sh', args: ['-c', LOOP] } } });
    await wharf.client.applySet({ appkey: 'e2e.exec', id: '1', containers: [container(0, 'web'), container(1, 'side')] });
    set = await wharf.waitRunning('e2e.exec', 1, 60_000);
  });

  after(() => wharf?.stop());

  it('without -t: stdout and stderr stay apart and the exit code is the command\'s; the session is audited', async () => {
    const r = await wharf.cli(['exec', SET, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    const side = await wharf.cli(['exec', SET, '-c', 'side', '--', 'sh', '-c', 'echo $HOSTNAME; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(side.code, 0, side.stderr);
    assert.match(side.stdout, /while :; do sleep 1; done/);
    const audit = await waitFor('the exec audit record', async () => (await wharf.client.audit({ object: 'sets/e2e.exec/1' })).find((rec) => rec.exitStatus === 3));
    assert.deepEqual([audit.action, audit.object, audit.result, audit.request], ['GET /v1/sets/:appkey/:id/exec', 'sets/e2e.exec/1/web', 'ok', '{"cmd":["sh","-c","echo out; echo err >&2; exit 3"],"tty":false}']);
  });

  it('-i: stdin reaches the command and its end ends it', async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const r = await wharf.cli(['exec', '-i', SET, '--', 'cat'], input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, input);
    const wc = await wharf.cli(['exec', '-i', SET, '--', 'wc', '-l'], 'a\nb\nc\n');
    assert.deepEqual([wc.code, wc.stdout.trim()], [0, '3']);
    // Without -i the command reads an empty stdin at once.
    assert.deepEqual(await wharf.cli(['exec', SET, '--', 'cat'], 'not passed\n'), { code: 0, stdout: '', stderr: '' });
  });

  it('-it under a terminal: the command has a TTY of the terminal\'s size, and follows its changes', async () => {
    // `script` runs the CLI on a pseudo-terminal, sized to 123x45 first. Docker may apply the size a moment after the
    // command starts, so the command waits until it has one (busybox's stty prints no size while it is 0x0). Once it
    // has said so (a marker file), a background job resizes the terminal to 100x30 (through /dev/tty: its stdin is
    // /dev/null), the CLI gets SIGWINCH, and the command waits for that size too.
    const marker = '/tmp/e2e-exec-sized';
    const remote = `rm -f ${marker}; until stty size 2>/dev/null | grep -q .; do sleep 0.05; done; stty size; tty; touch ${marker}; ` +
      'until [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; echo resized to $(stty size); exit 7';
    const docker = `docker -H unix://${host.socket} exec ${containerId('web')}`;
    const resizer = `(until ${docker} test -f ${marker}; do sleep 0.1; done; stty cols 100 rows 30 < /dev/tty) &`;
    const line = `stty cols 123 rows 45; ${resizer} ${process.execPath} ${WHARF} exec -it ${SET} -- sh -c '${remote}'; code=$?; wait; exit $code`;
    const r: RunResult = await run('script', ['-qec', line, '/dev/null'], { env: env(), input: '' });
    assert.equal(r.code, 7, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /45 123\r*\n\/dev\/pts\/\d+\r*\nresized to 30 100\r*\n/);
  });

  it('the infra container is refused by the server, and by the agent when asked directly', async () => {
    const r = await wharf.cli(['exec', SET, '-c', 'infra', '--', 'ls']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^wharf: the infra container of set e2e\.exec\/1 only holds its namespaces and volume and is never logged into; name a business container \(web, side\)\n$/);
    const agentUrl = (await wharf.client.getHost('h1')).agentUrl;
    const joinToken = readFileSync(join(wharf.serverDir, 'join.token'), 'utf8').trim();
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${agentUrl.replace(/^http/, 'ws')}/v1/containers/${containerId('infra')}/exec?cmd=ls`, { headers: { authorization: `Bearer ${joinToken}` } });
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('the agent opened a session in the infra container'));
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', reject);
    });
    assert.equal(status, 403);
  });

  it('a CLI that goes away takes its command with it', async () => {
    const cli = spawn(process.execPath, [WHARF, 'exec', SET, '--', 'sleep', '4242'], { env: env(), stdio: 'ignore' });
    try {
      await waitFor('sleep 4242 in the container', async () => (await processes('web')).includes('sleep 4242'), 30_000, 200);
      const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
      cli.kill('SIGINT');
      assert.equal(await exited, 130);
      await waitFor('sleep 4242 gone', async () => !(await processes('web')).includes('sleep 4242'), 30_000, 200);
    } finally {
      cli.kill('SIGKILL');
    }
  });

  it('an agent that dies mid-session: the CLI is told and exits 1, the server carries on', async () => {
    const cli = spawn(process.execPath, [WHARF, 'exec', SET, '--', 'sleep', '4343'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    try {
      await waitFor('sleep 4343 in the container', async () => (await processes('web')).includes('sleep 4343'), 30_000, 200);
      await wharf.stopAgent('h1', 'SIGKILL');
      assert.equal(await exited, 1);
      assert.match(stderr, /^wharf: agent of host h1: the connection was lost\n$/);
      assert.equal((await fetch(`${wharf.url}/v1/health`)).status, 200);
    } finally {
      cli.kill('SIGKILL');
      await wharf.restartAgent('h1');
    }
    const again = await wharf.cli(['exec', SET, '--', 'echo', 'back']);
    assert.deepEqual(again, { code: 0, stdout: 'back\n', stderr: '' });
  });
});
