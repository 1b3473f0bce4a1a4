import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsReport } from '@wharf/types';
import { createReporterHub, type ReporterHubOptions } from './hub.js';
import { RejectedPointsError, type MetricPoint, type Reporter } from './reporter.js';
import { RecordingHttpServer, RecordingTcpServer, recordingLog, sampleReport, waitUntil } from './testing.js';

/** A reporter whose every send is decided by `behave` (resolve, throw, or never settle). */
function fakeReporter(name: string, behave: (points: MetricPoint[], call: number) => Promise<void> = async () => undefined) {
  const received: MetricPoint[][] = [];
  let calls = 0;
  let active = 0;
  let maxActive = 0;
  const r: Reporter & { received: MetricPoint[][]; readonly maxActive: number; readonly calls: number; closed: boolean } = {
    name,
    received,
    closed: false,
    get maxActive() {
      return maxActive;
    },
    get calls() {
      return calls;
    },
    async send(points) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await behave(points, ++calls);
        received.push(points);
      } finally {
        active--;
      }
    },
    async close() {
      r.closed = true;
    },
  };
  return r;
}

const never = () => new Promise<void>(() => undefined);
const down = async () => {
  throw new Error('ECONNREFUSED');
};

function hub(o: Partial<ReporterHubOptions>) {
  return createReporterHub({ specs: [], tags: { host: 'h1', zone: 'z1' }, log: recordingLog(), retry: { firstMs: 5, maxMs: 20 }, closeFlushMs: 200, ...o });
}

/** A report of 8 host points and 2 points (cpu = value, memory) for each of n sets. */
function reportOf(n: number, value = 0): MetricsReport {
  const r = sampleReport();
  r.host = { ...r.host, uplinks: [] };
  r.sets = Array.from({ length: n }, (_, i) => ({ tenant: 't', appkey: 'a', id: String(i), time: r.host.time, set: { cpu: value, memory: 0 }, containers: {} }));
  return r;
}

test('hub: every reporter gets the points include selects, with the hub tags', async () => {
  const a = fakeReporter('a');
  const b = fakeReporter('b');
  const h = hub({ reporters: [a, b], include: ['wharf.set.cpu', 'wharf.host.load1'] });
  h.publish(sampleReport());
  await waitUntil('both delivered', () => a.received.length === 1 && b.received.length === 1);
  for (const r of [a, b]) {
    assert.deepEqual(r.received.flat().map((p) => [p.name, p.value, p.tags]), [
      ['wharf.host.load1', 0.5, { host: 'h1', zone: 'z1' }],
      ['wharf.set.cpu', 0.42, { host: 'h1', zone: 'z1', tenant: 'default', appkey: 'com.x', set: '1' }],
    ]);
  }
  await h.close();
  assert.ok(a.closed && b.closed);
});

test('hub: a reporter that is down or hangs blocks neither publish nor the others', async () => {
  const healthy = fakeReporter('healthy');
  const hanging = fakeReporter('hanging', never);
  const refusing = fakeReporter('refusing', down);
  const h = hub({ reporters: [hanging, refusing, healthy] });
  // publish only appends to the buffers: it returns at once, with nothing to wait for.
  for (let i = 0; i < 50; i++) assert.equal(h.publish(sampleReport()), undefined);
  await waitUntil('the healthy reporter has every point', () => healthy.received.flat().length === 50 * 19);
  assert.equal(hanging.calls, 1, 'one send at a time, even while it hangs');
  await waitUntil('the refused one retrying', () => refusing.calls >= 3);
  await h.close();
});

test('hub: when the buffer is full the oldest points go, counted per reporter', async () => {
  let up = false;
  const flaky = fakeReporter('flaky', async () => {
    if (!up) throw new Error('down');
  });
  const h = hub({ reporters: [flaky], bufferSize: 5, chunkSize: 100, retry: { firstMs: 100, maxMs: 100 } });
  h.publish(reportOf(3, 0));
  await waitUntil('the first send failed', () => flaky.calls === 1);
  await new Promise((res) => setImmediate(res));
  for (let i = 1; i < 4; i++) h.publish(reportOf(3, i));
  // 4 reports × (8 host points + 3 sets × 2) = 56 points, 5 kept.
  assert.deepEqual(h.drops(), { flaky: 51 });
  assert.deepEqual(h.buffered(), { flaky: 5 });
  up = true;
  await waitUntil('the newest five delivered', () => flaky.received.flat().length === 5);
  assert.deepEqual(flaky.received.flat().map((p) => [p.name, p.tags.set, p.value]), [
    ['wharf.set.memory', '0', 0], ['wharf.set.cpu', '1', 3], ['wharf.set.memory', '1', 0], ['wharf.set.cpu', '2', 3], ['wharf.set.memory', '2', 0],
  ]);
  await h.close();
});

