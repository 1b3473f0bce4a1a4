import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { formatRef, parseSetRef } from './ref.js';

test('APPKEY/ID splits on the last slash', () => {
  assert.deepEqual(parseSetRef('com.example.web/1'), { appkey: 'com.example.web', id: '1' });
  assert.deepEqual(parseSetRef('team/app/7'), { appkey: 'team/app', id: '7' });
  assert.equal(formatRef({ appkey: 'com.x', id: 3 }), 'com.x/3');
});

test('malformed references are usage errors with an example', () => {
  for (const [text, why] of [
    ['com.example.web', /not a set reference; expected APPKEY\/ID, e\.g\. com\.example\.web\/1/],
    ['com.x/', /ID after "\/" is empty/],
    ['/1', /APPKEY before "\/" is empty/],
    ['', /not a set reference/],
    ['com x/1', /no spaces/],
  ] as const) {
    assert.throws(() => parseSetRef(text), (e: unknown) => e instanceof InvalidArgumentError && why.test(e.message), text);
  }
});
