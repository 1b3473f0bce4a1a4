/**
 * Metrics reporters end to end, against the real servers of Debian's packages (see
 * scripts/install-test-deps.sh), each started here on loopback with its own temporary
 * config and data and free ports (harness/metrics-servers.ts):
 * - the reporter hub's points reach InfluxDB 1.x (read back with an InfluxQL query),
 *   carbon-cache (read back from its whisper file with whisper-fetch, also after a
 *   carbon restart) and zabbix_server on a throwaway PostgreSQL cluster (read back
 *   from its history table);
 * - a real wharf-agent with a running set on a real dockerd: a real Prometheus scrapes
 *   its /metrics with the join token and answers wharf_set_cpu_cores for the set,
 *   `promtool check metrics` accepts the exposition, and the agent's own --reporter
 *   flags bring the set's points to the same three servers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsReport } from '@wharf/types';
// The hub is not part of @wharf/agent's public API; the test drives it from the agent's build.
import { createReporterHub, type ReporterHub, type ReporterLog } from '../../packages/agent/dist/metrics/reporters/index.js';
import { run, waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';
import { CarbonServer, InfluxServer, PrometheusServer, ZabbixServer } from './harness/metrics-servers.js';
import { Platform } from './harness/platform.js';

/** The Zabbix host the hub tests report as, and the agent's own name (its default Zabbix host). */
const ZBX_HOST = 'wharf-e2e';
const AGENT = 'h1';

/** A collection of one host and one set (default/com.x/1, container web) at `time`, with the set's CPU at `cpu`. */
function report(time: number, cpu: number): MetricsReport {
  const iso = new Date(time).toISOString();
  return {
    host: { time: iso, cpu: 1.25, cpus: 2, memory: 1e9, memoryTotal: 4e9, load1: 0.75, load5: 0.5, load15: 0.25, uplinks: [{ name: 'eth0', rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 }], containers: 1 },
    sets: [{ tenant: 'default', appkey: 'com.x', id: '1', time: iso, set: { cpu, memory: 5e6, memoryLimit: 1e8 }, containers: { web: { cpu, memory: 4e6 } }, volumeUsed: 4096 }],
  };
}

function recordingLog(): ReporterLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (f, m) => void lines.push(`${m} ${JSON.stringify(f)}`), warn: (f, m) => void lines.push(`${m} ${JSON.stringify(f)}`) };
}

/** The whole second `n` seconds ago, in ms: Graphite and Zabbix keep seconds, so what they answer can be compared exactly. */
function secondsAgo(n: number): number {
  return (Math.floor(Date.now() / 1000) - n) * 1000;
}