test('hub: chunks, one send at a time, retried with back-off; down and back logged once each', async () => {
  const log = recordingLog();
  const r = fakeReporter('r', async (_points, call) => {
    await new Promise((res) => setTimeout(res, 2));
    if (call === 2 || call === 3) throw new Error('ECONNRESET');
  });
  const h = hub({ reporters: [r], chunkSize: 7, log });
  h.publish(sampleReport());
  h.publish(sampleReport());
  await waitUntil('38 points delivered', () => r.received.flat().length === 38);
  assert.equal(r.maxActive, 1);
  assert.ok(r.received.every((c) => c.length <= 7));
  assert.equal(r.calls, 6 + 2);
  assert.deepEqual(log.lines.map((l) => [l.level, l.message]), [['warn', 'metrics reporter is down; retrying with back-off'], ['info', 'metrics reporter is back']]);
  assert.deepEqual(h.drops(), { r: 0 });
  await h.close();
});

test('hub: points the reporter refuses for good are dropped and counted, the rest still go', async () => {
  const r = fakeReporter('r', async (_points, call) => {
    if (call === 1) throw new RejectedPointsError('bad points');
  });
  const h = hub({ reporters: [r], chunkSize: 10 });
  h.publish(sampleReport());
  await waitUntil('the rest delivered', () => r.received.flat().length === 9);
  assert.deepEqual(h.drops(), { r: 10 });
  await h.close();
});

test('hub: close delivers what is buffered to a live reporter and does not wait long for a dead one', async () => {
  const slow = fakeReporter('slow', () => new Promise((res) => setTimeout(res, 5)));
  const dead = fakeReporter('dead', down);
  const hanging = fakeReporter('hanging', never);
  const h = hub({ reporters: [slow, dead, hanging], chunkSize: 1, closeFlushMs: 400, retry: { firstMs: 60_000, maxMs: 60_000 } });
  h.publish(sampleReport());
  const t0 = performance.now();
  await h.close();
  // Bounded by closeFlushMs (400 ms per step), not by the hanging send or the 60 s retry pause.
  assert.ok(performance.now() - t0 < 5_000, `close took ${performance.now() - t0} ms`);
  assert.equal(slow.received.flat().length, 19);
  h.publish(sampleReport());
  assert.equal(slow.received.flat().length, 19, 'nothing after close');
});

test('hub: publish never throws, not even for a malformed report', async () => {
  const log = recordingLog();
  const h = hub({ reporters: [fakeReporter('r')], log });
  assert.doesNotThrow(() => h.publish({ sets: [] } as unknown as MetricsReport));
  assert.equal(log.lines[0]?.message, 'metrics report not published to the reporters');
  await h.close();
});

test('hub: bad specs throw at creation', () => {
  assert.throws(() => hub({ specs: ['graphite=udp://127.0.0.1:2003'] }), /reporter "graphite=udp:\/\/127.0.0.1:2003": expected tcp/);
});

test('hub: real reporters from specs; a dead Graphite and a silent Zabbix do not hold up InfluxDB', async () => {
  const influx = await RecordingHttpServer.start();
  const closed = await RecordingTcpServer.start();
  const deadPort = closed.port;
  await closed.stop();
  const silent = await RecordingTcpServer.start();
  const h = hub({
    specs: [`influx=${influx.url}/write?db=wharf`, `graphite=tcp://127.0.0.1:${deadPort}`, `zabbix=tcp://127.0.0.1:${silent.port}`],
    include: ['wharf.set.'],
  });
  try {
    for (let i = 0; i < 3; i++) h.publish(sampleReport());
    await waitUntil('influx has every set point', () => influx.requests.map((r) => r.body.split('\n')).flat().length === 3 * 5);
    assert.ok(influx.requests.every((r) => r.body.split('\n').every((line) => line.startsWith('wharf.set.'))));
    assert.equal(silent.received.length > 0, true, 'zabbix sent one request and waits for its answer');
    assert.deepEqual(h.drops(), { [`influx http://127.0.0.1:${influx.port}/write?db=wharf`]: 0, [`graphite tcp://127.0.0.1:${deadPort}`]: 0, [`zabbix tcp://127.0.0.1:${silent.port}`]: 0 });
  } finally {
    await h.close();
    await influx.stop();
    await silent.stop();
  }
});
