import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startAgent } from '../agent.js';
import { FakeEngine } from '../docker/fake-engine.js';
import { FakeServer } from '../testing/fake-server.js';
import { DirDriver } from '../testing/dir-volumes.js';

test('agent: each collection goes with one heartbeat and to GET /metrics (with the join token)', async () => {
  const server = await new FakeServer().start();
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-metrics-'));
  const agent = await startAgent({
    server: server.url, joinToken: 'jt', name: 'h1', zone: 'z1', dataDir, listen: '127.0.0.1:0', engine: new FakeEngine(), logger: pino({ level: 'silent' }),
    heartbeatIntervalSeconds: 0.2, metricsIntervalSeconds: 1, volumes: new DirDriver(dataDir),
  });
  try {
    for (let i = 0; i < 60 && server.registrations.filter((r) => r.metrics).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const withMetrics = server.registrations.filter((r) => r.metrics);
    assert.ok(withMetrics.length >= 2, `${withMetrics.length} heartbeats with metrics`);
    assert.ok(server.registrations.length > withMetrics.length + 2, 'heartbeats between collections carry none');
    const times = withMetrics.map((r) => r.metrics?.host.time);
    assert.equal(new Set(times).size, times.length, 'each collection is sent once');
    const host = withMetrics[0]?.metrics?.host;
    assert.ok(host && host.cpus >= 1 && host.memoryTotal > 0 && host.cpu >= 0 && (host.collectMs ?? -1) >= 0, JSON.stringify(host));

    assert.equal((await fetch(`${agent.url}/metrics`)).status, 401);
    const text = await (await fetch(`${agent.url}/metrics`, { headers: { authorization: 'Bearer jt' } })).text();
    assert.match(text, /^wharf_host_cpus\{host="h1",zone="z1"\} \d+$/m);
    assert.match(text, /^wharf_agent_collections_total\{result="ok",host="h1",zone="z1"\} \d+$/m);
    assert.match(text, /^# TYPE wharf_agent_reconcile_duration_seconds histogram$/m);
  } finally {
    await agent.stop();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
