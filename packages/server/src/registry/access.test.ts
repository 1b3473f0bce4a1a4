/** Who may do what on which repository: one row per case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantedActions, type RegistryPrincipal } from './access.js';
import { parseScope } from './scope.js';

const admin: RegistryPrincipal = { kind: 'admin', subject: 'bootstrap-admin' };
const host: RegistryPrincipal = { kind: 'host', subject: 'bootstrap-agent' };
const anonymous: RegistryPrincipal = { kind: 'anonymous' };

test('granted actions: the asked ones the caller may do, never more', () => {
  const rows: [string, RegistryPrincipal, string, boolean, string[]][] = [
    // who, scope, public?, granted
    ['admin pushes and pulls in a tenant', admin, 'repository:default/app:pull,push', false, ['pull', 'push']],
    ['admin deletes', admin, 'repository:team-a/web/api:delete', false, ['delete']],
    ['admin reads the catalog', admin, 'registry:catalog:*', false, ['*']],
    ['admin: no push outside a tenant namespace', admin, 'repository:app:pull,push', false, ['pull']],
    ['hosts pull', host, 'repository:default/app:pull', false, ['pull']],
    ['hosts never push', host, 'repository:default/app:pull,push', false, ['pull']],
    ['hosts pull outside tenants too', host, 'repository:app:pull', false, ['pull']],
    ['hosts do not read the catalog', host, 'registry:catalog:*', false, []],
    ['anonymous: nothing of a private repository', anonymous, 'repository:default/app:pull', false, []],
    ['anonymous pulls a public one', anonymous, 'repository:default/app:pull,push', true, ['pull']],
    ['anonymous: no catalog', anonymous, 'registry:catalog:*', true, []],
    ['unknown resource types get nothing', admin, 'plugin:default/app:pull', false, []],
    ['a resource class gets nothing', admin, 'repository(plugin):default/app:pull', false, []],
    ['unknown actions are dropped', admin, 'repository:default/app:pull,frobnicate', false, ['pull']],
  ];
  for (const [name, who, scope, isPublic, want] of rows) {
    assert.deepEqual(grantedActions(who, parseScope(scope), { public: isPublic }), want, name);
  }
});
