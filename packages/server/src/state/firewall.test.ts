import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandFirewall, type NetworkPolicy, type SetObject } from '@wharf/types';
import { firewallFor } from './firewall.js';

function set(tenant: string, appkey: string, id: string, ip?: string): SetObject {
  const now = '2026-01-01T00:00:00Z';
  return {
    tenant, appkey, id, generation: 1, desired: 'running', createdAt: now, updatedAt: now,
    spec: { appkey, id, containers: [{ index: 0, image: 'busybox', options: { name: 'main' } }] },
    ...(ip ? { ips: [{ network: 'n', ip }] } : {}),
  };
}

test('a set accepts its own tenant only, until a policy opens it', () => {
  const a1 = set('a', 'web', '1', '10.0.0.1');
  const a2 = set('a', 'db', '1', '10.0.0.2');
  const b1 = set('b', 'api', '1', '10.0.0.3');
  const bare = set('a', 'old', '1');
  const all = [a1, a2, b1, bare];
  assert.deepEqual(firewallFor([a2, bare], all, []), {
    firewall: { 'a/db/1': { allow: [{ group: 'tenant:a' }] } },
    addressGroups: { 'tenant:a': ['10.0.0.1/32', '10.0.0.2/32'] },
  });
  const policy: NetworkPolicy = {
    tenant: 'a', appkey: 'db', name: 'from-b', createdAt: '', updatedAt: '',
    ingress: [{ from: [{ app: 'api', tenant: 'b' }, { cidr: '192.168.0.0/16' }], ports: [{ port: 5432 }] }],
  };
  const opened = firewallFor([a2], all, [policy]);
  assert.deepEqual(opened.firewall['a/db/1']?.allow, [
    { group: 'tenant:a' },
    { group: 'app:b/api', ports: [{ port: 5432, protocol: 'tcp' }] },
    { cidr: '192.168.0.0/16', ports: [{ port: 5432, protocol: 'tcp' }] },
  ]);
  assert.deepEqual(opened.addressGroups, { 'app:b/api': ['10.0.0.3/32'], 'tenant:a': ['10.0.0.1/32', '10.0.0.2/32'] });
  // Expanded, as the agent programs it.
  assert.deepEqual(expandFirewall(opened.firewall['a/db/1'] ?? { allow: [] }, opened.addressGroups).allow, [
    { cidr: '10.0.0.1/32' },
    { cidr: '10.0.0.2/32' },
    { cidr: '10.0.0.3/32', ports: [{ port: 5432, protocol: 'tcp' }] },
    { cidr: '192.168.0.0/16', ports: [{ port: 5432, protocol: 'tcp' }] },
  ]);
  // A policy of another app or tenant changes nothing here.
  assert.deepEqual(firewallFor([a1], all, [policy]).firewall['a/web/1']?.allow, [{ group: 'tenant:a' }]);
});

test('a deleting set is no longer a source; an app without live sets is an empty group', () => {
  const a1 = set('a', 'web', '1', '10.0.0.1');
  const a2 = { ...set('a', 'web', '2', '10.0.0.2'), deleting: true };
  const policy: NetworkPolicy = { tenant: 'a', appkey: 'web', name: 'p', createdAt: '', updatedAt: '', ingress: [{ from: [{ app: 'gone' }] }] };
  assert.deepEqual(firewallFor([a1], [a1, a2], [policy]).addressGroups, { 'app:a/gone': [], 'tenant:a': ['10.0.0.1/32'] });
});

test('the answer grows with the sets, not their square: each address is sent once per group', () => {
  const all = Array.from({ length: 300 }, (_, i) => set('a', 'web', String(i), `10.0.${i >> 8}.${i & 255}`));
  const answer = firewallFor(all, all, []);
  assert.equal(Object.keys(answer.firewall).length, 300);
  assert.equal(answer.addressGroups['tenant:a']?.length, 300);
  assert.ok(JSON.stringify(answer).length < 300 * 120, `${JSON.stringify(answer).length} bytes`);
});

test('expandFirewall: a group the answer lacks, or a rule with neither or both sources, is an error', () => {
  assert.throws(() => expandFirewall({ allow: [{ group: 'tenant:x' }] }, {}), /address group "tenant:x"/);
  assert.throws(() => expandFirewall({ allow: [{}] }, {}), /needs a cidr or a group/);
  assert.throws(() => expandFirewall({ allow: [{ cidr: '10.0.0.0/8', group: 'g' }] }, { g: [] }), /needs a cidr or a group/);
});
