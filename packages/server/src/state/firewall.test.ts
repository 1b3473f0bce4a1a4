import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkPolicy, SetObject } from '@wharf/types';
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
    'a/db/1': { allow: [{ cidr: '10.0.0.1/32' }, { cidr: '10.0.0.2/32' }] },
  });
  const policy: NetworkPolicy = {
    tenant: 'a', appkey: 'db', name: 'from-b', createdAt: '', updatedAt: '',
    ingress: [{ from: [{ app: 'api', tenant: 'b' }, { cidr: '192.168.0.0/16' }], ports: [{ port: 5432 }] }],
  };
  assert.deepEqual(firewallFor([a2], all, [policy])['a/db/1']?.allow, [
    { cidr: '10.0.0.1/32' },
    { cidr: '10.0.0.2/32' },
    { cidr: '10.0.0.3/32', ports: [{ port: 5432, protocol: 'tcp' }] },
    { cidr: '192.168.0.0/16', ports: [{ port: 5432, protocol: 'tcp' }] },
  ]);
  // A policy of another app or tenant changes nothing here.
  assert.deepEqual(firewallFor([a1], all, [policy])['a/web/1']?.allow, [{ cidr: '10.0.0.1/32' }, { cidr: '10.0.0.2/32' }]);
});

test('a deleting set is no longer a source', () => {
  const a1 = set('a', 'web', '1', '10.0.0.1');
  const a2 = { ...set('a', 'web', '2', '10.0.0.2'), deleting: true };
  assert.deepEqual(firewallFor([a1], [a1, a2], [])['a/web/1']?.allow, [{ cidr: '10.0.0.1/32' }]);
});
