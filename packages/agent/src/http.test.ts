import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { FakeEngine } from './docker/fake-engine.js';
import { createHttpServer, tokenMatches } from './http.js';

async function serve(engine: FakeEngine) {
  const server = createHttpServer({ engine, token: 'secret', log: pino({ level: 'silent' }) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}
const auth = { authorization: 'Bearer secret' };

async function engineWithContainers() {
  const engine = new FakeEngine(['img']);
  const managed = await engine.create({
    dockerName: 't_app_1_web', image: 'img', env: [], ports: [], privileged: false, ipcMode: '', networkMode: '', binds: [], restartPolicy: 'unless-stopped',
    labels: { 'wharf.managed': 'true', 'wharf.set': 't/app/1', 'wharf.name': 'web' },
  });
  engine.containers.get(managed)!.log = 'one\ntwo\nthree\n';
  const other = await engine.create({
    dockerName: 'someone-elses', image: 'img', env: [], ports: [], privileged: false, ipcMode: '', networkMode: '', binds: [], restartPolicy: 'unless-stopped', labels: {},
  });
  return { engine, managed, other };
}

test('http: health needs no token; everything else does', async () => {
  const { engine } = await engineWithContainers();
  const s = await serve(engine);
  try {
    const health = await fetch(`${s.base}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const noAuth = await fetch(`${s.base}/v1/containers/x/logs`);
    assert.equal(noAuth.status, 401);
    assert.deepEqual(((await noAuth.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const wrong = await fetch(`${s.base}/v1/containers/x/logs`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
  } finally {
    await s.close();
  }
});

test('http: logs of a managed container, with tail', async () => {
  const { engine, managed } = await engineWithContainers();
  const s = await serve(engine);
  try {
    const res = await fetch(`${s.base}/v1/containers/${managed}/logs?follow=false&tail=2`, { headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'two\nthree\n');
  } finally {
    await s.close();
  }
});

test('http: containers Wharf does not manage are refused with CONTAINER_NOT_FOUND', async () => {
  const { engine, other } = await engineWithContainers();
  const s = await serve(engine);
  try {
    for (const id of [other, 'does-not-exist']) {
      const res = await fetch(`${s.base}/v1/containers/${id}/logs`, { headers: auth });
      assert.equal(res.status, 404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'CONTAINER_NOT_FOUND');
      assert.ok(body.error.message.length > 0);
    }
    const bad = await fetch(`${s.base}/v1/containers/x/logs?tail=lots`, { headers: auth });
    assert.equal(bad.status, 400);
    const route = await fetch(`${s.base}/v1/nope`, { headers: auth });
    assert.equal(route.status, 404);
  } finally {
    await s.close();
  }
});

test('http: token comparison', () => {
  assert.equal(tokenMatches('Bearer abc', 'abc'), true);
  assert.equal(tokenMatches('bearer abc', 'abc'), true);
  assert.equal(tokenMatches('Bearer abcd', 'abc'), false);
  assert.equal(tokenMatches(undefined, 'abc'), false);
  assert.equal(tokenMatches('abc', 'abc'), false);
});
