/** Who may do what on which repository: one row per case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogVisible, grantedActions, mayWrite, type RegistryPrincipal } from './access.js';
import { parseScope } from './scope.js';

const admin: RegistryPrincipal = { kind: 'admin', subject: 'bootstrap-admin' };
const host: RegistryPrincipal = { kind: 'host', subject: 'bootstrap-agent' };
const anonymous: RegistryPrincipal = { kind: 'anonymous' };
const dev: RegistryPrincipal = { kind: 'user', subject: 'dev', roles: { 'team-a': 'developer', default: 'viewer' } };
const lead: RegistryPrincipal = { kind: 'user', subject: 'lead', roles: { 'team-a': 'tenant-admin' } };

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
    ['a developer pushes and pulls in its tenant', dev, 'repository:team-a/web:pull,push,delete', false, ['pull', 'push']],
    ['a viewer only pulls', dev, 'repository:default/web:pull,push', false, ['pull']],
    ['a tenant admin deletes', lead, 'repository:team-a/web:delete', false, ['delete']],
    ['no role: nothing of another tenant\'s private repository', lead, 'repository:default/web:pull', false, []],
    ['no role: a public repository is pulled', lead, 'repository:default/web:pull,push', true, ['pull']],
    ['users push nothing outside a tenant namespace', lead, 'repository:web:pull,push', false, []],
    ['users do not read the registry catalog', lead, 'registry:catalog:*', false, []],
  ];
  for (const [name, who, scope, isPublic, want] of rows) {
    assert.deepEqual(grantedActions(who, parseScope(scope), { public: isPublic }), want, name);
  }
});

test('the catalog: a tenant\'s repositories for the admin, public ones for everyone; writes as the token service grants', () => {
  const rows: [string, RegistryPrincipal, boolean, boolean][] = [
    ['admin sees private', admin, false, true],
    ['host does not see private', host, false, false],
    ['anonymous does not see private', anonymous, false, false],
    ['anyone sees public', anonymous, true, true],
    ['a member sees its tenant\'s private ones', dev, false, true],
    ['others do not', { kind: 'user', subject: 'other', roles: { default: 'tenant-admin' } }, false, false],
  ];
  for (const [name, who, isPublic, want] of rows) assert.equal(catalogVisible(who, 'team-a/web', { public: isPublic }), want, name);
  assert.equal(mayWrite(admin, 'default/web', 'delete', { public: false }), true);
  assert.equal(mayWrite(admin, 'web', 'push', { public: false }), false);
  assert.equal(mayWrite(host, 'default/web', 'push', { public: true }), false);
  assert.equal(mayWrite(anonymous, 'default/web', 'delete', { public: true }), false);
});
