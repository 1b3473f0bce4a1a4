import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerCache } from './container-cache.js';

function setup() {
  const clock = { now: 0 };
  const cache = new ContainerCache<string, string[]>(1000, () => clock.now);
  let loads = 0;
  const docker = { a: 'a:running' as string | undefined };
  const inspectA = () => cache.inspect('a', async () => {
    loads++;
    return docker.a;
  });
  return { clock, cache, inspectA, docker, loads: () => loads };
}

test('without a live event stream every lookup goes to Docker', async () => {
  const s = setup();
  await s.inspectA();
  await s.inspectA();
  assert.equal(s.loads(), 2);
});

test('live: kept until an event for the container, the agent changing it, or the age limit', async () => {
  const s = setup();
  s.cache.setLive(true);
  assert.equal(await s.inspectA(), 'a:running');
  assert.equal(await s.inspectA(), 'a:running');
  assert.equal(s.loads(), 1);
  s.docker.a = 'a:exited';
  s.cache.invalidate('a');
  assert.equal(await s.inspectA(), 'a:exited');
  assert.equal(s.loads(), 2);
  s.clock.now += 1001;
  await s.inspectA();
  assert.equal(s.loads(), 3, 'older than maxAgeMs');
  s.cache.setLive(false);
  await s.inspectA();
  assert.equal(s.loads(), 4, 'stream gone: forgotten');
});

test('an answer that raced an invalidation is not kept; a vanished container is forgotten', async () => {
  const s = setup();
  s.cache.setLive(true);
  let release!: () => void;
  const slow = s.cache.inspect('a', () => new Promise((resolve) => (release = () => resolve('a:running'))));
  s.cache.invalidate('a'); // the container died while the answer was on its way
  release();
  assert.equal(await slow, 'a:running');
  s.docker.a = 'a:exited';
  assert.equal(await s.inspectA(), 'a:exited', 'the raced answer was not kept');
  s.docker.a = undefined;
  s.cache.invalidate('a');
  assert.equal(await s.inspectA(), undefined);
  assert.equal(s.cache.size, 0);
});

test('the list is kept while nothing changes and dropped by any container change', async () => {
  const s = setup();
  s.cache.setLive(true);
  let lists = 0;
  const list = () => s.cache.list(async () => {
    lists++;
    return ['a', 'b'];
  });
  await list();
  await list();
  assert.equal(lists, 1);
  s.cache.invalidate('c'); // created
  await list();
  assert.equal(lists, 2);
});
