import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, HostRegistration, SetEvent, SetView, TrashEntry, VolumeSnapshot, VolumeView } from '@wharf/types';
import type { App } from './api/context.js';
import { adminApi, bearer, heartbeat as sendHeartbeat, placedOn, startTestServer, type TestServer } from './testing/test-server.js';
import type { FakeAgent } from './testing/fake-agent.js';

const GiB = 1024 ** 3;

function host(name: string, agentUrl: string, extra: Partial<HostRegistration> = {}): HostRegistration {
  return {
    name, zone: 'z1', rack: 'r1', labels: { name }, capacity: { cpu: 16, memory: 64 * GiB, disk: 20 * GiB },
    agentUrl, agentVersion: 'test', dockerVersion: 'test', ...extra,
  };
}

function spec(appkey: string, id: number, extra: Record<string, unknown> = {}) {
  return { appkey, id, resources: { disk: '10Gi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'main', volumes: [{ path: '/data' }] } }], ...extra };
}

function trashEntry(agent: FakeAgent, over: Partial<TrashEntry> & { trashId: string }, content = 'old data'): TrashEntry & { content: Buffer } {
  return {
    host: agent.name, tenant: 'default', appkey: 'web', id: '9', driver: 'btrfs', used: Buffer.byteLength(content), quota: 5 * GiB,
    deletedAt: '2026-01-01T00:00:00Z', purgeAt: '2026-01-08T00:00:00Z', content: Buffer.from(content), ...over,
  };
}

describe('volumes, recycle bin, snapshots and moves (inject, fake agents)', () => {
  let t: TestServer;
  let app: App;
  let a1: FakeAgent;
  let a2: FakeAgent;
  let api: ReturnType<typeof adminApi>;
  const heartbeat = (reg: HostRegistration) => sendHeartbeat(t, reg);
  const report = (hostName: string, appkey: string, id: string, phase: string) =>
    app.inject({ method: 'POST', url: `/v1/hosts/${hostName}/status`, headers: bearer(t.join), payload: { sets: [{ tenant: 'default', appkey, id, status: { phase, observedGeneration: 1, containers: [] } }] } });
  const placed = (appkey: string, id: number) => placedOn(t, `${appkey}/${id}`);
  const events = async (appkey: string, id: number) => ((await api('GET', `/v1/sets/${appkey}/${id}/events`)).json() as SetEvent[]).map((e) => e.reason);

  before(async () => {
    t = await startTestServer({ agents: ['h1', 'h2'] });
    [a1, a2] = t.agents as [FakeAgent, FakeAgent];
    app = t.app;
    api = adminApi(t);
    // web/1 is created while h1 is the only host, so it lands there.
    assert.equal((await heartbeat(host('h1', a1.url))).statusCode, 200);
    assert.equal((await api('PUT', '/v1/sets/web/1', spec('web', 1))).statusCode, 201);
    assert.equal((await placed('web', 1)).host, 'h1');
    a1.volumes.set('default/web/1', { quota: 10 * GiB, content: Buffer.from('hello volume'), snapshots: [] });
    assert.equal((await heartbeat(host('h2', a2.url))).statusCode, 200);
    assert.equal((await heartbeat(host('h3', 'http://127.0.0.1:1'))).statusCode, 200);
    assert.equal((await api('PUT', '/v1/sets/web/2', spec('web', 2, { placement: { hostSelector: { name: 'h2' } } }))).statusCode, 201);
    assert.equal((await api('PUT', '/v1/sets/db/1', spec('db', 1, { resources: { disk: '1Gi' }, placement: { hostSelector: { name: 'h3' } } }))).statusCode, 201);
    assert.equal((await placed('web', 2)).host, 'h2');
    assert.equal((await placed('db', 1)).host, 'h3');
  });

  after(() => t.stop());

  it('documents the routes under the volumes tag; they need the admin token', async () => {
    const doc = (await app.inject({ url: '/v1/openapi.json' })).json() as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const [path, method] of [
      ['/v1/volumes', 'get'], ['/v1/volumes/{appkey}/{id}/resize', 'post'], ['/v1/volumes/{appkey}/{id}/snapshots/{name}/restore', 'post'],
      ['/v1/volumes/{appkey}/{id}/export', 'get'], ['/v1/trash', 'get'], ['/v1/trash/{host}/{trashId}/restore', 'post'], ['/v1/trash/{host}', 'delete'],
      ['/v1/sets/{appkey}/{id}/move', 'post'],
    ] as const) {
      assert.ok(doc.paths[path]?.[method]?.tags?.includes('volumes'), `${method} ${path}`);
    }
    const asAgent = await app.inject({ url: '/v1/volumes', headers: bearer(t.join) });
    assert.equal(asAgent.statusCode, 403);
  });

  it('lists volumes with usage from heartbeats, and shows the host pool', async () => {
    const pool = { driver: 'btrfs' as const, size: 20 * GiB, used: 3 * GiB, free: 17 * GiB, trash: GiB, trashCount: 2 };
    const r = await heartbeat(host('h1', a1.url, { pool, volumes: [a1.usage('default/web/1')] }));
    assert.equal(r.statusCode, 200);
    assert.deepEqual((r.json() as Host).pool, pool);
    assert.deepEqual(((await api('GET', '/v1/hosts/h1')).json() as Host).pool, pool);
    const list = (await api('GET', '/v1/volumes?appkey=web')).json() as VolumeView[];
    const web1 = list.find((v) => v.id === '1');
    assert.deepEqual({ ...web1, reportedAt: undefined }, {
      tenant: 'default', appkey: 'web', id: '1', host: 'h1', driver: 'btrfs', used: 12, size: 10 * GiB, quota: 10 * GiB,
      path: '/var/lib/wharf/volumes/default/web/1', reportedAt: undefined,
    });
    assert.ok(web1?.reportedAt);
    assert.deepEqual(list.find((v) => v.id === '2'), { tenant: 'default', appkey: 'web', id: '2', host: 'h2', size: 10 * GiB });
    assert.deepEqual((await api('GET', '/v1/volumes?tenant=other')).json(), []);
  });

  it('resizes online: checks the host fits, passes agent errors on, records resources.disk', async () => {
    const tooBig = await api('POST', '/v1/volumes/web/1/resize', { size: '40Gi' });
    assert.equal(tooBig.statusCode, 409);
    assert.equal(tooBig.json().error.code, 'INSUFFICIENT_DISK');
    assert.equal(tooBig.json().error.message, 'host h1 has 10Gi of disk unreserved; growing by 30Gi needs more');
    assert.ok(!a1.requests.some((r) => r.endsWith('/resize')), 'the agent is not asked when the host cannot fit it');

    const tooSmall = await api('POST', '/v1/volumes/web/1/resize', { size: 4 });
    assert.equal(tooSmall.statusCode, 409);
    assert.equal(tooSmall.json().error.code, 'VOLUME_TOO_SMALL');
    assert.match(tooSmall.json().error.message, /holds 12 bytes; it cannot shrink to 4/);
    assert.equal(tooSmall.json().error.details.host, 'h1');

    const bad = await api('POST', '/v1/volumes/web/1/resize', { size: 'lots' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /^size: "lots" is not a size/);

    const before = (await api('GET', '/v1/sets/web/1')).json() as SetView;
    const r = await api('POST', '/v1/volumes/web/1/resize', { size: '15Gi' });
    assert.equal(r.statusCode, 200, r.body);
    const v = r.json() as VolumeView;
    assert.deepEqual([v.size, v.quota, v.used, v.host], [15 * GiB, 15 * GiB, 12, 'h1']);
    assert.equal(a1.volumes.get('default/web/1')?.quota, 15 * GiB);
    const after = (await api('GET', '/v1/sets/web/1')).json() as SetView;
    assert.equal(after.spec.resources?.disk, '15Gi');
    assert.equal(after.resources.disk, 15 * GiB);
    assert.equal(after.generation, before.generation + 1);
    assert.ok((await events('web', 1)).includes('VolumeResized'));
    // The host has 5Gi left now.
    const more = await api('POST', '/v1/volumes/web/1/resize', { size: '21Gi' });
    assert.equal(more.json().error.message, 'host h1 has 5Gi of disk unreserved; growing by 6Gi needs more');

    const pending = await api('PUT', '/v1/sets/big/1', spec('big', 1, { resources: { disk: '100Gi' } }));
    assert.equal(pending.statusCode, 201);
    const unplaced = await api('POST', '/v1/volumes/big/1/resize', { size: '1Gi' });
    assert.equal(unplaced.statusCode, 409);
    assert.match(unplaced.json().error.message, /set big\/1 is not placed on a host yet/);
    assert.equal((await api('POST', '/v1/volumes/nope/1/resize', { size: '1Gi' })).json().error.code, 'SET_NOT_FOUND');
  });

  it('proxies snapshots to the set\'s host', async () => {
    const created = await api('POST', '/v1/volumes/web/1/snapshots', { name: 'before-upgrade' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((created.json() as VolumeSnapshot).name, 'before-upgrade');
    assert.equal((await api('POST', '/v1/volumes/web/1/snapshots', {})).json().name, 'auto-2');
    assert.equal((await api('POST', '/v1/volumes/web/1/snapshots', { name: '../x' })).statusCode, 400);
    const list = (await api('GET', '/v1/volumes/web/1/snapshots')).json() as VolumeSnapshot[];
    assert.deepEqual(list.map((s) => s.name), ['before-upgrade', 'auto-2']);
    const one = (await api('GET', '/v1/volumes/web/1')).json() as VolumeView;
    assert.deepEqual(one.snapshots?.map((s) => s.name), ['before-upgrade', 'auto-2']);

    a1.volumes.get('default/web/1')!.content = Buffer.from('changed!');
    a1.running.add('default/web/1');
    const busy = await api('POST', '/v1/volumes/web/1/snapshots/before-upgrade/restore');
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.json().error.code, 'VOLUME_IN_USE');
    a1.running.delete('default/web/1');
    const restored = await api('POST', '/v1/volumes/web/1/snapshots/before-upgrade/restore');
    assert.equal(restored.statusCode, 200, restored.body);
    assert.equal((restored.json() as VolumeView).used, 12);
    assert.equal(a1.volumes.get('default/web/1')?.content.toString(), 'hello volume');
    assert.equal((await api('DELETE', '/v1/volumes/web/1/snapshots/auto-2')).statusCode, 204);
    const gone = await api('DELETE', '/v1/volumes/web/1/snapshots/auto-2');
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'SNAPSHOT_NOT_FOUND');
    assert.ok(a1.requests.includes('DELETE /v1/volumes/default/web/1/snapshots/auto-2'));
    const reasons = await events('web', 1);
    for (const r of ['SnapshotCreated', 'SnapshotRestored', 'SnapshotDeleted']) assert.ok(reasons.includes(r), r);
  });

  it('answers 502 HOST_UNREACHABLE naming the host when its agent does not answer', async () => {
    const r = await api('GET', '/v1/volumes/db/1/snapshots');
    assert.equal(r.statusCode, 502);
    assert.equal(r.json().error.code, 'HOST_UNREACHABLE');
    assert.match(r.json().error.message, /^agent of host h3 at http:\/\/127\.0\.0\.1:1 did not answer/);
    // Reading the volume still works, without snapshots.
    const v = await api('GET', '/v1/volumes/db/1');
    assert.equal(v.statusCode, 200);
    assert.equal((v.json() as VolumeView).snapshots, undefined);
  });

  it('streams an export', async () => {
    const r = await api('GET', '/v1/volumes/web/1/export');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.equal(r.headers['content-disposition'], 'attachment; filename="web-1.tar"');
    assert.equal(r.headers['x-wharf-volume-used'], '12');
    assert.equal(r.body, 'hello volume');
    assert.ok(a1.requests.includes('GET /v1/volumes/default/web/1/export?formats=tar'));
  });

  it('lists the recycle bins of the tenant, naming hosts that did not answer', async () => {
    a1.trash.push(
      trashEntry(a1, { trashId: 't1', deletedAt: '2026-01-02T00:00:00Z' }),
      trashEntry(a1, { trashId: 't2', appkey: 'db', id: '7' }),
      trashEntry(a1, { trashId: 't3', tenant: 'other' }),
    );
    a2.trash.push(trashEntry(a2, { trashId: 'u1', id: '8' }));
    const r = await api('GET', '/v1/trash');
    assert.equal(r.statusCode, 200);
    assert.deepEqual((r.json() as TrashEntry[]).map((e) => `${e.host}/${e.trashId}`), ['h1/t1', 'h1/t2', 'h2/u1']);
    assert.equal(r.headers['x-wharf-unreachable-hosts'], 'h3');
    const only = await api('GET', '/v1/trash?host=h2&tenant=default');
    assert.deepEqual((only.json() as TrashEntry[]).map((e) => e.trashId), ['u1']);
    assert.equal(only.headers['x-wharf-unreachable-hosts'], undefined);
    assert.deepEqual(((await api('GET', '/v1/trash?tenant=other')).json() as TrashEntry[]).map((e) => e.trashId), ['t3']);
    assert.equal((await api('GET', '/v1/trash?host=nope')).json().error.code, 'HOST_NOT_FOUND');
  });

  it('restores from the recycle bin only into a set of the same app on the same host', async () => {
    const otherApp = await api('POST', '/v1/trash/h1/t2/restore', { appkey: 'web', id: '1' });
    assert.equal(otherApp.statusCode, 400);
    assert.match(otherApp.json().error.message, /was of app db \(set db\/7\); it can only be restored into a set of db, not web/);
    const elsewhere = await api('POST', '/v1/trash/h1/t1/restore', { appkey: 'web', id: '2' });
    assert.equal(elsewhere.statusCode, 409);
    assert.equal(elsewhere.json().error.code, 'CONFLICT');
    assert.match(elsewhere.json().error.message, /^set web\/2 is on host h2; the volume is in h1's recycle bin/);
    assert.equal((await api('POST', '/v1/trash/h1/t3/restore', { appkey: 'web', id: '1' })).json().error.code, 'TRASH_NOT_FOUND');
    assert.equal((await api('POST', '/v1/trash/h1/nope/restore', { appkey: 'web', id: '1' })).statusCode, 404);

    a1.running.add('default/web/1');
    const busy = await api('POST', '/v1/trash/h1/t1/restore', { appkey: 'web', id: '1' });
    assert.equal(busy.json().error.code, 'VOLUME_IN_USE');
    a1.running.delete('default/web/1');
    const ok = await api('POST', '/v1/trash/h1/t1/restore', { appkey: 'web', id: '1' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((ok.json() as VolumeView).used, Buffer.byteLength('old data'));
    assert.equal(a1.volumes.get('default/web/1')?.content.toString(), 'old data');
    assert.ok((await events('web', 1)).includes('VolumeRestored'));
    a1.volumes.get('default/web/1')!.content = Buffer.from('hello volume');
  });

  it('purges one volume, or all of the tenant on a host', async () => {
    a1.trash.push(trashEntry(a1, { trashId: 't4', id: '10' }, 'abcd'));
    const one = await api('DELETE', '/v1/trash/h1/t2');
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), { purged: 1, bytes: 8 });
    assert.equal((await api('DELETE', '/v1/trash/h1/t2')).json().error.code, 'TRASH_NOT_FOUND');
    const all = await api('DELETE', '/v1/trash/h1');
    assert.equal(all.statusCode, 200);
    assert.deepEqual(all.json(), { purged: 1, bytes: 4 });
    assert.deepEqual(a1.trash.map((e) => e.trashId), ['t3'], "another tenant's volume stays");
    assert.equal((await api('DELETE', '/v1/trash/nope')).json().error.code, 'HOST_NOT_FOUND');
  });

  it('moves a stopped set with its volume, comparing checksums', async () => {
    assert.equal((await report('h1', 'web', '1', 'running')).statusCode, 204);
    const running = await api('POST', '/v1/sets/web/1/move', { host: 'h2' });
    assert.equal(running.statusCode, 409);
    assert.equal(running.json().error.message, 'set web/1 is running on host h1; stop it first: wharf stop set web/1 --wait');

    assert.equal((await api('POST', '/v1/sets/web/1/stop')).statusCode, 200);
    assert.match((await api('POST', '/v1/sets/web/1/move', { host: 'h2' })).json().error.message, /is still running on host h1; stop it first/);
    await report('h1', 'web', '1', 'stopped');

    assert.equal((await api('POST', '/v1/sets/web/1/move', { host: 'h1' })).json().error.message, 'set web/1 is already on host h1');
    assert.equal((await api('POST', '/v1/sets/web/1/move', { host: 'nope' })).json().error.code, 'HOST_NOT_FOUND');
    assert.equal((await api('POST', '/v1/hosts/h2/cordon')).statusCode, 200);
    assert.match((await api('POST', '/v1/sets/web/1/move', { host: 'h2' })).json().error.message, /^host h2 is cordoned/);
    assert.equal((await api('POST', '/v1/hosts/h2/uncordon')).statusCode, 200);
    // h2 has 10Gi left beside web/2; web/1 needs 15Gi.
    const full = await api('POST', '/v1/sets/web/1/move', { host: 'h2' });
    assert.equal(full.statusCode, 409);
    assert.equal(full.json().error.code, 'INSUFFICIENT_DISK');
    assert.match(full.json().error.message, /^set web\/1 does not fit host h2: insufficient disk: requested 15Gi, free 10Gi/);
    assert.equal((await api('POST', '/v1/volumes/web/1/resize', { size: '10Gi' })).statusCode, 200);

    // A bad copy changes nothing.
    a2.corruptChecksums = true;
    const bad = await api('POST', '/v1/sets/web/1/move', { host: 'h2' });
    assert.equal(bad.statusCode, 409);
    assert.match(bad.json().error.message, /^the copy of set web\/1's volume on host h2 \(.*\) differs from the original on host h1 \(.*\); the set stays on h1$/);
    const still = (await api('GET', '/v1/sets/web/1')).json() as SetView;
    assert.deepEqual([still.host, still.desired], ['h1', 'stopped']);
    assert.ok((await events('web', 1)).includes('MoveFailed'));
    a2.corruptChecksums = false;

    const moved = await api('POST', '/v1/sets/web/1/move', { host: 'h2' });
    assert.equal(moved.statusCode, 200, moved.body);
    const v = moved.json() as SetView;
    assert.deepEqual([v.host, v.desired, v.status], ['h2', 'running', 'pending']);
    assert.equal(a2.volumes.get('default/web/1')?.content.toString(), 'hello volume');
    assert.ok(a2.requests.includes('POST /v1/volumes/default/web/1/import'));
    const evs = (await api('GET', '/v1/sets/web/1/events')).json() as SetEvent[];
    const copied = evs.find((e) => e.reason === 'VolumeCopied');
    assert.match(copied?.message ?? '', /^volume copied from host h1 to h2: 12 in 1 files \(12 used\) in \d+\.\ds; checksums match$/);
    assert.ok(evs.some((e) => e.reason === 'Moved'));
    const desired = (await app.inject({ url: '/v1/hosts/h2/desired?revision=0&wait=0', headers: bearer(t.join) })).json() as { sets: { id: string; appkey: string; movedFrom?: string }[] };
    assert.equal(desired.sets.find((s) => s.appkey === 'web' && s.id === '1')?.movedFrom, 'h1');
  });

  it('lets a person override placement preferences, and records a move that fails', async () => {
    // web/2 may only be placed on h2 (its host selector), but an explicit move goes where it is told.
    a2.volumes.set('default/web/2', { quota: 10 * GiB, content: Buffer.from('second'), snapshots: [] });
    await api('POST', '/v1/sets/web/2/stop');
    await report('h2', 'web', '2', 'stopped');
    const r = await api('POST', '/v1/sets/web/2/move', { host: 'h1' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as SetView).host, 'h1');
    assert.equal(a1.volumes.get('default/web/2')?.content.toString(), 'second');

    assert.equal((await api('POST', '/v1/sets/web/1/stop')).statusCode, 200);
    await report('h2', 'web', '1', 'stopped');
    const down = await api('POST', '/v1/sets/web/1/move', { host: 'h3' });
    assert.equal(down.statusCode, 502);
    assert.equal(down.json().error.code, 'HOST_UNREACHABLE');
    assert.match(down.json().error.message, /^agent of host h3 at http:\/\/127\.0\.0\.1:1 did not answer/);
    const evs = (await api('GET', '/v1/sets/web/1/events')).json() as SetEvent[];
    assert.match(evs.findLast((e) => e.reason === 'MoveFailed')?.message ?? '', /^move to host h3 failed: agent of host h3/);
    assert.deepEqual([((await api('GET', '/v1/sets/web/1')).json() as SetView).host], ['h2']);
  });
});
