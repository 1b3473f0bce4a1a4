import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import type { HostRegistration } from '@wharf/types';
import { buildApp } from '../app.js';
import { HostChanges } from '../state/host-changes.js';
import { PlacementController } from '../controllers/placement.js';
import { adminApi, bearer, heartbeat, placedOn, startTestServer, type TestServer } from '../testing/test-server.js';
import { Monitoring } from './monitoring.js';

const reg: HostRegistration = {
  name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * 1024 ** 3, disk: 100 * 1024 ** 3 },
  agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test',
};

/** `promtool check metrics` on the text: its output, or undefined when promtool is not installed. */
function promtool(text: string): { status: number | null; output: string } | undefined {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('GET /metrics: Wharf\'s own metrics in Prometheus format', () => {
  let t: TestServer;
  let text: string;

  before(async () => {
    t = await startTestServer();
    await heartbeat(t, reg);
    await heartbeat(t, { ...reg, metrics: { host: { time: new Date().toISOString(), cpu: 1, cpus: 8, memory: 1, memoryTotal: 2, load1: 0, load5: 0, load15: 0, uplinks: [], containers: 0 }, sets: [] } });
    const api = adminApi(t);
    await api('PUT', '/v1/sets/com.x/1', { appkey: 'com.x', id: 1, containers: [{ index: 0, image: 'busybox', options: { name: 'web' } }] });
    await placedOn(t, 'com.x/1');
    await api('GET', '/v1/nowhere');
    const r = await api('GET', '/metrics');
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    text = r.body;
  });

  after(() => t.stop());

  it('has the process, requests by route and status, sets, hosts, heartbeats and the history held', () => {
    for (const line of [
      /^process_cpu_user_seconds_total \d/m,
      /^nodejs_eventloop_lag_seconds \d/m,
      /^wharf_http_request_duration_seconds_count\{method="PUT",route="\/v1\/hosts\/:name",status_code="200"\} 2$/m,
      /^wharf_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1$/m,
      /^wharf_placement_pass_duration_seconds_count \d+$/m,
      /^wharf_rollout_pass_duration_seconds_count \d+$/m,
      /^wharf_sets\{phase="running"\} 0$/m,
      /^wharf_hosts\{state="ready"\} 1$/m,
      /^wharf_hosts\{state="not-ready"\} 0$/m,
      /^wharf_heartbeats_total 2$/m,
      /^wharf_metrics_series\{kind="host"\} 1$/m,
      /^wharf_metrics_series\{kind="set"\} 0$/m,
      /^wharf_metrics_points 1$/m,
      /^wharf_metrics_set_samples_ignored_total 0$/m,
    ]) {
      assert.match(text, line);
    }
    // A placed set its agent has not reported on yet.
    assert.match(text, /^wharf_sets\{phase="pending"\} 1$/m);
  });

  it('passes promtool check metrics (skipped when promtool is not installed)', (ctx) => {
    const r = promtool(text);
    if (!r) return ctx.skip('promtool not installed (Debian package prometheus)');
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output.trim(), '');
  });

  it('needs an admin token unless it is public', async () => {
    assert.equal((await t.app.inject({ url: '/metrics' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/metrics', headers: bearer(t.join) })).statusCode, 403);
    const store = SqliteStore.open(':memory:');
    const monitoring = await Monitoring.start(store, { metricsPublic: true });
    const hostChanges = new HostChanges(store);
    const app = await buildApp({ store, hostChanges, joinToken: 'x', monitoring }, pino({ level: 'silent' }));
    try {
      assert.equal((await app.inject({ url: '/metrics' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/v1/metrics/hosts' })).statusCode, 401);
    } finally {
      monitoring.stop();
      await app.close();
      await store.close();
    }
  });

  it('times controller passes', async () => {
    const store = SqliteStore.open(':memory:');
    const monitoring = await Monitoring.start(store);
    const placement = new PlacementController(store, pino({ level: 'silent' }), 3_600_000, monitoring.telemetry.observePlacementPass);
    try {
      await placement.start();
      for (let i = 0; i < 100 && !/^wharf_placement_pass_duration_seconds_count [1-9]/m.test(await monitoring.telemetry.exposition()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(await monitoring.telemetry.exposition(), /^wharf_placement_pass_duration_seconds_count 1$/m);
    } finally {
      placement.stop();
      monitoring.stop();
      await store.close();
    }
  });
});
