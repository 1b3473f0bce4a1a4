import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostRegistration, SetEvent, SetObject, SetView } from '@wharf/types';
import type { App } from './context.js';
import { Keys } from '../state/keys.js';
import { adminApi, heartbeat as sendHeartbeat, placedOn, startTestServer, type TestServer } from '../testing/test-server.js';
import type { FakeAgent } from '../testing/fake-agent.js';

const GiB = 1024 ** 3;

function host(name: string, agentUrl: string, capacity: HostRegistration['capacity']): HostRegistration {
  return { name, zone: 'z1', rack: 'r1', labels: { name }, capacity, agentUrl, agentVersion: 'test', dockerVersion: 'test' };
}

/** A set of two containers, web (cpu 50%) and log (the rest); `volume` mounts /data. */
function spec(appkey: string, id: number, opts: { cpu?: number; volume?: boolean; on?: string } = {}) {
  return {
    appkey,
    id,
    resources: { cpu: opts.cpu ?? 1, memory: '1Gi', disk: '2Gi' },
    ...(opts.on ? { placement: { hostSelector: { name: opts.on } } } : {}),
    containers: [
      { index: 1, image: 'nginx:1', options: { name: 'web', cpu: 50, ...(opts.volume ? { volumes: [{ path: '/data' }] } : {}) } },
      { index: 2, image: 'fluent:2', options: { name: 'log' } },
    ],
  };
}

