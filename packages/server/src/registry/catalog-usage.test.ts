import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SetObject } from '@wharf/types';
import { imageUses, useName, usesOf } from './catalog-usage.js';

const set = (id: string, images: string[], extra: Partial<SetObject> = {}): SetObject => ({
  tenant: 'default', appkey: 'web', id, generation: 1, desired: 'running', createdAt: '', updatedAt: '',
  spec: { id, appkey: 'web', containers: images.map((image, index) => ({ index, image, options: { name: `c${index}` } })) },
  ...extra,
} as SetObject);

test('uses of the platform registry by repository; other registries and sets being deleted do not count', () => {
  const A = '10.0.0.5:5000';
  const uses = imageUses([
    set('1', [`${A}/default/web:1`, 'busybox:latest', `other:5000/default/web:1`]),
    set('2', [`${A}/default/web`, `${A}/default/web@sha256:abc`, `${A}/team/api:2`]),
    set('3', [`${A}/default/web:1`], { deleting: true }),
  ], A);
  assert.deepEqual([...uses.keys()], ['default/web', 'team/api']);
  const web = uses.get('default/web')!;
  assert.deepEqual(web.map((u) => `${useName(u)}:${u.container}`), ['default/web/1:c0', 'default/web/2:c0', 'default/web/2:c1']);
  // A reference without tag or digest is :latest; a digest reference matches the manifest only.
  assert.deepEqual(usesOf(web, '1', 'sha256:zzz').map((u) => u.id), ['1']);
  assert.deepEqual(usesOf(web, 'latest', 'sha256:zzz').map((u) => u.id), ['2']);
  assert.deepEqual(usesOf(web, '9', 'sha256:abc').map((u) => u.container), ['c1']);
});
