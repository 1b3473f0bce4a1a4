import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostRegistration, SetEvent, VolumeUsage } from '@wharf/types';
import { volumeFill } from './state/volume-fill.js';
import { adminApi, heartbeat, placedOn, startTestServer, type TestServer } from './testing/test-server.js';

const MiB = 1024 ** 2;

function usage(id: string, usedMiB: number, quotaMiB = 100): VolumeUsage {
  return { tenant: 'default', appkey: 'web', id, driver: 'btrfs', used: usedMiB * MiB, quota: quotaMiB * MiB, path: `/pool/${id}` };
}

describe('volume fill events', () => {
  it('a crossing of 95% up makes VolumeFull, of 90% down VolumeSpaceFreed; staying put makes none', () => {
    // Heartbeats one after another, each starting from what the previous one left.
    let full: string[] | undefined;
    const beat = (...volumes: VolumeUsage[]) => {
      const r = volumeFill('h1', full, volumes);
      full = r.full;
      return r.events.map((x) => `${x.ref.id}:${x.event.type}:${x.event.reason}`);
    };
    assert.deepEqual(beat(usage('1', 94)), []);
    assert.deepEqual(beat(usage('1', 95)), ['1:Warning:VolumeFull']);
    assert.deepEqual(beat(usage('1', 99)), [], 'still full');
    assert.deepEqual(beat(usage('1', 92)), [], 'between the marks: still full, no flapping');
    assert.deepEqual(beat(usage('1', 96)), [], 'back up: the full event is not repeated');
    assert.deepEqual(beat(usage('1', 89)), ['1:Normal:VolumeSpaceFreed']);
    assert.deepEqual(beat(usage('1', 92)), [], 'up to between from below: not full');
    assert.deepEqual(beat(usage('1', 96)), ['1:Warning:VolumeFull'], 'full again');
    assert.deepEqual(beat(usage('2', 50)), [], 'volume 1 gone: it leaves the list without an event');
    assert.deepEqual(full, []);
    assert.deepEqual(beat(usage('2', 98), usage('3', 60)), ['2:Warning:VolumeFull'], 'only the volume that crossed');
    assert.deepEqual(volumeFill('h1', undefined, [usage('1', 100)]).events.map((x) => x.event.reason), ['VolumeFull'], 'full at the first report');
    assert.deepEqual(volumeFill('h1', undefined, [usage('1', 5, 0)]).full, [], 'no quota: never full');
  });

  it('the message says how full and what to do', () => {
    const [x] = volumeFill('h1', [], [usage('3', 99)]).events;
    assert.equal(x?.event.host, 'h1');
    assert.equal(x?.event.message, 'volume is full: 99Mi of 100Mi used (99%); writes past the quota fail with "Disk quota exceeded" (make room, or grow it: wharf volume resize)');
  });
});

describe('volume fill events through heartbeats', () => {
  let t: TestServer;
  const reg = (volumes: VolumeUsage[]): HostRegistration => ({
    name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 4, memory: 4096 * MiB, disk: 4096 * MiB },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test', volumes,
  });
  const reasons = async (id: string) => ((await adminApi(t)('GET', `/v1/sets/web/${id}/events`)).json() as SetEvent[]).map((e) => e.reason).filter((r) => r.startsWith('Volume'));

  before(async () => {
    t = await startTestServer();
    assert.equal((await heartbeat(t, reg([]))).statusCode, 200);
    const spec = { appkey: 'web', id: 1, resources: { disk: '100Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'main', volumes: [{ path: '/data' }] } }] };
    assert.equal((await adminApi(t)('PUT', '/v1/sets/web/1', spec)).statusCode, 201);
    await placedOn(t, 'web/1');
  });
  after(() => t.stop());

  it('the set gets one VolumeFull however many heartbeats repeat it, then VolumeSpaceFreed; a volume with no set gets nothing', async () => {
    for (const used of [50, 97, 99, 99, 40]) assert.equal((await heartbeat(t, reg([usage('1', used), usage('2', used)]))).statusCode, 200);
    assert.deepEqual(await reasons('1'), ['VolumeFull', 'VolumeSpaceFreed']);
    const gone = await adminApi(t)('GET', '/v1/sets/web/2/events');
    assert.equal(gone.statusCode, 404, 'no events were kept for a set that does not exist');
  });
});
