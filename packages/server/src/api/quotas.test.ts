/**
 * Tenant quotas through `inject()`: set creation and updates, app scaling (the request
 * and the controller's creations), resize, load balancers; concurrent creates never
 * pass a limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AppEvent, QuotaView } from '@wharf/types';
import { AppsController } from '../controllers/apps.js';
import { adminApi, startTestServer, type TestServer } from '../testing/test-server.js';

const set = (appkey: string, id: number, cpu: number, memory = '64Mi') => ({ id: String(id), appkey, resources: { cpu, memory }, containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] });

describe('tenant quotas', () => {
  let t: TestServer;
  let admin: ReturnType<typeof adminApi>;
  let apps: AppsController;
  before(async () => {
    t = await startTestServer();
    admin = adminApi(t);
    assert.equal((await admin('PUT', '/v1/tenants/team-q', {})).statusCode, 201);
    apps = new AppsController(t.store, pino({ level: 'silent' }));
    await apps.start();
  });
  after(async () => {
    apps?.stop();
    await t?.stop();
  });

  it('a platform admin sets limits; GET shows them with the usage; unknown tenants and bad amounts are refused', async () => {
    const r = await admin('PUT', '/v1/quotas/team-q', { cpu: 2, memory: '1Gi', sets: 4 });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual((r.json() as QuotaView).limits, { cpu: 2, memory: 1024 ** 3, sets: 4 });
    assert.equal((await admin('PUT', '/v1/quotas/nowhere', { cpu: 1 })).statusCode, 404);
    const bad = await admin('PUT', '/v1/quotas/team-q', { memory: 'lots' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /memory/);
    assert.equal((await admin('PUT', '/v1/quotas/team-q', { cpu: -1 })).statusCode, 400);
  });

  it('set creates and updates are admitted against the limits, naming the quota, the usage and the request', async () => {
    assert.equal((await admin('PUT', '/v1/sets/db/1?tenant=team-q', set('db', 1, 1.5))).statusCode, 201);
    const over = await admin('PUT', '/v1/sets/db/2?tenant=team-q', set('db', 2, 1));
    assert.equal(over.statusCode, 403);
    assert.equal(over.json().error.code, 'QUOTA_EXCEEDED');
    assert.equal(over.json().error.message, 'set db/2 would pass tenant "team-q"\'s cpu quota: 1.5 cores used + 1 cores asked > 2 cores');
    assert.deepEqual(over.json().error.details, { tenant: 'team-q', resource: 'cpu', used: 1.5, requested: 1, limit: 2 });
    assert.equal((await admin('PUT', '/v1/sets/db/1?tenant=team-q', set('db', 1, 2.5))).statusCode, 403, 'growing the set counts only the growth');
    assert.equal((await admin('PUT', '/v1/sets/db/1?tenant=team-q', set('db', 1, 2))).statusCode, 200);
    assert.equal((await admin('PUT', '/v1/sets/db/1?tenant=team-q', set('db', 1, 1))).statusCode, 200, 'shrinking is always allowed');
    const view = (await admin('GET', '/v1/quotas/team-q')).json() as QuotaView;
    assert.deepEqual([view.used.cpu, view.used.sets, view.used.memory], [1, 1, 64 * 1024 ** 2]);
    // Other tenants are not limited by it.
    assert.equal((await admin('PUT', '/v1/sets/db/2', set('db', 2, 3))).statusCode, 201);
  });

  it('resize is admitted too', async () => {
    const r = await admin('POST', '/v1/sets/db/1/resize?tenant=team-q', { cpu: 3 });
    assert.equal(r.statusCode, 403, r.body);
    assert.match(r.json().error.message, /cpu quota: 1 cores used \+ 2 cores asked > 2 cores/);
  });

  it('concurrent creates never pass the limit', async () => {
    await admin('PUT', '/v1/quotas/team-q', { sets: 4 });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => admin('PUT', `/v1/sets/burst/${i}?tenant=team-q`, set('burst', i, 0.1))));
    const codes = answers.map((a) => a.statusCode).sort();
    assert.deepEqual(codes, [201, 201, 201, 403, 403, 403, 403, 403], 'the tenant had 1 set: 3 more fit');
    assert.equal(((await admin('GET', '/v1/quotas/team-q')).json() as QuotaView).used.sets, 4);
  });

  it('app scaling: the request is refused at once; the controller creates what fits and says why it stopped', async () => {
    await admin('PUT', '/v1/quotas/team-q', { sets: 6 });
    const app = { appkey: 'web', replicas: 0, template: { resources: { cpu: 0.1, memory: '32Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] } };
    assert.equal((await admin('PUT', '/v1/apps/web?tenant=team-q', app)).statusCode, 201);
    const scale = await admin('POST', '/v1/apps/web/scale?tenant=team-q', { replicas: 5 });
    assert.equal(scale.statusCode, 403);
    assert.equal(scale.json().error.message, 'app web: 5 more sets would pass tenant "team-q"\'s sets quota: 4 sets used + 5 sets asked > 6 sets');
    // Replicas raised another way (an autoscale decision, an app update): the controller stops at the limit.
    assert.equal((await admin('PUT', '/v1/apps/web?tenant=team-q', { ...app, replicas: 5 })).statusCode, 200);
    let events: AppEvent[] = [];
    for (let i = 0; i < 250 && !events.some((e) => e.reason === 'QuotaExceeded'); i++) {
      events = (await admin('GET', '/v1/apps/web/events?tenant=team-q')).json() as AppEvent[];
      await new Promise((r) => setTimeout(r, 20));
    }
    const quota = events.find((e) => e.reason === 'QuotaExceeded');
    assert.ok(quota, JSON.stringify(events));
    assert.equal(quota.type, 'Warning');
    assert.match(quota.message, /^app web: 1 more set would pass tenant "team-q"'s sets quota: 6 sets used \+ 1 sets asked > 6 sets$/);
    assert.equal(((await admin('GET', '/v1/quotas/team-q')).json() as QuotaView).used.sets, 6);
  });

  it('a load balancer frontend counts against lbPorts', async () => {
    await admin('PUT', '/v1/quotas/team-q', { lbPorts: 0 });
    const app = { appkey: 'front', replicas: 0, lb: { port: 18080, targetPort: 80 }, template: { containers: [{ index: 0, image: 'busybox', options: { name: 'app', ports: [{ containerPort: 80 }] } }] } };
    const r = await admin('PUT', '/v1/apps/front?tenant=team-q', app);
    assert.equal(r.statusCode, 403, r.body);
    assert.match(r.json().error.message, /app front's load balancer would pass tenant "team-q"'s lbPorts quota: 0 LB ports used \+ 1 LB ports asked > 0 LB ports/);
  });

  it('IPs: a set not placed yet counts the IPs its spec will take', async () => {
    assert.equal((await admin('PUT', '/v1/tenants/team-ip', {})).statusCode, 201);
    assert.equal((await admin('PUT', '/v1/networks/lan', { name: 'lan', subnet: '10.77.0.0/24', gateway: '10.77.0.1', default: true })).statusCode, 201);
    await admin('PUT', '/v1/quotas/team-ip', { ips: 3 });
    const twoIps = { ...set('ip', 1, 0.1), network: { extra: [{}] } };
    assert.equal((await admin('PUT', '/v1/sets/ip/1?tenant=team-ip', twoIps)).statusCode, 201, 'no host: it stays unplaced');
    const view = (await admin('GET', '/v1/quotas/team-ip')).json() as QuotaView;
    assert.equal(view.used.ips, 2);
    const over = await admin('PUT', '/v1/sets/ip/2?tenant=team-ip', { ...twoIps, id: '2' });
    assert.equal(over.statusCode, 403, over.body);
    assert.equal(over.json().error.message, 'set ip/2 would pass tenant "team-ip"\'s ips quota: 2 IPs used + 2 IPs asked > 3 IPs');
  });
});