describe('POST /v1/sets/{appkey}/{id}/resize (inject, fake agents)', () => {
  let t: TestServer;
  let app: App;
  let a1: FakeAgent;
  let a2: FakeAgent;
  let api: ReturnType<typeof adminApi>;
  const resize = (set: string, body: unknown) => api('POST', `/v1/sets/${set}/resize`, body);
  const heartbeat = (reg: HostRegistration) => sendHeartbeat(t, reg);
  const get = async (set: string) => (await api('GET', `/v1/sets/${set}`)).json() as SetView;
  const events = async (set: string) => (await api('GET', `/v1/sets/${set}/events`)).json() as SetEvent[];
  const stored = async (set: string) => (await t.store.get<SetObject>(Keys.set('default', ...(set.split('/') as [string, string]))))?.value;
  const placed = (set: string) => placedOn(t, set);

  const h1 = () => host('h1', a1.url, { cpu: 4, memory: 8 * GiB, disk: 20 * GiB });
  const h2 = () => host('h2', a2.url, { cpu: 16, memory: 64 * GiB, disk: 100 * GiB });

  before(async () => {
    t = await startTestServer({ agents: ['h1', 'h2'] });
    [a1, a2] = t.agents as [FakeAgent, FakeAgent];
    app = t.app;
    api = adminApi(t);
    // web/1 and db/1 are created while h1 is the only host, so they land there.
    assert.equal((await heartbeat(h1())).statusCode, 200);
    assert.equal((await api('PUT', '/v1/sets/web/1', spec('web', 1))).statusCode, 201);
    assert.equal((await api('PUT', '/v1/sets/db/1', spec('db', 1, { volume: true }))).statusCode, 201);
    assert.equal((await placed('web/1')).host, 'h1');
    assert.equal((await placed('db/1')).host, 'h1');
    a1.volumes.set('default/db/1', { quota: 2 * GiB, content: Buffer.alloc(4096, 1), snapshots: [] });
    assert.equal((await heartbeat(h2())).statusCode, 200);
  });

  after(() => t.stop());

  it('fits: writes the new size into the spec with a new generation and an event', async () => {
    const doc = (await app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, { post?: { summary?: string } }> };
    assert.match(doc.paths['/v1/sets/{appkey}/{id}/resize']?.post?.summary ?? '', /^Resize a set online/);
    const was = await get('web/1');
    const r = await resize('web/1', { cpu: 2, memory: '2Gi' });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json() as SetView;
    assert.equal(v.host, 'h1');
    assert.equal(v.generation, was.generation + 1);
    assert.deepEqual(v.spec.resources, { cpu: 2, memory: '2Gi', disk: '2Gi' });
    assert.deepEqual(v.resources, { cpu: 2, memory: 2 * GiB, disk: 2 * GiB });
    const last = (await events('web/1')).at(-1);
    assert.deepEqual([last?.reason, last?.message, last?.host], ['ResizeRequested', 'resize: cpu 1 → 2, memory 1Gi → 2Gi', 'h1']);
    assert.ok(!a1.requests.some((q) => q.includes('/resize')), 'the volume is not touched when the disk stays');
  });

  it('answers the set as it is when nothing changes', async () => {
    const was = await get('web/1');
    const count = (await events('web/1')).length;
    const r = await resize('web/1', { cpu: 2, memory: 2 * GiB });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as SetView).generation, was.generation);
    assert.equal((await events('web/1')).length, count);
  });

  it('changes containers\' percentages; the others keep sharing what is left', async () => {
    const r = await resize('web/1', { containers: [{ name: 'web', cpu: 60, mem: 70 }] });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json() as SetView;
    assert.deepEqual(v.spec.containers.map((c) => [c.options.name, c.options.cpu, c.options.mem]), [['web', 60, 70], ['log', undefined, undefined]]);
    assert.equal((await events('web/1')).at(-1)?.message, 'resize: web cpu 50% → 60%, web mem 50% → 70%, log cpu 50% → 40%, log mem 50% → 30%');
  });

  it('refuses invalid requests, naming the field', async () => {
    const over = await resize('web/1', { containers: [{ name: 'web', cpu: 70 }, { name: 'log', cpu: 50 }] });
    assert.equal(over.statusCode, 400, over.body);
    assert.equal(over.json().error.code, 'VALIDATION_FAILED');
    assert.equal(over.json().error.message, 'containers[].options.cpu: percentages sum to 120; they may not exceed 100');

    const unknown = await resize('web/1', { cpu: 3, containers: [{ name: 'nope', cpu: 10 }] });
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.equal(unknown.json().error.code, 'CONTAINER_NOT_FOUND');
    assert.equal(unknown.json().error.message, 'containers[0].name: no container "nope" in set web/1 (it has web, log)');

    const cases: [unknown, RegExp][] = [
      [{}, /^\(root\): nothing to resize/],
      [{ moveIfNeeded: true }, /^\(root\): nothing to resize/],
      [{ memory: 'lots' }, /^memory: "lots" is not a size/],
      [{ disk: 0 }, /^disk: "0" is not a size/],
      [{ containers: [{ name: 'web' }] }, /^containers\[0\]: give cpu or mem/],
      [{ containers: [{ name: 'web', cpu: 10 }, { name: 'web', mem: 10 }] }, /^containers\[1\]\.name: "web" is listed twice/],
      [{ cpu: -1 }, /cpu/],
      [{ containers: [{ name: 'web', cpu: 150 }] }, /cpu/],
      [{ cpus: 2 }, /cpus|additional/],
    ];
    for (const [body, message] of cases) {
      const r = await resize('web/1', body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json().error.message, message, JSON.stringify(body));
    }
    assert.equal((await resize('nope/1', { cpu: 1 })).json().error.code, 'SET_NOT_FOUND');
    assert.equal((await api('POST', '/v1/sets/web/1/resize?tenant=other', { cpu: 1 })).statusCode, 404);
  });

  it('refuses a size the host cannot fit, in the scheduler\'s words', async () => {
    // h1: 4 cores; db/1 takes 1, so web/1 may have 3.
    const r = await resize('web/1', { cpu: 8, memory: '4Gi' });
    assert.equal(r.statusCode, 409, r.body);
    const err = r.json().error;
    assert.equal(err.code, 'INSUFFICIENT_RESOURCES');
    assert.equal(err.message, 'host h1 cannot fit the new size of set web/1: insufficient cpu: requested 8 cores, free 3 cores');
    assert.deepEqual(err.details, {
      host: 'h1',
      requested: { cpu: 8, memory: 4 * GiB, disk: 2 * GiB },
      unreserved: { cpu: 3, memory: 7 * GiB, disk: 18 * GiB },
      relocatable: true,
    });
    assert.equal((await get('web/1')).spec.resources?.cpu, 2);
    // Shrinking what an overfull host holds is always allowed.
    assert.equal((await resize('web/1', { cpu: 3 })).statusCode, 200);
  });

  it('refuses to move a set with a local volume', async () => {
    const r = await resize('db/1', { cpu: 8, moveIfNeeded: true });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().error.code, 'INSUFFICIENT_RESOURCES');
    assert.equal(
      r.json().error.message,
      'host h1 cannot fit the new size of set db/1: insufficient cpu: requested 8 cores, free 1 cores; the set has a local volume, so it cannot move to another host (set placement.relocatable to allow moving it)',
    );
    assert.equal(r.json().error.details.relocatable, false);
    assert.equal((await get('db/1')).host, 'h1');
  });

  it('with moveIfNeeded, unplaces a set that may move; the placement controller puts it on a host that fits', async () => {
    const r = await resize('web/1', { cpu: 8, moveIfNeeded: true });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json() as SetView;
    assert.equal(v.host, undefined);
    assert.equal(v.status, 'pending');
    assert.equal(v.resources.cpu, 8);
    assert.equal((await stored('web/1'))?.movedFrom, 'h1');
    assert.equal((await placed('web/1')).host, 'h2');
    const reasons = (await events('web/1')).slice(-2);
    assert.equal(reasons[0]?.reason, 'ResizeRequested');
    assert.equal(reasons[0]?.message, 'resize: cpu 3 → 8; host h1 cannot fit the new size of set web/1: insufficient cpu: requested 8 cores, free 3 cores, so the set moves to a host that can');
    assert.deepEqual([reasons[1]?.reason, reasons[1]?.message], ['Scheduled', 'placed on host h2 (moved from h1)']);
    // It fits its new host: no move.
    const more = await resize('web/1', { cpu: 10, moveIfNeeded: true });
    assert.equal(more.statusCode, 200, more.body);
    assert.equal((more.json() as SetView).host, 'h2');
  });

  it('resizes the volume through the agent first; refuses to shrink below what it holds', async () => {
    const small = await resize('db/1', { disk: 1024 });
    assert.equal(small.statusCode, 409, small.body);
    assert.equal(small.json().error.code, 'VOLUME_TOO_SMALL');
    assert.match(small.json().error.message, /holds 4096 bytes; it cannot shrink to 1024/);
    assert.equal((await get('db/1')).spec.resources?.disk, '2Gi');

    const asked = a1.requests.length;
    const tooBig = await resize('db/1', { disk: '30Gi' });
    assert.equal(tooBig.statusCode, 409, tooBig.body);
    assert.equal(tooBig.json().error.message, 'host h1 cannot fit the new size of set db/1: insufficient disk: requested 30Gi, free 20Gi');
    assert.equal(a1.requests.length, asked, 'the agent is not asked when the host cannot fit it');

    const grown = await resize('db/1', { disk: '4Gi', memory: '2Gi' });
    assert.equal(grown.statusCode, 200, grown.body);
    assert.equal((grown.json() as SetView).spec.resources?.disk, '4Gi');
    assert.equal(a1.volumes.get('default/db/1')?.quota, 4 * GiB);
    assert.equal((await events('db/1')).at(-1)?.message, 'resize: memory 1Gi → 2Gi, disk 2Gi → 4Gi');
  });

  it('gives a pending set the new spec', async () => {
    assert.equal((await api('PUT', '/v1/sets/far/1', spec('far', 1, { on: 'nowhere' }))).statusCode, 201);
    const r = await resize('far/1', { cpu: 64, disk: '1Ti' });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json() as SetView;
    assert.deepEqual([v.host, v.generation, v.resources.cpu, v.spec.resources?.disk], [undefined, 2, 64, '1Ti']);
  });

  it('refuses a set being deleted', async () => {
    assert.equal((await api('PUT', '/v1/sets/gone/1', spec('gone', 1, { on: 'h2' }))).statusCode, 201);
    await placed('gone/1');
    assert.equal((await api('DELETE', '/v1/sets/gone/1')).statusCode, 202);
    const r = await resize('gone/1', { cpu: 2 });
    assert.equal(r.statusCode, 409, r.body);
    assert.deepEqual([r.json().error.code, r.json().error.message], ['CONFLICT', 'set gone/1 is being deleted']);
  });

  it('never lets two concurrent resizes on a full host both pass', async () => {
    // h1 has db/1 (1 core); c/1 and c/2 take half a core each, leaving 2.5 cores: room for one of them to grow to 2.
    for (const id of [1, 2]) assert.equal((await api('PUT', `/v1/sets/c/${id}`, spec('c', id, { cpu: 0.5, on: 'h1' }))).statusCode, 201);
    await placed('c/1');
    await placed('c/2');
    for (let round = 0; round < 3; round++) {
      const [r1, r2] = await Promise.all([resize('c/1', { cpu: 2 }), resize('c/2', { cpu: 2 })]);
      assert.deepEqual([r1.statusCode, r2.statusCode].sort(), [200, 409], `${r1.body} ${r2.body}`);
      const refused = r1.statusCode === 409 ? r1 : r2;
      assert.equal(refused.json().error.code, 'INSUFFICIENT_RESOURCES');
      const sets = await Promise.all(['db/1', 'c/1', 'c/2'].map(get));
      assert.ok(sets.reduce((n, s) => n + s.resources.cpu, 0) <= 4);
      for (const id of [1, 2]) assert.equal((await resize(`c/${id}`, { cpu: 0.5 })).statusCode, 200);
    }
  });
});
