/**
 * The autoscale routes through `inject()`: the spec with field-named errors,
 * the status with schedule windows, and custom metrics that the autoscaler reads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AppView, AutoscaleStatus } from '@wharf/types';
import { CustomMetrics } from '../metrics/custom.js';
import { AutoscaleController } from '../controllers/autoscale.js';
import { adminApi, startTestServer, type TestServer } from '../testing/test-server.js';

const spec = { appkey: 'web', replicas: 2, template: { resources: { cpu: 0.5, memory: '64Mi' }, containers: [{ index: 1, image: 'web:1', options: { name: 'web' } }] } };

describe('autoscale routes', () => {
  const custom = new CustomMetrics();
  let t: TestServer;
  let store: TestServer['store'];
  let api: ReturnType<typeof adminApi>;

  before(async () => {
    t = await startTestServer({ context: { customMetrics: custom } });
    store = t.store;
    api = adminApi(t);
    assert.equal((await api('PUT', '/v1/apps/web', spec)).statusCode, 201);
  });
  after(() => t.stop());

  it('rejects bad specs with field names', async () => {
    const bad = await api('PUT', '/v1/apps/web/autoscale', { min: 5, max: 2, schedules: [{ cron: '0 11 * *', timezone: 'Nowhere/Land', duration: '3h', min: 20 }] });
    assert.equal(bad.statusCode, 400);
    const paths = (bad.json() as { error: { details: { errors: { path: string }[] } } }).error.details.errors.map((e) => e.path);
    assert.deepEqual(paths, ['max', 'schedules[0].cron', 'schedules[0].timezone']);
    assert.equal((await api('PUT', '/v1/apps/nope/autoscale', { min: 1, max: 2 })).statusCode, 404);
    // Through the app spec too.
    const viaApp = await api('PUT', '/v1/apps/web', { ...spec, autoscale: { min: 3, max: 1 } });
    assert.equal(viaApp.statusCode, 400);
    assert.match(viaApp.body, /autoscale\.max/);
  });

  it('stores the spec and serves the status with the next windows', async () => {
    const res = await api('PUT', '/v1/apps/web/autoscale', { min: 2, max: 10, metrics: [{ name: 'qps', target: 100 }], schedules: [{ cron: '0 11 * * *', timezone: 'Asia/Shanghai', duration: '3h', min: 4 }] });
    assert.equal(res.statusCode, 200, res.body);
    const status = res.json() as AutoscaleStatus;
    assert.equal(status.current, 2);
    assert.equal(status.upcoming.length, 1);
    assert.equal(status.upcoming[0]?.timezone, 'Asia/Shanghai');
    assert.equal(new Date(status.upcoming[0]?.start ?? '').getUTCHours(), 3);
    const view = (await api('GET', '/v1/apps/web')).json() as AppView;
    assert.equal(view.spec.autoscale?.max, 10);
  });

  it('takes custom metrics, which drive the autoscaler', async () => {
    assert.equal((await api('POST', '/v1/apps/web/metrics', { name: 'qps', value: 400 })).statusCode, 204);
    assert.equal((await api('POST', '/v1/apps/web/metrics', { name: 'qps', value: -1 })).statusCode, 400);
    assert.equal((await api('POST', '/v1/apps/nope/metrics', { name: 'qps', value: 1 })).statusCode, 404);
    const status = (await api('GET', '/v1/apps/web/autoscale')).json() as AutoscaleStatus;
    // 400 over 2 sets (none ready: the replica count) is 200 per set, twice the target.
    assert.deepEqual(status.signals, [{ name: 'qps', observed: 200, target: 100, unit: '', sets: 2 }]);
    assert.equal(status.desired, 4);
    const controller = new AutoscaleController(store, pino({ level: 'silent' }), { history: { appAverage: () => undefined }, custom });
    await controller.pass();
    const after = (await api('GET', '/v1/apps/web/autoscale')).json() as AutoscaleStatus;
    assert.equal(after.current, 4);
    assert.deepEqual(after.decisions.map((d) => d.message), ['qps 200 per set > target 100 over 2 sets: 2 → 4']);
  });

  it('turns autoscaling off', async () => {
    const res = await api('DELETE', '/v1/apps/web/autoscale');
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as AppView).spec.autoscale, undefined);
    assert.equal((await api('GET', '/v1/apps/web/autoscale')).json().spec, undefined);
  });
});
