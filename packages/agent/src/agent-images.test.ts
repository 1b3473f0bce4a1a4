/**
 * The agent's images against the in-memory engine and a fake server: sets placed here
 * get their images pre-pulled (beside the reconcile, each told the progress), images on
 * a mirrored registry come through the mirror under their own names, and the image GC
 * removes what no set uses any more — and the heartbeat says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SetObject, SetSpec, StatusReport } from '@wharf/types';
import { startAgent } from './agent.js';
import { FakeEngine } from './docker/fake-engine.js';
import { FakeServer } from './testing/fake-server.js';
import { setObject } from './testing/fixtures.js';
import { DirDriver } from './testing/dir-volumes.js';
import { waitUntil } from './metrics/reporters/testing.js';

const INFRA = 'wharf/busybox:latest';
const REG = '10.0.0.5:5000';
const MIRROR = '10.0.0.5:5001';
const UPSTREAM = 'up.internal:5000';

const spec = (id: number, images: string[]): SetSpec => ({ version: '1', id, appkey: 'app', containers: images.map((image, index) => ({ index, image, options: { name: `c${index}` } })) });
const set = (id: number, images: string[], over: Partial<SetObject> = {}): SetObject => setObject(spec(id, images), over);
const eventsOf = (reports: StatusReport[], id: string): string[] => reports.flatMap((r) => r.sets.filter((s) => s.id === id).flatMap((s) => s.events ?? []).map((e) => `${e.reason}: ${e.message}`));

async function withAgent(engine: FakeEngine, server: FakeServer, run: () => Promise<void>, extra: { imageGcAfterSeconds?: number; imageGcIntervalSeconds?: number } = {}): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wharf-agent-images-'));
  const agent = await startAgent({
    server: server.url, joinToken: 'jt', name: 'h1', dataDir, dockerCertsDir: join(dataDir, 'certs.d'), listen: '127.0.0.1:0', engine, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    heartbeatIntervalSeconds: 0.1, volumes: new DirDriver(dataDir), ...extra,
  });
  try {
    await run();
  } finally {
    await agent.stop();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('agent: the images of a placed set are pre-pulled, beside its reconcile; a stopped set gets them too', async () => {
  const server = await new FakeServer().start();
  const engine = new FakeEngine([INFRA]);
  engine.registry.add(`${REG}/t/late:1`);
  engine.registry.add(`${REG}/t/later:1`);
  // c0's image does not exist: the reconcile stops there and never asks for c1's image itself.
  server.sets = [set(1, [`${REG}/t/gone:1`, `${REG}/t/late:1`]), set(2, [`${REG}/t/later:1`], { desired: 'stopped' })];
  await withAgent(engine, server, async () => {
    const failed = await server.waitForReport((r) => r.sets.some((s) => s.id === '1' && s.status?.phase === 'failed'));
    assert.match(failed.sets.find((s) => s.id === '1')?.status?.message ?? '', /^cannot pull image 10\.0\.0\.5:5000\/t\/gone:1: pull access denied/);
    await waitUntil('both images pulled', () => engine.images.has(`${REG}/t/late:1`) && engine.images.has(`${REG}/t/later:1`));
    await waitUntil('Pulled events of both sets', () => eventsOf(server.reports, '1').some((e) => e.startsWith(`Pulled: Pulled image ${REG}/t/late:1 in `))
      && eventsOf(server.reports, '2').some((e) => e.startsWith(`Pulled: Pulled image ${REG}/t/later:1 in `)));
    assert.equal(engine.calls.filter((c) => c === `pull ${REG}/t/late:1`).length, 1);
    // The missing image was tried once: the reconcile's failure is the pre-pull's, from the back-off.
    assert.equal(engine.calls.filter((c) => c === `pull ${REG}/t/gone:1`).length, 1);
    assert.ok(eventsOf(server.reports, '1').some((e) => e.startsWith(`ImagePullFailed: cannot pull image ${REG}/t/gone:1`)));
    const stopped = await server.waitForReport((r) => r.sets.some((s) => s.id === '2' && s.status?.phase === 'stopped'));
    assert.ok(stopped);
    // The heartbeat offers the scheduler what the host has.
    await waitUntil('the heartbeat with the image', () => (server.registrations.at(-1)?.images ?? []).includes(`${REG}/t/later:1`));
  });
});

test('agent: an image of a mirrored upstream comes through the mirror and keeps its own name', async () => {
  const server = await new FakeServer().start();
  server.registry = { enabled: true, address: REG, mirrors: [{ upstream: UPSTREAM, address: MIRROR, running: true }] };
  const engine = new FakeEngine([INFRA]);
  engine.registry.add(`${MIRROR}/team/app:1`);
  server.sets = [set(1, [`${UPSTREAM}/team/app:1`])];
  await withAgent(engine, server, async () => {
    await server.waitForReport((r) => r.sets.some((s) => s.id === '1' && s.status?.phase === 'running'));
    assert.ok(engine.calls.includes(`pull ${MIRROR}/team/app:1`), engine.calls.join('\n'));
    assert.ok(!engine.calls.includes(`pull ${UPSTREAM}/team/app:1`));
    assert.ok(eventsOf(server.reports, '1').includes(`Pulling: Pulling image ${UPSTREAM}/team/app:1 from the mirror ${MIRROR}`), eventsOf(server.reports, '1').join('\n'));
    await waitUntil('the heartbeat with the upstream name only', () => {
      const images = server.registrations.at(-1)?.images ?? [];
      return images.includes(`${UPSTREAM}/team/app:1`) && !images.includes(`${MIRROR}/team/app:1`);
    });
  });
});

test('agent: the image GC removes what no set here uses any more, and the next heartbeat no longer offers it', async () => {
  const server = await new FakeServer().start();
  server.registry = { enabled: true, address: REG };
  const engine = new FakeEngine([INFRA, `${REG}/t/a:1`, `${REG}/t/b:1`, 'local/tool:1']);
  server.sets = [set(1, [`${REG}/t/a:1`]), set(2, [`${REG}/t/b:1`])];
  await withAgent(engine, server, async () => {
    await server.waitForReport((r) => r.sets.some((s) => s.id === '2' && s.status?.phase === 'running'));
    server.setDesired([set(1, [`${REG}/t/a:1`]), set(2, [`${REG}/t/b:1`], { deleting: true, generation: 2 })]);
    await server.waitForReport((r) => r.sets.some((s) => s.id === '2' && s.deleted === true));
    server.setDesired([set(1, [`${REG}/t/a:1`])]);
    await waitUntil('b:1 removed', () => !engine.images.has(`${REG}/t/b:1`), 10_000);
    const since = server.registrations.length;
    await waitUntil('a heartbeat without b:1', () => server.registrations.slice(since).some((r) => !(r.images ?? []).includes(`${REG}/t/b:1`)));
    assert.deepEqual([...engine.images].sort(), [`${REG}/t/a:1`, 'local/tool:1', INFRA].sort());
  }, { imageGcAfterSeconds: 0.3, imageGcIntervalSeconds: 0.1 });
});
