/** The agent API's volume routes, over the plain-directory test driver; export/import between two agents. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { TrashEntry, VolumeChecksum, VolumeSnapshot, VolumeUsage } from '@wharf/types';
import { FakeEngine } from '../docker/fake-engine.js';
import { createHttpServer } from '../http.js';
import { testVolumes } from '../testing/dir-volumes.js';

const TOKEN = 'secret';

async function agent(name: string) {
  const dataDir = await mkdtemp(join(tmpdir(), `wharf-volapi-${name}-`));
  const engine = new FakeEngine(['img']);
  const running = new Set<string>();
  const { volumes, driver } = await testVolumes(dataDir, { host: name, token: TOKEN, inUse: async (s) => running.has(`${s.tenant}/${s.appkey}/${s.id}`) });
  const server = createHttpServer({ engine, token: TOKEN, log: pino({ level: 'silent' }), volumes });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const write = async (rel: string, content: string) => {
    const path = join(dataDir, 'volumes', rel);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
  };
  return {
    base, volumes, driver, running, call, write, dataDir,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

type Err = { error: { code: string; message: string } };

test('volume API: usage, resize rules, snapshots, the recycle bin; errors in the platform shape', async () => {
  const a = await agent('h1');
  try {
    assert.equal((await fetch(`${a.base}/v1/volumes`)).status, 401);
    await a.volumes.ensure({ tenant: 'default', appkey: 'web', id: '1' }, 1024 ** 2);
    await a.write('default/web/1/data', 'x'.repeat(2048));

    const list = await a.call<VolumeUsage[]>('GET', '/v1/volumes');
    assert.deepEqual(list.body.map((v) => [v.appkey, v.used, v.quota]), [['web', 2048, 1024 ** 2]]);
    assert.equal((await a.call<VolumeUsage>('GET', '/v1/volumes/default/web/1')).body.path, join(a.dataDir, 'volumes/default/web/1'));
    const missing = await a.call<Err>('GET', '/v1/volumes/default/web/9');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'VOLUME_NOT_FOUND');
    assert.equal((await a.call<Err>('GET', '/v1/volumes/default/..%2F..%2Fetc/1')).status, 400);

    const small = await a.call<Err>('POST', '/v1/volumes/default/web/1/resize', { bytes: 1024 });
    assert.equal(small.status, 409);
    assert.deepEqual([small.body.error.code, small.body.error.message], ['VOLUME_TOO_SMALL', 'the volume of default/web/1 holds 2Ki; the new size 1Ki is smaller']);
    assert.equal((await a.call<VolumeUsage>('POST', '/v1/volumes/default/web/1/resize', { bytes: '2Mi' })).body.quota, 2 * 1024 ** 2);
    assert.equal((await a.call<Err>('POST', '/v1/volumes/default/web/1/resize', { bytes: 'lots' })).body.error.code, 'BAD_REQUEST');
    assert.equal((await a.call<Err>('POST', '/v1/volumes/default/web/1/resize', [1])).body.error.code, 'BAD_REQUEST');

    const snap = await a.call<VolumeSnapshot>('POST', '/v1/volumes/default/web/1/snapshots', { name: 's1' });
    assert.equal(snap.status, 201);
    assert.equal(snap.body.name, 's1');
    assert.deepEqual((await a.call<VolumeSnapshot[]>('GET', '/v1/volumes/default/web/1/snapshots')).body.map((s) => s.name), ['s1']);
    a.running.add('default/web/1');
    assert.equal((await a.call<Err>('POST', '/v1/volumes/default/web/1/snapshots/s1/restore')).body.error.code, 'VOLUME_IN_USE');
    a.running.clear();
    assert.equal((await a.call<VolumeUsage>('POST', '/v1/volumes/default/web/1/snapshots/s1/restore')).status, 200);
    assert.equal((await a.call('DELETE', '/v1/volumes/default/web/1/snapshots/s1')).status, 204);
    assert.equal((await a.call<Err>('DELETE', '/v1/volumes/default/web/1/snapshots/s1')).body.error.code, 'SNAPSHOT_NOT_FOUND');

    // The snapshot restore put the replaced volume in the bin; delete the set's volume too.
    await a.volumes.recycle({ tenant: 'default', appkey: 'web', id: '1' });
    const bin = await a.call<TrashEntry[]>('GET', '/v1/trash');
    assert.equal(bin.body.length, 2);
    assert.ok(bin.body.every((e) => e.host === 'h1' && e.appkey === 'web'));
    const last = bin.body[1] as TrashEntry;
    const restored = await a.call<VolumeUsage>('POST', `/v1/trash/${last.trashId}/restore`, { tenant: 'default', appkey: 'web', id: '2' });
    assert.equal(restored.status, 200);
    assert.equal(restored.body.id, '2');
    assert.equal(restored.body.used, 2048);
    assert.equal((await a.call<Err>('POST', `/v1/trash/${last.trashId}/restore`, { tenant: 'default', appkey: 'web', id: '2' })).body.error.code, 'TRASH_NOT_FOUND');
    assert.equal((await a.call<Err>('POST', `/v1/trash/${last.trashId}/restore`, { tenant: 'default' })).body.error.code, 'BAD_REQUEST');
    assert.equal((await a.call('DELETE', `/v1/trash/${(bin.body[0] as TrashEntry).trashId}`)).status, 204);
    assert.equal((await a.call<Err>('DELETE', '/v1/trash/nope')).status, 404);
    await a.volumes.recycle({ tenant: 'default', appkey: 'web', id: '2' });
    assert.deepEqual((await a.call<{ purged: number; bytes: number }>('DELETE', '/v1/trash')).body, { purged: 1, bytes: 2048 });
    assert.equal((await a.call<Err>('PUT', '/v1/trash')).body.error.code, 'NOT_FOUND');
  } finally {
    await a.close();
  }
});

test('volume API: an agent imports a volume from another agent (its export), checksums equal', async () => {
  const src = await agent('h1');
  const dst = await agent('h2');
  try {
    const set = { tenant: 'default', appkey: 'db', id: '3' };
    await src.volumes.ensure(set, 10 * 1024 ** 2);
    await src.write('default/db/3/a/b/file', 'payload');
    await src.write('default/db/3/top', 'x'.repeat(5000));

    const exp = await fetch(`${src.base}/v1/volumes/default/db/3/export?formats=tar`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(exp.status, 200);
    assert.equal(exp.headers.get('content-type'), 'application/octet-stream');
    assert.equal(exp.headers.get('x-wharf-volume-format'), 'tar');
    assert.ok((await exp.arrayBuffer()).byteLength > 5000);
    assert.equal((await src.call<Err>('GET', '/v1/volumes/default/db/3/export?formats=zip')).body.error.code, 'BAD_REQUEST');
    assert.equal((await src.call<Err>('GET', '/v1/volumes/default/db/3/export?formats=btrfs')).body.error.code, 'VOLUME_OP_UNSUPPORTED');

    // Too small for what it holds: refused before anything is copied.
    const small = await dst.call<Err>('POST', '/v1/volumes/default/db/3/import', { from: src.base, quota: 1000 });
    assert.equal(small.body.error.code, 'VOLUME_TOO_SMALL');
    const none = await dst.call<Err>('POST', '/v1/volumes/default/db/9/import', { from: src.base, quota: 1024 ** 2 });
    assert.deepEqual([none.status, none.body.error.code], [404, 'VOLUME_NOT_FOUND']);
    assert.match(none.body.error.message, /^source agent http:\/\/127\.0\.0\.1:\d+: no volume of set default\/db\/9 on host h1$/);
    const down = await dst.call<Err>('POST', '/v1/volumes/default/db/3/import', { from: 'http://127.0.0.1:1', quota: 1024 ** 2 });
    assert.deepEqual([down.status, down.body.error.code], [502, 'HOST_UNREACHABLE']);

    // The target already had an (empty) volume for it: it goes to the bin.
    await dst.volumes.ensure(set, 1024 ** 2);
    const imported = await dst.call<VolumeUsage>('POST', '/v1/volumes/default/db/3/import', { from: src.base, quota: '20Mi' });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual([imported.body.quota, imported.body.used], [20 * 1024 ** 2, 5007]);
    assert.equal((await dst.call<TrashEntry[]>('GET', '/v1/trash')).body.length, 1);

    const [a, b] = await Promise.all([src.call<VolumeChecksum>('GET', '/v1/volumes/default/db/3/checksum'), dst.call<VolumeChecksum>('GET', '/v1/volumes/default/db/3/checksum')]);
    assert.deepEqual(a.body, b.body);
    assert.deepEqual([a.body.files, a.body.bytes], [2, 5007]);

    dst.running.add('default/db/3');
    assert.equal((await dst.call<Err>('POST', '/v1/volumes/default/db/3/import', { from: src.base, quota: '20Mi' })).body.error.code, 'VOLUME_IN_USE');
  } finally {
    await src.close();
    await dst.close();
  }
});