describe('metrics reporters against real InfluxDB, Graphite, Zabbix and Prometheus servers', () => {
  let influx: InfluxServer | undefined;
  let carbon: CarbonServer | undefined;
  let zabbix: ZabbixServer | undefined;
  const hubs: ReporterHub[] = [];
  // The Docker host and the platform come up meanwhile, for the agent's tests at the end.
  let wharf: Platform | undefined;
  let prometheus: PrometheusServer | undefined;
  let platformStarted: Promise<void> | undefined;

  before(async () => {
    platformStarted = Platform.onOwnHost(AGENT).then((p) => void (wharf = p));
    platformStarted.catch(() => undefined);
    const started = await Promise.allSettled([
      InfluxServer.start('wharf'),
      CarbonServer.start(),
      ZabbixServer.start([
        { host: ZBX_HOST, key: 'wharf.set.cpu[default/com.x/1]' },
        { host: ZBX_HOST, key: 'wharf.container.memory[default/com.x/1/web]' },
        { host: ZBX_HOST, key: 'wharf.host.uplink.rx_bytes[eth0]' },
        { host: ZBX_HOST, key: 'wharf.host.load1' },
        { host: AGENT, key: 'wharf.set.cpu[default/mr/1]' },
        { host: AGENT, key: 'wharf.host.load1' },
      ]),
    ]);
    [influx, carbon, zabbix] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as [InfluxServer?, CarbonServer?, ZabbixServer?];
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });

  after(async () => {
    await Promise.allSettled(hubs.map((h) => h.close()));
    await platformStarted?.catch(() => undefined);
    await Promise.allSettled([influx?.stop(), carbon?.stop(), zabbix?.stop(), prometheus?.stop()]);
    await wharf?.stop();
  });

  function hub(specs: string[], o: { tags?: Record<string, string>; include?: string[]; log?: ReporterLog } = {}): ReporterHub {
    const h = createReporterHub({ specs, tags: { host: 'h-e2e', zone: 'z1', ...o.tags }, log: o.log ?? recordingLog(), retry: { firstMs: 100, maxMs: 500 }, ...(o.include ? { include: o.include } : {}) });
    hubs.push(h);
    return h;
  }

  it('InfluxDB stores the points and answers a query with their values and tags, escaped ones included', async (t) => {
    assert.ok(influx);
    t.diagnostic(influx.version);
    const time = secondsAgo(2) + 123;
    const h = hub([`influx=${influx.url}/write?db=wharf`], { tags: { rack: 'r 1,a=b' } });
    h.publish(report(time, 0.42));
    const answer = await waitFor('the set CPU point in InfluxDB', async () => {
      const a = await influx?.query(`SELECT "value", "tenant", "appkey", "set", "host", "zone", "rack" FROM "wharf.set.cpu" WHERE "appkey" = 'com.x'`, 'wharf');
      return a?.results?.[0]?.series?.[0];
    }, 15_000, 200);
    assert.deepEqual(answer.columns, ['time', 'value', 'tenant', 'appkey', 'set', 'host', 'zone', 'rack']);
    assert.deepEqual(answer.values, [[time, 0.42, 'default', 'com.x', '1', 'h-e2e', 'z1', 'r 1,a=b']]);

    const uplink = await influx.query(`SELECT "value" FROM "wharf.host.uplink.rx_bytes" WHERE "uplink" = 'eth0' AND "host" = 'h-e2e'`, 'wharf');
    assert.deepEqual(uplink.results?.[0]?.series?.[0]?.values, [[time, 1000]]);
    const measurements = await influx.query('SHOW MEASUREMENTS', 'wharf');
    const names = measurements.results?.[0]?.series?.[0]?.values.map((v) => v[0]);
    for (const name of ['wharf.host.cpu', 'wharf.host.load1', 'wharf.set.memory', 'wharf.set.volume_used', 'wharf.container.cpu']) assert.ok(names?.includes(name), `${name} in ${names?.join(', ')}`);
    assert.deepEqual(Object.values(h.drops()), [0]);
  });

  it('carbon-cache stores the series as whisper files, and what is published while it is down arrives once it is back', async (t) => {
    assert.ok(carbon);
    t.diagnostic(`graphite-carbon ${carbon.version}`);
    const c = carbon;
    const log = recordingLog();
    const h = hub([`graphite=tcp://127.0.0.1:${c.port}?prefix=e2e`], { include: ['wharf.set.', 'wharf.host.load1'], log });
    const first = secondsAgo(3);
    h.publish(report(first, 0.42));
    const path = 'e2e.wharf.set.cpu.default.com_x.1';
    const stored = await waitFor('the set CPU in its whisper file', async () => {
      const points = await c.fetch(path, first / 1000);
      return points.length ? points : undefined;
    }, 15_000, 200);
    assert.deepEqual(stored, [[first / 1000, 0.42]]);
    assert.deepEqual(await waitFor('the host load', async () => (await c.fetch('e2e.wharf.host.load1.h-e2e', first / 1000)).at(0)), [first / 1000, 0.75]);

    // Down: the hub keeps the points and retries; back: they arrive.
    await c.stopProcess();
    const whileDown = secondsAgo(1);
    h.publish(report(whileDown, 0.5));
    await waitFor('the reporter noticing carbon is down', async () => log.lines.some((l) => l.startsWith('metrics reporter is down')), 10_000, 50);
    await c.startAgain();
    const points = await waitFor('the point published while carbon was down', async () => {
      const p = await c.fetch(path, first / 1000);
      return p.length === 2 ? p : undefined;
    }, 20_000, 200);
    assert.deepEqual(points, [[first / 1000, 0.42], [whileDown / 1000, 0.5]]);
    assert.ok(log.lines.some((l) => l.startsWith('metrics reporter is back')), log.lines.join('\n'));
    assert.deepEqual(Object.values(h.drops()), [0]);
  });

  it('zabbix_server stores the values of its trapper items in history; values without an item count as refused', async (t) => {
    assert.ok(zabbix);
    t.diagnostic(zabbix.version);
    const z = zabbix;
    const log = recordingLog();
    const time = secondsAgo(2) + 250;
    const h = hub([`zabbix=tcp://127.0.0.1:${z.port}?host=${ZBX_HOST}`], { log });
    h.publish(report(time, 0.42));
    const clock = Math.floor(time / 1000);
    const history = await waitFor('the set CPU in Zabbix history', async () => (await z.history(ZBX_HOST, 'wharf.set.cpu[default/com.x/1]')).at(0), 15_000, 200);
    assert.deepEqual(history, [clock, 250_000_000, 0.42]);
    assert.deepEqual(await waitFor('the container memory', async () => (await z.history(ZBX_HOST, 'wharf.container.memory[default/com.x/1/web]')).at(0)), [clock, 250_000_000, 4e6]);
    assert.deepEqual(await waitFor('the uplink', async () => (await z.history(ZBX_HOST, 'wharf.host.uplink.rx_bytes[eth0]')).at(0)), [clock, 250_000_000, 1000]);
    assert.deepEqual(await waitFor('the host load', async () => (await z.history(ZBX_HOST, 'wharf.host.load1')).at(0)), [clock, 250_000_000, 0.75]);
    // Most points have no item in this Zabbix: the server says how many failed, the hub logs it and does not retry them.
    const refused = log.lines.find((l) => l.startsWith('metrics reporter refused some points'));
    assert.ok(refused, log.lines.join('\n'));
    assert.match(refused, /processed: 4; failed: \d+/);
    assert.deepEqual(Object.values(h.drops()), [0]);
  });

  describe('a real wharf-agent', () => {
    let agentAddress = '';

    before(async () => {
      await platformStarted;
      assert.ok(influx && carbon && zabbix && wharf);
      // Collect every second and push to the three servers.
      await wharf.restartAgent(AGENT, [
        '--metrics-interval', '1s',
        '--reporter', `influx=${influx.url}/write?db=wharf`,
        '--reporter', `graphite=tcp://127.0.0.1:${carbon.port}`,
        '--reporter', `zabbix=tcp://127.0.0.1:${zabbix.port}`,
        '--metrics-include', 'wharf.set.,wharf.host.load1',
      ]);
      await wharf.client.applySet({
        appkey: 'mr', id: 1, resources: { cpu: 0.5, memory: '64Mi' },
        containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'web', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
      });
      await wharf.waitRunning('mr', 1);
      const w = wharf;
      const agentUrl = await waitFor('the agent registered again', async () => (await w.client.listHosts()).find((x) => x.name === AGENT && x.state === 'ready')?.agentUrl);
      agentAddress = new URL(agentUrl).host;
      prometheus = await PrometheusServer.start([{ target: agentAddress, bearerTokenFile: join(wharf.serverDir, 'join.token') }]);
    });

    it('Prometheus scrapes the agent\'s /metrics with the join token and answers wharf_set_cpu_cores for the set; promtool accepts the exposition', async (t) => {
      assert.ok(prometheus && wharf);
      t.diagnostic(prometheus.version);
      const p = prometheus;
      const result = await waitFor('wharf_set_cpu_cores of mr/1 in Prometheus', async () => {
        const r = await p.query('wharf_set_cpu_cores{appkey="mr",set="1"}');
        return r.length ? r : undefined;
      }, 30_000, 250).catch(async (err: Error) => {
        throw new Error(`${err.message}; targets: ${JSON.stringify(await p.targets())}`);
      });
      assert.equal(result.length, 1);
      const [sample] = result;
      assert.equal(sample?.metric.tenant, 'default');
      assert.equal(sample?.metric.host, AGENT);
      assert.ok(Number(sample?.value[1]) >= 0, JSON.stringify(sample));
      assert.deepEqual((await p.targets()).map(([, health]) => health), ['up']);

      const res = await fetch(`http://${agentAddress}/metrics`, { headers: { authorization: `Bearer ${readFileSync(join(wharf.serverDir, 'join.token'), 'utf8').trim()}` } });
      assert.equal(res.status, 200);
      const exposition = await res.text();
      assert.match(exposition, /^wharf_set_cpu_cores\{.*appkey="mr".*\} /m);
      const check = await run('promtool', ['check', 'metrics'], { input: exposition });
      assert.equal(check.code, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    });

    it('the agent\'s --reporter flags bring the set\'s metrics to InfluxDB, Graphite and Zabbix', async () => {
      assert.ok(influx && carbon && zabbix);
      const [i, c, z] = [influx, carbon, zabbix];
      const since = Math.floor(Date.now() / 1000) - 60;
      const [inInflux, inGraphite, inZabbix] = await Promise.all([
        waitFor('mr/1 in InfluxDB', async () => (await i.query(`SELECT last("value") FROM "wharf.set.cpu" WHERE "appkey" = 'mr' AND "host" = '${AGENT}'`, 'wharf')).results?.[0]?.series?.[0]?.values[0], 20_000, 250),
        waitFor('mr/1 in carbon', async () => (await c.fetch('wharf.set.cpu.default.mr.1', since).catch(() => [])).at(-1), 20_000, 250),
        waitFor('mr/1 in Zabbix', async () => (await z.history(AGENT, 'wharf.set.cpu[default/mr/1]')).at(-1), 20_000, 250),
      ]);
      assert.ok(Number(inInflux[1]) >= 0, JSON.stringify(inInflux));
      assert.ok(inGraphite[1] >= 0, JSON.stringify(inGraphite));
      assert.ok(inZabbix[2] >= 0, JSON.stringify(inZabbix));
      // --metrics-include: no container series of mr went out (the hub test above wrote some for com.x).
      const containers = await i.query(`SELECT count("value") FROM /^wharf\\.container\\./ WHERE "appkey" = 'mr'`, 'wharf');
      assert.equal(containers.results?.[0]?.series, undefined, JSON.stringify(containers));
    });
  });
});
