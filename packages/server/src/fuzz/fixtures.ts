/**
 * Objects the fuzzed requests can name, so that some of them get past "not found"
 * into the routes' own checks: a host with a (fake) agent, a placed set with a
 * volume, an app, a network, a policy, a tenant and a user. `restoreStore` and
 * `resetAgent` put them back as they were after seeding when a fuzzed request
 * deleted or changed them.
 */
import assert from 'node:assert/strict';
import type { Op } from '@wharf/store';
import type { HostRegistration } from '@wharf/types';
import { AUDIT_PREFIX } from '../audit/log.js';
import { adminApi, heartbeat, placedOn, type TestServer } from '../testing/test-server.js';
import { waitFor } from '../testing/wait.js';

const GiB = 1024 ** 3;

/** Path parameter values naming the fixtures, by parameter name. */
export const KNOWN_PARAMS: Record<string, string[]> = {
  appkey: ['web', 'shop'],
  id: ['1'],
  name: ['h1', 'n1', 'allow', 'alice', 'snap1', 'img'],
  tenant: ['default', 'team-a'],
  user: ['alice'],
  host: ['h1'],
  trashId: ['t1'],
  number: ['1'],
  tag: ['latest'],
  key: ['laptop'],
};

export async function seedFixtures(t: TestServer): Promise<void> {
  const api = adminApi(t);
  const agent = t.agents[0]!;
  const ok = async (what: string, r: Promise<{ statusCode: number; body: string }>) => {
    const res = await r;
    assert.ok(res.statusCode < 300, `fixture ${what}: ${res.statusCode} ${res.body}`);
  };
  const reg: HostRegistration = {
    name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 64, memory: 256 * GiB, disk: 2000 * GiB },
    agentUrl: agent.url, agentVersion: 'test', dockerVersion: 'test',
  };
  await ok('host', heartbeat(t, reg));
  await ok('uncordon', api('POST', '/v1/hosts/h1/uncordon'));
  await ok('set', api('PUT', '/v1/sets/web/1', {
    appkey: 'web', id: 1, resources: { cpu: 1, memory: '1Gi', disk: '1Gi' },
    containers: [{ index: 0, image: 'busybox', options: { name: 'main', volumes: [{ path: '/data' }] } }],
  }));
  await placedOn(t, 'web/1');
  await ok('app', api('PUT', '/v1/apps/shop', { appkey: 'shop', replicas: 0, template: { containers: [{ index: 0, image: 'busybox', options: { name: 'main' } }] } }));
  await ok('network', api('PUT', '/v1/networks/n1', { name: 'n1', subnet: '10.99.0.0/24', gateway: '10.99.0.1' }));
  await ok('policy', api('PUT', '/v1/policies/web/allow', { name: 'allow', appkey: 'web', ingress: [{ from: [{ app: 'shop' }] }] }));
  await ok('tenant', api('PUT', '/v1/tenants/team-a', { description: 'fuzz' }));
  await ok('user', api('PUT', '/v1/users/alice', { password: 'correct horse', roles: { 'team-a': 'developer' } }));
}

/** The store's content (all but the audit log) as it is now. */
export async function baseline(t: TestServer): Promise<Map<string, unknown>> {
  const { items } = await t.store.list('');
  return new Map(items.filter((kv) => !isAudit(kv.key)).map((kv) => [kv.key, kv.value]));
}

/** Puts the store back to `base`, in one transaction; the audit log goes too, so that listing the store stays quick. */
export async function restoreStore(t: TestServer, base: Map<string, unknown>): Promise<void> {
  const { items } = await t.store.list('');
  const now = new Map(items.map((kv) => [kv.key, kv.value]));
  const ops: Op[] = [];
  for (const key of now.keys()) if (!base.has(key)) ops.push({ type: 'delete', key });
  for (const [key, value] of base) if (JSON.stringify(now.get(key)) !== JSON.stringify(value)) ops.push({ type: 'put', key, value });
  if (ops.length) await t.store.txn([], ops);
}

/** The fake agent's volume (with a snapshot) and recycle bin as the fixtures have them. */
export function resetAgent(t: TestServer): void {
  const agent = t.agents[0]!;
  agent.volumes.clear();
  agent.volumes.set('default/web/1', { quota: GiB, content: Buffer.from('data'), snapshots: [{ name: 'snap1', createdAt: '2026-01-01T00:00:00Z', used: 4, content: Buffer.from('data') }] });
  agent.trash.splice(0, agent.trash.length, {
    trashId: 't1', host: 'h1', tenant: 'default', appkey: 'old', id: '9', driver: 'btrfs', used: 4, quota: GiB,
    deletedAt: '2026-01-01T00:00:00Z', purgeAt: '2026-01-08T00:00:00Z', content: Buffer.from('gone'),
  });
  agent.requests.length = 0;
}

/** Failures are audited by design (after the answer): the audit log is not a write of the request. */
const isAudit = (key: string) => key.startsWith(AUDIT_PREFIX);

/**
 * The keys written, by revision, as a watch on the whole store sees them: what a
 * request changed is what was written between the revisions before and after it.
 * (Listing the store twice a request would grow slow with the audit log.)
 */
export class StoreChanges {
  private readonly written: { key: string; revision: number }[] = [];
  private seen = 0;

  private constructor(private readonly t: TestServer) {}

  static async start(t: TestServer): Promise<StoreChanges> {
    const changes = new StoreChanges(t);
    changes.seen = await t.store.revision();
    const watcher = await t.store.watch('', (ev) => {
      changes.seen = Math.max(changes.seen, ev.revision);
      if (!isAudit(ev.kv.key)) changes.written.push({ key: ev.kv.key, revision: ev.revision });
    }, { fromRevision: changes.seen + 1 });
    changes.stop = () => watcher.cancel();
    return changes;
  }

  stop: () => void = () => undefined;

  /** The store's revision now, for `since`. */
  revision(): Promise<number> {
    return this.t.store.revision();
  }

  /** The keys other than the audit log's written after `revision`, once the watch has seen up to now. */
  async since(revision: number): Promise<string[]> {
    const now = await this.t.store.revision();
    await waitFor(`the store's watch to reach revision ${now}`, () => this.seen >= now);
    return [...new Set(this.written.filter((w) => w.revision > revision).map((w) => w.key))].sort();
  }

  /** Forgets what was written up to `revision`. */
  forget(revision: number): void {
    const keep = this.written.filter((w) => w.revision > revision);
    this.written.splice(0, this.written.length, ...keep);
  }
}
