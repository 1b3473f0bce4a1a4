import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageLocality } from './image-locality.js';
import { host, request, scores } from '../testing.js';

test('ImageLocality', () => {
  const hosts = [
    host({ name: 'both', images: ['web:1', 'sidecar'] }),
    host({ name: 'web', images: ['web:1', 'web:2'] }),
    host({ name: 'none' }),
  ];
  const cases = [
    { name: 'no images: does not apply', images: [], want: [undefined, undefined, undefined] },
    { name: 'one image', images: ['web:1'], want: [100, 100, 0] },
    { name: 'share held', images: ['web:1', 'sidecar:latest'], want: [100, 50, 0] },
    { name: 'untagged means :latest', images: ['sidecar'], want: [100, 0, 0] },
    { name: 'duplicates count once', images: ['web:2', 'web:2'], want: [0, 100, 0] },
  ];
  for (const c of cases) assert.deepEqual(scores(imageLocality, hosts, request(1, 1, 1, { images: c.images })), c.want, c.name);
});
