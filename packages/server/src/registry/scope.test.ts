import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WharfError } from '@wharf/types';
import { parseScope, parseScopes } from './scope.js';

test('scopes parse by the registry grammar', () => {
  assert.deepEqual(parseScope('repository:default/app:pull,push'), { type: 'repository', name: 'default/app', actions: ['pull', 'push'] });
  assert.deepEqual(parseScope('repository(plugin):default/app:pull'), { type: 'repository', class: 'plugin', name: 'default/app', actions: ['pull'] });
  assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  // A name holding a registry host with a port: the type ends at the first ':', the actions start after the last.
  assert.deepEqual(parseScope('repository:reg.local:5000/default/app:pull'), { type: 'repository', name: 'reg.local:5000/default/app', actions: ['pull'] });
  assert.deepEqual(parseScope('repository:default/app:pull,pull').actions, ['pull']);
});

test('several scopes: repeated parameters and spaces', () => {
  assert.deepEqual(parseScopes(undefined), []);
  assert.deepEqual(parseScopes(['repository:a/b:pull', 'repository:a/c:pull repository:a/d:push']).map((s) => s.name), ['a/b', 'a/c', 'a/d']);
});

test('malformed scopes are a 400 naming the scope', () => {
  for (const bad of ['repository', 'repository:default/app', ':default/app:pull', 'repository::pull', 'Repository:a/b:pull', 'repository:a/b:pull,', 'repository:a/b:PULL', 'repo sitory:a/b:pull']) {
    assert.throws(() => parseScopes(bad), (e: unknown) => e instanceof WharfError && e.code === 'BAD_REQUEST' && e.message.includes('scope "'), bad);
  }
});
