import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WharfClient, apiError } from './index.js';

test('execConnection: ws(s) URL with one cmd per argument, the container and tenant, the token as a header', () => {
  const c = new WharfClient({ server: 'https://wharf.example.test:7443/', token: 't0k', tenant: 'team-a' });
  const conn = c.execConnection('com.example.web', 1, { container: 'side', cmd: ['sh', '-c', 'echo a&b'], tty: true, cols: 80, rows: 24 });
  const url = new URL(conn.url);
  assert.equal(`${url.protocol}//${url.host}${url.pathname}`, 'wss://wharf.example.test:7443/v1/sets/com.example.web/1/exec');
  assert.deepEqual(url.searchParams.getAll('cmd'), ['sh', '-c', 'echo a&b']);
  assert.deepEqual(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'cmd')), { tty: 'true', cols: '80', rows: '24', container: 'side', tenant: 'team-a' });
  assert.deepEqual(conn.headers, { authorization: 'Bearer t0k' });
  const plain = new WharfClient({ server: 'http://127.0.0.1:7070' }).execConnection('web', '2', { cmd: [], tty: false });
  assert.equal(plain.url, 'ws://127.0.0.1:7070/v1/sets/web/2/exec?tty=false');
  assert.deepEqual(plain.headers, {});
});

test('apiError: the API error body, else a code from the status', () => {
  const e = apiError(403, 'Forbidden', '{"error":{"code":"FORBIDDEN","message":"needs developer","details":{"x":1}}}');
  assert.deepEqual([e.code, e.message, e.details], ['FORBIDDEN', 'needs developer', { x: 1 }]);
  const other = apiError(502, 'Bad Gateway', 'upstream down');
  assert.deepEqual([other.code, other.message], ['INTERNAL', '502 Bad Gateway: upstream down']);
});
