import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '@wharf/store';
import { envelopeEvents, forgetPushes, notificationsUrl, notifierAuthorized, pushRecords, recordEvents, tenantPushRecords } from './notifications.js';

const push = (tag: string, digest: string, timestamp: string, actor = 'bootstrap-admin', repository = 'default/web') =>
  ({ action: 'push', timestamp, target: { repository, tag, digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }, actor: { name: actor } });

test('push events with a tag become records; the same digest keeps its first push; an older event never wins', async () => {
  const store = SqliteStore.open(':memory:');
  try {
    const changed = await recordEvents(store, envelopeEvents({ events: [
      push('1', 'sha256:a', '2026-01-01T10:00:00Z'),
      push('1', 'sha256:a', '2026-01-01T11:00:00Z', 'someone-else'),
      push('2', 'sha256:b', '2026-01-01T12:00:00Z'),
      push('2', 'sha256:old', '2026-01-01T09:00:00Z'),
      { action: 'push', target: { repository: 'default/web', digest: 'sha256:c' } }, // by digest: no tag, no record
      push('1', 'sha256:x', '2026-01-01T10:00:00Z', 'a', 'default/web/api'),
    ] }));
    assert.equal(changed, 3);
    assert.deepEqual((await pushRecords(store, 'default/web')).map((r) => [r.tag, r.digest, r.pushedAt, r.pushedBy]), [
      ['1', 'sha256:a', '2026-01-01T10:00:00Z', 'bootstrap-admin'],
      ['2', 'sha256:b', '2026-01-01T12:00:00Z', 'bootstrap-admin'],
    ]);
    assert.equal((await tenantPushRecords(store, 'default')).length, 3);
    // A delete event forgets the tags of its digest; forgetPushes a tag or all.
    await recordEvents(store, envelopeEvents({ events: [{ action: 'delete', target: { repository: 'default/web', digest: 'sha256:b' } }] }));
    assert.deepEqual((await pushRecords(store, 'default/web')).map((r) => r.tag), ['1']);
    await forgetPushes(store, 'default/web/api');
    assert.deepEqual((await tenantPushRecords(store, 'default')).map((r) => r.repository), ['default/web']);
    assert.throws(() => envelopeEvents({ nope: 1 }), /no "events" list/);
  } finally {
    await store.close();
  }
});

test('the secret and the URL the registry posts to', () => {
  assert.equal(notifierAuthorized('Bearer s3cret', 's3cret'), true);
  assert.equal(notifierAuthorized('Bearer s3cre', 's3cret'), false);
  assert.equal(notifierAuthorized(undefined, 's3cret'), false);
  assert.equal(notificationsUrl('0.0.0.0', 7070), 'http://127.0.0.1:7070/v1/registry/events');
  assert.equal(notificationsUrl('::', 7070), 'http://[::1]:7070/v1/registry/events');
  assert.equal(notificationsUrl('10.0.0.5', 80), 'http://10.0.0.5:80/v1/registry/events');
});
