/**
 * The agent's collector with the real server and agent on a real dockerd: GET
 * /metrics on the agent answers (with the join token) and shows the set's CPU.
 * The history API and `wharf top` have their own tests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Platform } from './harness/platform.js';
import { run, waitFor } from './harness/exec.js';

describe('agent metrics on a real Docker engine', () => {
  let wharf: Platform;

  before(async () => {
    wharf = await Platform.onOwnHost('h1');
    await wharf.restartAgent('h1', ['--metrics-interval', '1s']);
  });

  after(() => wharf?.stop());

  it('GET /metrics answers with the join token and shows the set\'s CPU gauge', async () => {
    await wharf.client.applySet({
      appkey: 'mx', id: 1,
      resources: { cpu: 0.5, memory: '64Mi' },
      containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'busy', command: { cmd: '/bin/sh', args: ['-c', 'while :; do :; done'] } } }],
    });
    await wharf.waitRunning('mx', 1);
    const agentUrl = await waitFor('the agent registered', async () => (await wharf.client.listHosts()).find((h) => h.name === 'h1' && h.state === 'ready')?.agentUrl);
    const token = readFileSync(join(wharf.serverDir, 'join.token'), 'utf8').trim();

    assert.equal((await fetch(`${agentUrl}/metrics`)).status, 401, 'the join token is needed without --metrics-public');
    let text = '';
    const line = await waitFor('the set\'s CPU gauge', async () => {
      const res = await fetch(`${agentUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      text = await res.text();
      const gauge = text.split('\n').find((l) => l.startsWith('wharf_set_cpu_cores{tenant="default",appkey="mx",set="1",host="h1"'));
      // The interval the container started in can read (near) 0 on a loaded machine: wait for the loop to show.
      return gauge && Number(gauge.split(' ').pop()) > 0.1 ? gauge : undefined;
    }, 30_000, 500);
    const cores = Number(line.split(' ').pop());
    console.log(`# ${line}`);
    assert.ok(cores > 0.1 && cores <= 0.5 * 1.15, `a busy loop at 0.5 CPU reads ${cores} cores`);
    // promtool comes with the prometheus package (scripts/install-test-deps.sh).
    const promtool = await run('promtool', ['check', 'metrics'], { input: text });
    assert.equal(promtool.code, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
  });
});
