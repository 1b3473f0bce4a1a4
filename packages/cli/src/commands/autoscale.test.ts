/**
 * `wharf autoscale`: the flag parsers, the status view, and the built CLI in
 * child processes against a small route server that records the requests.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutoscaleSpec, AutoscaleStatus } from '@wharf/types';
import { describeAutoscale } from '../format/autoscale.js';
import { iso, T0 } from '../testing/fixtures.js';
import { runCli } from '../testing/run-cli.js';
import { sendError, sendJson, startRouteServer } from '../testing/route-server.js';
import { autoscaleSpecFromFlags, parsePercent, parseSchedule } from './autoscale.js';

test('flags: percentages, schedules, and the spec they make', () => {
  assert.equal(parsePercent('60%'), 60);
  assert.equal(parsePercent('72.5'), 72.5);
  for (const bad of ['0%', '-5%', 'sixty', '2000%']) assert.throws(() => parsePercent(bad), /percentage of the limit/);
  assert.deepEqual(parseSchedule('0 11 * * *@Asia/Shanghai for 3h min=20'), { cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 });
  assert.deepEqual(parseSchedule('30 1 * * 1-5 for 90m min=2 max=5'), { cron: '30 1 * * 1-5', duration: '90m', min: 2, max: 5 });
  for (const bad of ['0 11 * * *', '0 11 * * *@UTC for 3h', 'for 3h min=1']) assert.throws(() => parseSchedule(bad), /CRON\[@ZONE\] for DURATION/);
  assert.deepEqual(autoscaleSpecFromFlags({ min: 2, max: 40, cpu: 60, metric: 'qps', target: 500 }), { min: 2, max: 40, cpu: 60, metrics: [{ name: 'qps', target: 500 }] });
  assert.throws(() => autoscaleSpecFromFlags({ min: 2 }), /--min and --max/);
  assert.throws(() => autoscaleSpecFromFlags({ min: 2, max: 3, metric: 'qps' }), /go together/);
});

const SPEC: AutoscaleSpec = { min: 2, max: 40, cpu: 60, schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 20 }] };
const STATUS: AutoscaleStatus = {
  appkey: 'web', spec: SPEC, current: 20, desired: 20, min: 20, max: 40,
  active: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', min: 20, start: '2026-12-02T03:00:00.000Z', end: '2026-12-02T06:00:00.000Z' }],
  signals: [{ name: 'cpu', observed: 31.5, target: 60, unit: '%', sets: 20 }],
  decisions: [{ time: iso(T0 - 120_000), message: "schedule '0 11 * * *' (Asia/Shanghai) raises min to 20: 6 → 20" }],
  upcoming: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', min: 20, start: '2026-12-03T03:00:00.000Z', end: '2026-12-03T06:00:00.000Z' }],
};

test('the status view', () => {
  assert.deepEqual(describeAutoscale(STATUS, T0).split('\n'), [
    'App:      web',
    'Replicas: 20 now, 20 wanted by the metrics and bounds',
    'Bounds:   min 20 (base 2), max 40',
    'Targets:  cpu 60%',
    'Signals:  cpu 32% of limit over 20 sets (target 60%)',
    "Active:   '0 11 * * *' (Asia/Shanghai) min=20 until 2026-12-02T06:00:00.000Z",
    '',
    'Schedule windows in the next 24 h:',
    '  START                      END                        CRON           ZONE            BOUNDS',
    "  2026-12-03T03:00:00.000Z   2026-12-03T06:00:00.000Z   '0 11 * * *'   Asia/Shanghai   min=20",
    '',
    'Recent decisions:',
    '  AGE   DECISION',
    "  2m    schedule '0 11 * * *' (Asia/Shanghai) raises min to 20: 6 → 20",
  ]);
  assert.equal(describeAutoscale({ ...STATUS, spec: undefined }, T0), 'app web: autoscaling is off (20 replicas)');
});

describe('wharf autoscale (spawned)', () => {
  let server: Awaited<ReturnType<typeof startRouteServer>>;
  let home: string;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'wharf-cli-autoscale-'));
    server = await startRouteServer((req, res, body) => {
      if (req.url?.startsWith('/v1/apps/nope/')) return sendError(res, 404, 'APP_NOT_FOUND', 'app nope not found in tenant default');
      if (req.method === 'PUT' && req.url?.startsWith('/v1/apps/web/autoscale')) return sendJson(res, 200, { ...STATUS, spec: JSON.parse(body) as AutoscaleSpec, current: 4 });
      if (req.method === 'GET' && req.url?.startsWith('/v1/apps/web/autoscale')) return sendJson(res, 200, STATUS);
      if (req.method === 'DELETE') return sendJson(res, 200, {});
      sendError(res, 404, 'NOT_FOUND', 'no such route');
    });
  });
  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const wharf = (...args: string[]) => runCli(args, { server: server.url, home });

  it('sets the spec from the flags', async () => {
    const r = await wharf('autoscale', 'web', '--min', '2', '--max', '40', '--cpu', '60%', '--metric', 'qps', '--target', '500', '--schedule', '0 11 * * *@Asia/Shanghai for 3h min=20');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app web autoscaled: 2..40 sets, targets cpu 60%, qps 500 per set, 1 schedule (now 4)\n');
    const req = server.requests.at(-1);
    assert.equal(req?.method, 'PUT');
    assert.deepEqual(JSON.parse(req?.body ?? ''), { min: 2, max: 40, cpu: 60, metrics: [{ name: 'qps', target: 500 }], schedules: [SPEC.schedules?.[0]] });
  });

  it('shows the status, turns it off, and reports errors', async () => {
    const status = await wharf('autoscale', 'status', 'web');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Bounds: {3}min 20 \(base 2\), max 40/);
    const json = await wharf('autoscale', 'status', 'web', '-o', 'json');
    assert.equal((JSON.parse(json.stdout) as AutoscaleStatus).desired, 20);
    const off = await wharf('autoscale', 'web', '--off');
    assert.equal(off.stdout, 'app web: autoscaling off\n');
    assert.equal(server.requests.at(-1)?.method, 'DELETE');
    const missing = await wharf('autoscale', 'web', '--cpu', '60%');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /give --min and --max/);
    const notFound = await wharf('autoscale', 'status', 'nope');
    assert.notEqual(notFound.code, 0);
    assert.match(notFound.stderr, /app nope not found/);
  });
});
