/** `GET /v1/events`: a tenant's set and app events merged, newest first, limited. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecentEvent, SetEvent, TokenCreated } from '@wharf/types';
import { appendEvents } from '../state/sets.js';
import { appendAppEvents } from '../state/apps.js';
import { adminApi, bearer, startTestServer, type TestServer } from '../testing/test-server.js';

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 12, minute)).toISOString();
const ev = (minute: number, reason: string, type: SetEvent['type'] = 'Normal'): SetEvent => ({ time: at(minute), type, reason, message: reason.toLowerCase() });

describe('GET /v1/events', () => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  const get = (url: string, token = t.admin) => t.app.inject({ url, headers: bearer(token) });

  before(async () => {
    t = await startTestServer();
    const api = adminApi(t);
    assert.equal((await api('PUT', '/v1/tenants/team-b', {})).statusCode, 201);
    for (const [user, roles] of [['vera', { default: 'viewer' }], ['bob', { 'team-b': 'developer' }]] as const) {
      assert.equal((await api('PUT', `/v1/users/${user}`, { password: `${user}-password`, roles })).statusCode, 201);
      tokens[user] = ((await t.app.inject({ method: 'POST', url: '/v1/login', payload: { user, password: `${user}-password` } })).json() as TokenCreated).token;
    }
    await appendEvents(t.store, { tenant: 'default', appkey: 'web', id: '1' }, [ev(1, 'Scheduled'), ev(4, 'Started'), ev(4, 'Ready')]);
    await appendEvents(t.store, { tenant: 'default', appkey: 'web', id: '2' }, [ev(2, 'Scheduled'), ev(6, 'BackOff', 'Warning')]);
    await appendAppEvents(t.store, 'default', 'web', [ev(0, 'ScaledOut'), ev(5, 'ScaledIn')]);
    await appendEvents(t.store, { tenant: 'team-b', appkey: 'db', id: '1' }, [ev(3, 'Started')]);
  });
  after(() => t?.stop());

  it('merges the tenant\'s set and app events, newest first, sets with their id', async () => {
    const r = await get('/v1/events');
    assert.equal(r.statusCode, 200);
    const list = r.json() as RecentEvent[];
    assert.deepEqual(list.map((e) => `${e.appkey}/${e.id ?? '-'} ${e.reason}`), [
      'web/2 BackOff', 'web/- ScaledIn', 'web/1 Ready', 'web/1 Started', 'web/2 Scheduled', 'web/1 Scheduled', 'web/- ScaledOut',
    ]);
    assert.deepEqual(list[0], { time: at(6), type: 'Warning', reason: 'BackOff', message: 'backoff', appkey: 'web', id: '2' });
    assert.ok(!('id' in (list[1] ?? {})));
  });

  it('limit: default 50, at most 500; bad values are a 400 naming limit', async () => {
    assert.deepEqual((((await get('/v1/events?limit=2')).json()) as RecentEvent[]).map((e) => e.reason), ['BackOff', 'ScaledIn']);
    for (const bad of ['0', '501', 'many']) {
      const r = await get(`/v1/events?limit=${bad}`);
      assert.equal(r.statusCode, 400, bad);
      assert.match(r.json().error.message, /limit/, bad);
    }
    await appendEvents(t.store, { tenant: 'default', appkey: 'many', id: '1' }, Array.from({ length: 60 }, (_, i) => ev(10 + i, `E${i}`)));
    assert.equal(((await get('/v1/events')).json() as RecentEvent[]).length, 50);
    assert.equal(((await get('/v1/events?limit=500')).json() as RecentEvent[]).length, 67);
  });

  it('is per tenant: viewers read their tenant, others are refused', async () => {
    assert.deepEqual(((await get('/v1/events?tenant=team-b')).json() as RecentEvent[]).map((e) => `${e.appkey}/${e.id} ${e.reason}`), ['db/1 Started']);
    assert.deepEqual(((await get('/v1/events?tenant=team-b', tokens.bob)).json() as RecentEvent[]).length, 1);
    assert.equal((await get('/v1/events?limit=1', tokens.vera)).statusCode, 200);
    assert.ok([403, 404].includes((await get('/v1/events', tokens.bob)).statusCode));
    assert.equal((await t.app.inject({ url: '/v1/events' })).statusCode, 401);
    assert.deepEqual((await get('/v1/events?tenant=nobody-here')).json(), []);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> };
    assert.deepEqual(doc.paths['/v1/events']?.get?.parameters?.map((p) => p.name).sort(), ['limit', 'tenant']);
  });
});
