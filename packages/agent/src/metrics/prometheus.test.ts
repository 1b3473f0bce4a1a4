import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { MetricsReport } from '@wharf/types';
import { FakeEngine } from '../docker/fake-engine.js';
import { createHttpServer } from '../http.js';
import { AgentMetrics } from './prometheus.js';

const report: MetricsReport = {
  host: {
    time: '2025-01-01T00:00:10.000Z', cpu: 1.25, cpus: 2, memory: 3e9, memoryTotal: 8e9, load1: 0.5, load5: 0.4, load15: 0.3, poolUsed: 1e9, poolSize: 2e10,
    uplinks: [{ name: 'eth0', rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 }], containers: 3, collectMs: 4.2, collectCpuMs: 1.1,
  },
  sets: [{
    tenant: 'default', appkey: 'x', id: '1', time: '2025-01-01T00:00:10.000Z',
    set: { cpu: 0.75, cpuLimit: 1, memory: 104857600, memoryLimit: 268435456, rxBytes: 5000, txBytes: 6000, pids: 3 },
    containers: { web: { cpu: 0.5, cpuLimit: 0.6, memory: 52428800, oomKills: 0 }, side: { cpu: 0.25, cpuLimit: 0.4, memory: 52428800 } },
    volumeUsed: 1024, volumeQuota: 1073741824,
  }],
};

function metrics(): AgentMetrics {
  const m = new AgentMetrics({ host: 'h1', zone: 'z1' });
  m.queueDepth = () => 2;
  m.reporterDrops = () => ({ 'influx http://127.0.0.1:8086': 7 });
  m.cycle({ ms: 4.2, cpuMs: 1.1, ok: true });
  m.reconciled(0.3, 'ok');
  return m;
}

test('/metrics: set, container, host and uplink gauges with tenant/appkey/set/container/host/zone labels', async () => {
  const m = metrics();
  assert.doesNotMatch(await m.render(), /^wharf_set_cpu_cores\{/m, 'nothing before the first collection');
  m.update(report);
  const text = await m.render();
  const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));
  assert.equal(line('wharf_set_cpu_cores{'), 'wharf_set_cpu_cores{tenant="default",appkey="x",set="1",host="h1",zone="z1"} 0.75');
  assert.equal(line('wharf_container_cpu_cores{tenant="default",appkey="x",set="1",container="web"'), 'wharf_container_cpu_cores{tenant="default",appkey="x",set="1",container="web",host="h1",zone="z1"} 0.5');
  assert.match(text, /^wharf_set_network_receive_bytes_per_second\{.*\} 5000$/m);
  assert.match(text, /^wharf_set_volume_quota_bytes\{.*\} 1073741824$/m);
  assert.match(text, /^wharf_host_cpu_cores\{host="h1",zone="z1"\} 1.25$/m);
  assert.match(text, /^wharf_host_uplink_transmit_bytes_per_second\{uplink="eth0",host="h1",zone="z1"\} 2000$/m);
  assert.match(text, /^wharf_agent_queue_depth\{host="h1",zone="z1"\} 2$/m);
  assert.match(text, /^wharf_agent_reporter_dropped_points_total\{reporter="influx http:\/\/127.0.0.1:8086",host="h1",zone="z1"\} 7$/m);
  assert.match(text, /^wharf_agent_reconcile_duration_seconds_count\{[^}]*result="ok"[^}]*\} 1$/m);
  assert.match(text, /^wharf_agent_collect_duration_seconds\{host="h1",zone="z1"\} 0\.0042\d*$/m);
  assert.match(text, /^process_cpu_seconds_total\{host="h1",zone="z1"\} /m);
  assert.doesNotMatch(text, /wharf_container_network/, 'containers share their set\'s network namespace');
  assert.doesNotMatch(text, /wharf_container_cpu_throttled_periods_per_second\{/, 'absent fields are not invented');

  // A set that is gone disappears at once.
  m.update({ ...report, sets: [] });
  assert.doesNotMatch(await m.render(), /^wharf_set_cpu_cores\{/m);
});

test('/metrics passes promtool check metrics', { skip: spawnSync('promtool', ['--version']).error ? 'promtool not installed (Debian package prometheus)' : false }, async () => {
  const m = metrics();
  m.update(report);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: await m.render(), encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('GET /metrics needs the join token unless --metrics-public', async () => {
  const m = metrics();
  m.update(report);
  const serve = async (isPublic: boolean) => {
    const server = createHttpServer({ engine: new FakeEngine(), log: pino({ level: 'silent' }), token: 'jt', metrics: { render: () => m.render(), contentType: m.contentType, public: isPublic } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
  };
  const closed = await serve(false);
  try {
    assert.equal((await fetch(closed.url)).status, 401);
    const ok = await fetch(closed.url, { headers: { authorization: 'Bearer jt' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
    assert.match(await ok.text(), /wharf_set_cpu_cores\{tenant="default",appkey="x",set="1"/);
  } finally {
    closed.server.close();
  }
  const open = await serve(true);
  try {
    assert.equal((await fetch(open.url)).status, 200);
    assert.equal((await fetch(open.url.replace('/metrics', '/v1/volumes'))).status, 401, 'only /metrics is public');
  } finally {
    open.server.close();
  }
});
