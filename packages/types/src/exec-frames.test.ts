import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecChannel, decodeExecControl, decodeExecData, decodeExecFrame, encodeExecControl, encodeExecData, execQuery, type ExecControl } from './exec-frames.js';

test('exec data frames: one channel byte, then the bytes as they are', () => {
  const bytes = new Uint8Array([0, 1, 2, 255, 10]);
  for (const channel of [ExecChannel.stdin, ExecChannel.stdout, ExecChannel.stderr]) {
    const frame = encodeExecData(channel, bytes);
    assert.equal(frame.length, bytes.length + 1);
    assert.equal(frame[0], channel);
    const back = decodeExecData(frame);
    assert.equal(back?.channel, channel);
    assert.deepEqual([...(back?.data ?? [])], [...bytes]);
  }
  // An empty payload is a valid frame (nothing to write); a node Buffer decodes the same.
  assert.deepEqual(decodeExecData(Buffer.from([2])), { type: 'data', channel: 2, data: Buffer.from([]) });
  assert.deepEqual(decodeExecData(Buffer.from([1, 104, 105]))?.data, Buffer.from('hi'));
});

test('exec data frames: an empty frame or an unknown channel is refused', () => {
  assert.equal(decodeExecData(new Uint8Array([])), undefined);
  assert.equal(decodeExecData(new Uint8Array([3, 65])), undefined);
  assert.equal(decodeExecData(new Uint8Array([255])), undefined);
});

test('decodeExecFrame: a message as WebSocket libraries hand it over', () => {
  const frame = encodeExecData(ExecChannel.stdin, new TextEncoder().encode('ls\n'));
  const expected = { type: 'data', channel: 0, data: new TextEncoder().encode('ls\n') };
  const asData = (f: ReturnType<typeof decodeExecFrame>) => (f?.type === 'data' ? { ...f, data: new Uint8Array(f.data) } : f);
  assert.deepEqual(asData(decodeExecFrame(frame, true)), expected);
  assert.deepEqual(asData(decodeExecFrame(frame.buffer as ArrayBuffer, true)), expected);
  assert.deepEqual(asData(decodeExecFrame([frame.subarray(0, 2), frame.subarray(2)], true)), expected);
  assert.deepEqual(decodeExecFrame(Buffer.from('{"type":"eof"}'), false), { type: 'eof' });
  // A control message sent as binary is not one (its first byte is no channel).
  assert.equal(decodeExecFrame(Buffer.from('{"type":"eof"}'), true), undefined);
});

test('exec control frames round-trip', () => {
  const all: ExecControl[] = [
    { type: 'resize', cols: 120, rows: 40 },
    { type: 'eof' },
    { type: 'exit', code: 0 },
    { type: 'exit', code: 137 },
    { type: 'error', code: 'HOST_UNREACHABLE', message: 'agent of host h1 went away' },
  ];
  for (const m of all) assert.deepEqual(decodeExecControl(encodeExecControl(m)), m);
});

test('exec control frames: malformed ones are refused, not guessed', () => {
  const bad = [
    'not json',
    'null',
    '42',
    '{}',
    '{"type":"kill"}',
    '{"type":"resize","cols":0,"rows":10}',
    '{"type":"resize","cols":80}',
    '{"type":"resize","cols":80.5,"rows":24}',
    '{"type":"resize","cols":80,"rows":100000}',
    '{"type":"exit"}',
    '{"type":"exit","code":"3"}',
    '{"type":"error","code":"NO_SUCH_CODE","message":"x"}',
    '{"type":"error","code":"INTERNAL"}',
  ];
  for (const text of bad) assert.equal(decodeExecControl(text), undefined, text);
});

test('execQuery: one cmd parameter per argument, spaces and all', () => {
  const q = execQuery({ cmd: ['sh', '-c', 'echo a && echo b'], tty: false });
  assert.deepEqual(q.getAll('cmd'), ['sh', '-c', 'echo a && echo b']);
  assert.equal(q.get('tty'), 'false');
  assert.equal(q.has('cols'), false);
  const t = execQuery({ cmd: [], tty: true, cols: 100, rows: 30 });
  assert.equal(t.toString(), 'tty=true&cols=100&rows=30');
});
