import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SqliteStore } from '@wharf/store';
import { AUDIT_PREFIX, AuditLog, requestSummary } from './log.js';

test('records older than the retention are pruned, newer ones kept', async () => {
  const store = SqliteStore.open(':memory:');
  const day = 24 * 3600_000;
  const log = new AuditLog(store, pino({ level: 'silent' }), 30 * day);
  const now = Date.parse('2026-12-02T12:00:00Z');
  for (const age of [40, 31, 29, 1]) {
    const time = new Date(now - age * day).toISOString();
    await store.put(`${AUDIT_PREFIX}${time}-0000`, { time });
  }
  assert.equal(await log.prune(now), 2);
  assert.deepEqual((await store.list(AUDIT_PREFIX)).items.map((kv) => (kv.value as { time: string }).time), [
    new Date(now - 29 * day).toISOString(), new Date(now - day).toISOString(),
  ]);
  await store.close();
});

test('request summaries mask secrets at any depth and are cut at 1 KiB', () => {
  assert.equal(requestSummary({ user: 'a', password: 'p', nested: { token: 't', current: 'c', keep: 1 } }), '{"user":"a","password":"***","nested":{"token":"***","current":"***","keep":1}}');
  assert.equal(requestSummary(undefined), undefined);
  assert.equal(requestSummary('raw text'), undefined);
  const long = requestSummary({ x: 'y'.repeat(5000) }) as string;
  assert.equal(long.length, 1025);
  assert.ok(long.endsWith('…'));
});
