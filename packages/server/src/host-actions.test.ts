import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, HostRegistration } from '@wharf/types';
import { adminApi, heartbeat, placedOn, startTestServer, type TestServer } from './testing/test-server.js';

const GiB = 1024 ** 3;

describe('host cordon, drain and uncordon', () => {
  let t: TestServer;
  let api: ReturnType<typeof adminApi>;
  const reg: HostRegistration = {
    name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * GiB, disk: 20 * GiB },
    agentUrl: 'http://127.0.0.1:1', agentVersion: 'test', dockerVersion: 'test',
  };
  const action = async (what: string) => {
    const r = await api('POST', `/v1/hosts/h1/${what}`);
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as Host;
  };

  before(async () => {
    t = await startTestServer();
    api = adminApi(t);
    assert.equal((await heartbeat(t, reg)).statusCode, 200);
    for (const id of [1, 2]) {
      const spec = { appkey: 'web', id, resources: { cpu: 0.5, memory: '64Mi' }, containers: [{ index: 0, image: 'busybox', options: { name: 'main' } }] };
      assert.equal((await api('PUT', `/v1/sets/web/${id}`, spec)).statusCode, 201);
      await placedOn(t, `web/${id}`);
    }
  });
  after(() => t.stop());

  it('a drain keeps when it began and how many sets the host held; a second drain keeps them; uncordon ends it', async () => {
    const first = await action('drain');
    assert.equal(first.state, 'draining');
    assert.equal(first.drain?.total, 2);
    assert.equal(first.drain?.remaining, 2, 'no other host: nothing can leave');
    assert.ok(first.drain?.startedAt && Date.parse(first.drain.startedAt) <= Date.now(), String(first.drain?.startedAt));
    const again = await action('drain');
    assert.deepEqual([again.drain?.startedAt, again.drain?.total], [first.drain?.startedAt, 2], 'the drain under way is not restarted');
    const shown = (await api('GET', '/v1/hosts/h1')).json() as Host;
    assert.equal(shown.drain?.total, 2, 'a heartbeat-free read shows it too');
    assert.equal((await heartbeat(t, reg)).statusCode, 200);
    assert.equal(((await api('GET', '/v1/hosts/h1')).json() as Host).drain?.total, 2, 'a heartbeat keeps it');
    const ended = await action('uncordon');
    assert.equal(ended.state, 'ready');
    assert.equal(ended.drain, undefined);
    // A set leaves (being deleted counts as gone): a new drain counts what the host holds now.
    assert.equal((await api('DELETE', '/v1/sets/web/2')).statusCode < 300, true);
    const next = await action('drain');
    assert.equal(next.drain?.total, 1, 'a new drain starts afresh');
    assert.ok(Date.parse(next.drain?.startedAt ?? '') >= Date.parse(first.drain?.startedAt ?? ''));
  });
});
