import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { imageRegistry } from '@wharf/types';
import { FakeEngine } from '../docker/fake-engine.js';
import { ImageGc } from './gc.js';
import { UsageRecord } from './usage-record.js';

const REG = '10.0.0.5:5000';
const HOUR = 3_600_000;
const INFRA = `${REG}/infra/busybox:1`;

async function setup() {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-image-gc-'));
  const engine = new FakeEngine([INFRA, `${REG}/t/old:1`, `${REG}/t/web:1`, `${REG}/t/db:1`, `${REG}/t/next:1`, 'local/tool:1', '10.9.9.9:5000/t/other:1']);
  let now = Date.parse('2026-01-01T00:00:00Z');
  const wanted = new Set([`${REG}/t/next:1`]);
  const gc = (): ImageGc => new ImageGc({
    engine, log: pino({ level: 'silent' }), record: UsageRecord.in(dataDir), unusedForMs: 24 * HOUR,
    removable: (name) => imageRegistry(name) === REG, wanted: () => wanted, keep: [INFRA], now: () => now,
  });
  return { dataDir, engine, gc, wanted, advance: (ms: number) => (now += ms), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

/** A container of a set using `image`, in `state`. */
async function containerOf(engine: FakeEngine, image: string, name: string, state: 'running' | 'exited'): Promise<void> {
  const id = await engine.create({
    dockerName: `t_app_1_${name}`, image, env: [], ports: [], privileged: false, ipcMode: 'shareable', networkMode: 'default', binds: [], restartPolicy: 'no',
    labels: { 'wharf.managed': 'true', 'wharf.set': 't/app/1', 'wharf.tenant': 't', 'wharf.app': 'app', 'wharf.set-id': '1', 'wharf.name': name, 'wharf.role': 'business', 'wharf.index': '0' },
  });
  if (state === 'running') await engine.start(id);
}

test('image GC: removes platform images unused past the limit; keeps those in use, wanted, the infra image and images from elsewhere', async () => {
  const s = await setup();
  try {
    await containerOf(s.engine, `${REG}/t/web:1`, 'web', 'running');
    await containerOf(s.engine, `${REG}/t/db:1`, 'db', 'exited');
    // Docker does not say when an image was last used: the first pass counts from now.
    assert.deepEqual(await s.gc().pass(), []);
    s.advance(23 * HOUR);
    assert.deepEqual(await s.gc().pass(), [], 'not unused long enough');
    s.advance(HOUR);
    const removed = await s.gc().pass();
    assert.deepEqual(removed.map((r) => r.tags), [[`${REG}/t/old:1`]]);
    assert.equal(removed[0]?.size, 1000);
    assert.deepEqual([...s.engine.images].sort(), [INFRA, `${REG}/t/db:1`, `${REG}/t/next:1`, `${REG}/t/web:1`, '10.9.9.9:5000/t/other:1', 'local/tool:1']);
    assert.deepEqual(await s.engine.imageTags(), [...s.engine.images].sort(), 'what the heartbeat reports is what is left');

    // The set goes: its images are unused from then on, and go a day later.
    s.engine.containers.clear();
    s.wanted.clear();
    s.advance(HOUR);
    assert.deepEqual(await s.gc().pass(), []);
    s.advance(24 * HOUR);
    assert.deepEqual((await s.gc().pass()).map((r) => r.tags[0]).sort(), [`${REG}/t/db:1`, `${REG}/t/next:1`, `${REG}/t/web:1`]);
    assert.deepEqual([...s.engine.images].sort(), [INFRA, '10.9.9.9:5000/t/other:1', 'local/tool:1']);
    const record = JSON.parse(await readFile(join(s.dataDir, 'images.json'), 'utf8')) as { images: Record<string, { lastUsed: string; tags: string[] }> };
    assert.deepEqual(Object.values(record.images).map((u) => u.tags[0]).sort(), [INFRA, '10.9.9.9:5000/t/other:1', 'local/tool:1']);
  } finally {
    await s.cleanup();
  }
});

test('image GC: last use survives an agent restart; an image Docker refuses to remove counts as used', async () => {
  const s = await setup();
  try {
    await s.gc().pass();
    s.advance(25 * HOUR);
    // A fresh ImageGc (a restarted agent) reads the record: old:1 is due, but Docker says no.
    const gc = s.gc();
    const id = await s.engine.create({
      dockerName: 'by-hand', image: `${REG}/t/old:1`, env: [], ports: [], privileged: false, ipcMode: '', networkMode: 'default', binds: [], restartPolicy: 'no',
      labels: { 'wharf.managed': 'true', 'wharf.set': 'x/y/1', 'wharf.tenant': 'x', 'wharf.app': 'y', 'wharf.set-id': '1' },
    });
    // Made after the listing: the GC sees it only through Docker's refusal.
    const list = s.engine.containerImageIds.bind(s.engine);
    s.engine.containerImageIds = async () => (await list()).filter((i) => i !== s.engine.imageId(`${REG}/t/old:1`));
    assert.deepEqual((await gc.pass()).map((r) => r.tags[0]).sort(), [`${REG}/t/db:1`, `${REG}/t/web:1`]);
    assert.ok(s.engine.images.has(`${REG}/t/old:1`));
    s.engine.containers.delete(id);
    s.advance(HOUR);
    assert.deepEqual(await gc.pass(), [], 'refused means used: a day from the refusal');
  } finally {
    await s.cleanup();
  }
});

test('image GC: an image that lost its name to a newer pull is still known as a platform image and goes', async () => {
  const s = await setup();
  try {
    s.wanted.clear();
    const oldId = s.engine.imageId(`${REG}/t/web:1`);
    await s.gc().pass();
    // web:1 is pulled again with new content: the old image keeps no name.
    s.engine.imageIds.set(`${REG}/t/web:1`, 'sha256:new');
    s.engine.dangling.add(oldId);
    s.advance(25 * HOUR);
    const removed = await s.gc().pass();
    assert.ok(removed.some((r) => r.id === oldId && r.tags.length === 0), JSON.stringify(removed));
    assert.ok(!s.engine.dangling.has(oldId));
    assert.ok(s.engine.calls.includes(`rmi ${oldId}`));
  } finally {
    await s.cleanup();
  }
});
