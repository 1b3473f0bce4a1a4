import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import { EtcdStore, StoreUnavailableError } from '@wharf/store';
import { etcdSkipReason, startEtcd } from '@wharf/store/testing';
import { buildApp } from './app.js';
import { bootstrapTokens } from './auth/tokens.js';
import { installErrorHandling } from './errors.js';
import { HostChanges } from './state/host-changes.js';
import { ensureDefaultTenant } from './state/identity.js';
import { bearer, startTestServer } from './testing/test-server.js';

describe('error handling', () => {
  it('a store that cannot be reached answers 503 STORE_UNAVAILABLE naming it, with Retry-After; anything unknown 500 without internals', async () => {
    const app = Fastify();
    installErrorHandling(app);
    app.get('/store', async () => {
      throw new StoreUnavailableError('etcd at 127.0.0.1:1: 14 UNAVAILABLE: No connection established');
    });
    app.get('/bug', async () => {
      throw new TypeError('secret detail');
    });
    try {
      const down = await app.inject({ url: '/store' });
      assert.equal(down.statusCode, 503);
      assert.equal(down.headers['retry-after'], '1');
      const { error } = down.json() as { error: { code: string; message: string } };
      assert.equal(error.code, 'STORE_UNAVAILABLE');
      assert.match(error.message, /the store cannot be reached now; try again shortly \(etcd at 127\.0\.0\.1:1: 14 UNAVAILABLE/);

      const bug = await app.inject({ url: '/bug' });
      assert.equal(bug.statusCode, 500);
      assert.equal((bug.json() as { error: { code: string } }).error.code, 'INTERNAL');
      assert.doesNotMatch(bug.body, /secret/);
    } finally {
      await app.close();
    }
  });
});

describe('non-finite numbers', () => {
  it('a string the schema coerces to Infinity, in the query or the body, is 400 VALIDATION_FAILED naming the field', async () => {
    const t = await startTestServer();
    try {
      const query = await t.app.inject({ url: '/v1/events?limit=1e999', headers: bearer(t.admin) });
      const yaml = await t.app.inject({ method: 'POST', url: '/v1/apps/shop/scale', headers: { ...bearer(t.admin), 'content-type': 'application/yaml' }, payload: 'replicas: "-1e999"\n' });
      for (const [res, path, value] of [[query, 'querystring.limit', 'Infinity'], [yaml, 'body.replicas', '-Infinity']] as const) {
        assert.equal(res.statusCode, 400, res.body);
        const { error } = res.json() as { error: { code: string; details: { errors: { path: string; message: string }[] } } };
        assert.equal(error.code, 'VALIDATION_FAILED');
        assert.deepEqual(error.details.errors, [{ path, message: `${value} is not a finite number` }]);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('a server whose etcd goes away', { skip: etcdSkipReason() }, () => {
  it('answers a set create 503 STORE_UNAVAILABLE naming the endpoint, not 500', async () => {
    const etcd = await startEtcd();
    const dir = mkdtempSync(join(tmpdir(), 'wharf-server-test-'));
    const store = await EtcdStore.open({ hosts: etcd.endpoints, requestTimeoutMs: 1_000, log: () => {} });
    const log = pino({ level: 'silent' });
    const app = await buildApp({ store, hostChanges: new HostChanges(store), joinToken: 'unused' }, log);
    try {
      const { admin } = await bootstrapTokens(store, dir);
      await ensureDefaultTenant(store);
      await app.ready();
      await etcd.members[0]!.kill();
      const spec = { appkey: 'web', id: '1', containers: [{ index: 0, image: 'busybox', options: { name: 'app' } }] };
      const r = await app.inject({ method: 'PUT', url: '/v1/sets/web/1', headers: bearer(admin), payload: spec });
      assert.equal(r.statusCode, 503, r.body);
      const { error } = r.json() as { error: { code: string; message: string } };
      assert.equal(error.code, 'STORE_UNAVAILABLE');
      assert.ok(error.message.includes(`etcd at ${etcd.endpoints[0]}: `), error.message);
    } finally {
      await app.close();
      await store.close();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
