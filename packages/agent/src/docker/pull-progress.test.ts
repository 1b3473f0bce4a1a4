import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullTracker, type PullMessage } from './pull-progress.js';

/** Recorded from dockerd 20.10 pulling a three-layer image whose base it had already. */
const dl = (id: string, current: number, total: number): PullMessage => ({ status: 'Downloading', progressDetail: { current, total }, id });
const st = (id: string, status: string): PullMessage => ({ status, progressDetail: {}, id });

test('pull progress: layers and bytes summed; the total once every layer told its size', () => {
  const t = new PullTracker();
  const feed = (m: PullMessage) => (t.feed(m), t.progress());
  assert.equal(t.feed({ status: 'Pulling from x/big', id: '1' }), false);
  feed(st('963b5dfecc6d', 'Already exists'));
  for (const id of ['254667e627b3', '35959ba6c296', '51349147c9cd']) feed(st(id, 'Pulling fs layer'));
  feed(dl('254667e627b3', 131072, 12586904));
  assert.deepEqual(feed(dl('35959ba6c296', 131072, 12586908)), { layers: 3, layersDone: 0, downloaded: 262144 });
  assert.deepEqual(feed(dl('51349147c9cd', 130652, 12586903)), { layers: 3, layersDone: 0, downloaded: 392796, total: 37760715 });
  feed(dl('35959ba6c296', 12586908, 12586908));
  feed(st('35959ba6c296', 'Verifying Checksum'));
  assert.deepEqual(feed(st('35959ba6c296', 'Download complete')), { layers: 3, layersDone: 1, downloaded: 131072 + 12586908 + 130652, total: 37760715 });
  // Done without a last "Downloading": it counts whole.
  feed(st('254667e627b3', 'Download complete'));
  feed(st('51349147c9cd', 'Download complete'));
  feed({ status: 'Extracting', progressDetail: { current: 32768, total: 12589056 }, id: '51349147c9cd' });
  feed(st('51349147c9cd', 'Pull complete'));
  assert.equal(t.feed({ status: 'Digest: sha256:5071c282c2b74f2cb9c4b66bbcadb254b13f1a207faedee4eb5bbc87990828ec' }), false);
  assert.deepEqual(t.progress(), { layers: 3, layersDone: 3, downloaded: 37760715, total: 37760715 });
});

test('pull progress: a download resumed after "Retrying" counts on from where it broke off', () => {
  const t = new PullTracker();
  t.feed(st('cc5a27e186b7', 'Pulling fs layer'));
  t.feed(dl('cc5a27e186b7', 12543999, 12586906));
  t.feed(st('cc5a27e186b7', 'Retrying in 5 seconds'));
  t.feed(dl('cc5a27e186b7', 3617, 42906));
  assert.deepEqual(t.progress(), { layers: 1, layersDone: 0, downloaded: 12586906 - 42906 + 3617, total: 12586906 });
  t.feed(st('cc5a27e186b7', 'Download complete'));
  assert.deepEqual(t.progress(), { layers: 1, layersDone: 1, downloaded: 12586906, total: 12586906 });
  // A download started over counts from zero again.
  const again = new PullTracker();
  again.feed(dl('a', 500, 1000));
  again.feed(st('a', 'Retrying in 1 second'));
  again.feed(dl('a', 100, 1000));
  assert.equal(again.progress().downloaded, 100);
});
