import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageRegistry, repositoryTenant } from './registry.js';

test('a repository name splits into its tenant and the name within it', () => {
  const cases: [string, { tenant: string; name: string } | undefined][] = [
    ['default/busybox', { tenant: 'default', name: 'busybox' }],
    ['team-a/web/api', { tenant: 'team-a', name: 'web/api' }],
    ['default/my_app.v2', { tenant: 'default', name: 'my_app.v2' }],
    ['busybox', undefined], // no tenant namespace
    ['Default/busybox', undefined], // upper case is not a repository name
    ['default/', undefined],
    ['default//x', undefined],
    ['a_b/x', undefined], // "a_b" is a repository component but not a tenant name
    [`default/${'x'.repeat(250)}`, undefined], // over 255 characters
  ];
  for (const [repo, want] of cases) assert.deepEqual(repositoryTenant(repo), want, repo);
});

test("an image's registry follows Docker's rule for the first component", () => {
  const cases: [string, string | undefined][] = [
    ['busybox', undefined],
    ['busybox:1', undefined],
    ['team/app:1', undefined],
    ['10.1.2.3:5000/default/app:1', '10.1.2.3:5000'],
    ['registry.example/default/app', 'registry.example'],
    ['localhost/default/app', 'localhost'],
    ['127.0.0.1:5000/default/app@sha256:abc', '127.0.0.1:5000'],
  ];
  for (const [image, want] of cases) assert.equal(imageRegistry(image), want, image);
});
