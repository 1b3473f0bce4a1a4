import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { DesiredSets, HostRegistration, Rollout, SetView, StatusReport } from '@wharf/types';
import { RolloutController } from '../controllers/rollout.js';
import { bearer, startTestServer, type TestServer } from '../testing/test-server.js';

const APP = 'com.x';

function spec(id: number, web = 'web:1') {
  return {
    appkey: APP, id,
    containers: [
      { index: 1, image: web, options: { name: 'web' } },
      { index: 2, image: 'log:1', options: { name: 'log' } },
    ],
  };
}

const registration: HostRegistration = {
  name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 64, memory: 64 * 1024 ** 3, disk: 500 * 1024 ** 3 },
  agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test',
};

describe('rollout routes (inject)', () => {
  let t: TestServer;
  const as = () => bearer(t.admin);
  const post = (url: string, payload?: object) => t.app.inject({ method: 'POST', url, headers: as(), ...(payload ? { payload } : {}) });
  const get = (url: string) => t.app.inject({ url, headers: as() });

  before(async () => {
    t = await startTestServer();
    for (const id of [1, 2, 10, 3]) {
      const r = await t.app.inject({ method: 'PUT', url: `/v1/sets/${APP}/${id}`, headers: as(), payload: spec(id) });
      assert.equal(r.statusCode, 201, r.body);
    }
    await t.app.inject({ method: 'PUT', url: '/v1/sets/com.y/1?tenant=team-a', headers: as(), payload: { ...spec(1), appkey: 'com.y' } });
  });

  after(() => t.stop());

  it('says what is wrong with a request before anything starts', async () => {
    const cases: [object, number, string, RegExp][] = [
      [{ container: 'web', image: 'web:2', batch: '0%' }, 400, 'VALIDATION_FAILED', /batch/],
      [{ container: 'web', image: 'web:2', surprise: 1 }, 400, 'VALIDATION_FAILED', /surprise|additional/],
      [{ container: 'db', image: 'db:2' }, 404, 'CONTAINER_NOT_FOUND', /^no set of app com\.x has a container "db"; the containers there are: log, web$/],
      [{ container: 'web', image: 'web:2', set: '9' }, 404, 'SET_NOT_FOUND', /set com\.x\/9 not found/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await post(`/v1/apps/${APP}/rollouts`, body);
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.json().error.code, code);
      assert.match(r.json().error.message, message);
    }
    const none = await post('/v1/apps/com.none/rollouts', { container: 'web', image: 'web:2' });
    assert.equal(none.statusCode, 404);
    assert.deepEqual(none.json().error, { code: 'APP_NOT_FOUND', message: 'app com.none has no sets in tenant default', details: { appkey: 'com.none' } });
    const current = await get(`/v1/apps/${APP}/rollouts/current`);
    assert.equal(current.statusCode, 404);
    assert.equal(current.json().error.code, 'ROLLOUT_NOT_FOUND');
    assert.equal((await get(`/v1/apps/${APP}/rollouts`)).json().length, 0);
  });

  it('starts a rollout (201): targets in id order with their current image; one at a time per app', async () => {
    const r = await post(`/v1/apps/${APP}/rollouts`, { container: 'web', image: 'web:2', batch: '50%', autoRollback: true });
    assert.equal(r.statusCode, 201, r.body);
    const rollout = r.json() as Rollout & Record<string, unknown>;
    assert.equal(rollout.number, 1);
    assert.deepEqual([rollout.batchSize, rollout.maxUnavailable, rollout.batches, rollout.timeoutSeconds], [2, 2, 2, 300]);
    assert.deepEqual(rollout.targets, ['1', '2', '3', '10'].map((id) => ({ id, from: 'web:1', state: 'waiting' })));
    assert.equal(rollout.state, 'running');

    const again = await post(`/v1/apps/${APP}/rollouts`, { container: 'web', image: 'web:3' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'ROLLOUT_IN_PROGRESS');
    assert.match(again.json().error.message, /rollout 1 of app com\.x is running \(web → web:2\)/);

    // Another tenant's app of its own.
    const other = await post('/v1/apps/com.y/rollouts?tenant=team-a', { container: 'web', image: 'web:2', set: '1' });
    assert.equal(other.statusCode, 201, other.body);
    assert.equal((other.json() as Rollout).tenant, 'team-a');
    assert.equal((await get('/v1/apps/com.y/rollouts/current')).statusCode, 404, 'not visible in the default tenant');
  });

  it('pause, resume and rollback the current rollout; a state that does not allow it is a 409', async () => {
    const paused = await post(`/v1/apps/${APP}/rollouts/current/pause`);
    assert.equal(paused.statusCode, 200, paused.body);
    assert.equal((paused.json() as Rollout).state, 'paused');
    const twice = await post(`/v1/apps/${APP}/rollouts/current/pause`);
    assert.equal(twice.statusCode, 409);
    assert.deepEqual(twice.json().error, { code: 'CONFLICT', message: 'rollout 1 of app com.x is paused; only a running rollout can be paused', details: { number: 1, state: 'paused' } });
    assert.equal((await post(`/v1/apps/${APP}/rollouts/current/resume`)).json().state, 'running');
    const back = await post(`/v1/apps/${APP}/rollouts/current/rollback`);
    assert.equal(back.json().state, 'rolling-back');
  });

  it('serves one rollout by number, the newest as current, and the history newest first', async () => {
    const one = await get(`/v1/apps/${APP}/rollouts/1`);
    assert.equal(one.statusCode, 200);
    const body = one.json() as Record<string, unknown>;
    assert.equal(body.number, 1);
    assert.equal(body.cause, undefined, 'bookkeeping fields stay in the store');
    assert.equal((await get(`/v1/apps/${APP}/rollouts/7`)).json().error.code, 'ROLLOUT_NOT_FOUND');
    assert.equal((await get(`/v1/apps/${APP}/rollouts/seven`)).statusCode, 400);
    const doc = (await t.app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, Record<string, { tags: string[] }>> };
    assert.deepEqual(doc.paths['/v1/apps/{appkey}/rollouts']?.post?.tags, ['rollouts']);
    assert.ok(doc.paths['/v1/apps/{appkey}/rollouts/current/rollback']);
  });

  it('with the controller and an agent reporting through the API, a rollout goes to the end', async () => {
    const controller = new RolloutController(t.store, pino({ level: 'silent' }), 20);
    await controller.start();
    try {
      const rollouts = async () => (await get(`/v1/apps/${APP}/rollouts`)).json() as Rollout[];
      // Rollout 1 never changed a set: its rollback ends at once.
      await waitFor(async () => (await rollouts())[0]?.state === 'rolled-back');
      assert.equal((await t.app.inject({ method: 'PUT', url: '/v1/hosts/h1', headers: bearer(t.join), payload: registration })).statusCode, 200);
      const agent = new PretendAgent(t);
      await waitFor(async () => (await agent.desired()).sets.filter((s) => s.appkey === APP).length === 4);

      const start = await post(`/v1/apps/${APP}/rollouts`, { container: 'web', image: 'web:2', batch: 1 });
      assert.equal(start.statusCode, 201, start.body);
      const done = await waitFor(async () => {
        await agent.reportAll();
        const r = (await rollouts())[0];
        return r?.state === 'succeeded' ? r : undefined;
      });
      assert.equal(done.number, 2);
      assert.deepEqual(done.targets.map((x) => [x.id, x.state, x.batch]), [['1', 'updated', 1], ['2', 'updated', 2], ['3', 'updated', 3], ['10', 'updated', 4]]);
      const sets = (await get(`/v1/sets?appkey=${APP}`)).json() as SetView[];
      for (const s of sets) {
        assert.deepEqual(s.spec.containers.map((c) => c.image), ['web:2', 'log:1'], `set ${s.id}`);
        assert.ok(s.ready);
      }
      const history = await rollouts();
      assert.deepEqual(history.map((r) => [r.number, r.state]), [[2, 'succeeded'], [1, 'rolled-back']]);
      const events = (await get(`/v1/sets/${APP}/10/events`)).json() as { reason: string; message: string }[];
      assert.ok(events.some((e) => e.reason === 'RolloutUpdating' && e.message === 'rollout 2: web → web:2 (batch 4/4)'), JSON.stringify(events));
    } finally {
      controller.stop();
    }
  });
});

/** Reports every set placed on h1 as running its current spec, every container ready. */
class PretendAgent {
  constructor(private readonly t: TestServer) {}

  async desired(): Promise<DesiredSets> {
    return (await this.t.app.inject({ url: '/v1/hosts/h1/desired?revision=0&wait=1', headers: bearer(this.t.join) })).json() as DesiredSets;
  }

  async reportAll(): Promise<void> {
    const { sets } = await this.desired();
    const report: StatusReport = {
      sets: sets.map((s) => ({
        tenant: s.tenant, appkey: s.appkey, id: s.id,
        status: {
          phase: 'running', observedGeneration: s.generation, ready: true,
          containers: s.spec.containers.map((c) => ({ name: c.options.name, role: 'business' as const, index: c.index, image: c.image, state: 'running' as const, restartCount: 0, ready: true })),
        },
      })),
    };
    const r = await this.t.app.inject({ method: 'POST', url: '/v1/hosts/h1/status', headers: bearer(this.t.join), payload: report });
    assert.equal(r.statusCode, 204, r.body);
  }
}

async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
