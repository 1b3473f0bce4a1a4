import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import type { Socket } from 'node:net';
import { RejectedPointsError } from './reporter.js';
import { RecordingTcpServer, T0 } from './testing.js';
import { createZabbixReporter, decodeFrame, encodeFrame, senderResult, zabbixKey, zabbixValue } from './zabbix.js';

const setTags = { tenant: 'default', appkey: 'com.x', set: '1', host: 'h1', zone: 'z1' };

test('zabbix: item keys carry the series as one parameter; the host is Zabbix\'s own', () => {
  assert.equal(zabbixKey({ name: 'wharf.set.cpu', value: 1, tags: setTags, time: 0 }), 'wharf.set.cpu[default/com.x/1]');
  assert.equal(zabbixKey({ name: 'wharf.container.cpu', value: 1, tags: { ...setTags, container: 'web' }, time: 0 }), 'wharf.container.cpu[default/com.x/1/web]');
  assert.equal(zabbixKey({ name: 'wharf.host.uplink.rx_bytes', value: 1, tags: { host: 'h1', uplink: 'eth0' }, time: 0 }), 'wharf.host.uplink.rx_bytes[eth0]');
  assert.equal(zabbixKey({ name: 'wharf.host.load1', value: 1, tags: { host: 'h1' }, time: 0 }), 'wharf.host.load1');
  assert.equal(zabbixKey({ name: 'wharf.set.cpu', value: 1, tags: { ...setTags, appkey: 'a,"b"]' }, time: 0 }), 'wharf.set.cpu["default/a,\\"b\\"]/1"]');
  assert.deepEqual(zabbixValue({ name: 'wharf.set.cpu', value: 0.42, tags: setTags, time: T0 }, 'web-17'), { host: 'web-17', key: 'wharf.set.cpu[default/com.x/1]', value: '0.42', clock: Math.floor(T0 / 1000), ns: 250_000_000 });
});

test('zabbix: frames are ZBXD, 0x01, the 8-byte little-endian length, the JSON', () => {
  const frame = encodeFrame({ a: 'é' });
  assert.equal(frame.subarray(0, 5).toString('latin1'), 'ZBXD\x01');
  assert.equal(frame.readBigUInt64LE(5), BigInt(Buffer.byteLength('{"a":"é"}')));
  assert.deepEqual(decodeFrame(frame), { a: 'é' });
  assert.equal(decodeFrame(frame.subarray(0, frame.length - 1)), undefined);
  assert.throws(() => decodeFrame(Buffer.from('HTTP/1.1 400')), /not a Zabbix answer/);
  // Compressed answers (flag 0x02): the length is the compressed one.
  const packed = deflateSync(Buffer.from('{"response":"success"}'));
  const header = Buffer.alloc(13);
  header.write('ZBXD', 'latin1');
  header[4] = 0x03;
  header.writeUInt32LE(packed.length, 5);
  assert.deepEqual(decodeFrame(Buffer.concat([header, packed])), { response: 'success' });
});

test('zabbix: the answer tells how many values failed; a failed request is refused for good', () => {
  assert.deepEqual(senderResult({ response: 'success', info: 'processed: 3; failed: 1; total: 4; seconds spent: 0.000190' }), { refused: 1, detail: 'processed: 3; failed: 1; total: 4; seconds spent: 0.000190' });
  assert.throws(() => senderResult({ response: 'failed', info: 'cannot parse' }), RejectedPointsError);
});

/** A trapper that answers every complete request, counting values whose host is "web-17" as processed. */
function trapper(requests: unknown[]) {
  return (sofar: Buffer, socket: Socket) => {
    const request = decodeFrame(sofar) as { data: Array<{ host: string }> } | undefined;
    if (!request) return;
    requests.push(request);
    const processed = request.data.filter((d) => d.host === 'web-17').length;
    socket.end(encodeFrame({ response: 'success', info: `processed: ${processed}; failed: ${request.data.length - processed}; total: ${request.data.length}; seconds spent: 0.000100` }));
  };
}

test('zabbix: sends over a fresh connection each time, in one request per send, and survives the server going away', async () => {
  const requests: unknown[] = [];
  const server = await RecordingTcpServer.start(trapper(requests));
  const r = createZabbixReporter({ host: '127.0.0.1', port: server.port, zabbixHost: 'web-17' });
  try {
    const result = await r.send([{ name: 'wharf.set.cpu', value: 0.42, tags: setTags, time: T0 }, { name: 'wharf.host.load1', value: 0.5, tags: { host: 'h1' }, time: T0 }]);
    assert.deepEqual(result, { refused: 0, detail: 'processed: 2; failed: 0; total: 2; seconds spent: 0.000100' });
    assert.deepEqual(requests[0], {
      request: 'sender data',
      data: [
        { host: 'web-17', key: 'wharf.set.cpu[default/com.x/1]', value: '0.42', clock: Math.floor(T0 / 1000), ns: 250_000_000 },
        { host: 'web-17', key: 'wharf.host.load1', value: '0.5', clock: Math.floor(T0 / 1000), ns: 250_000_000 },
      ],
    });

    await server.stop();
    await assert.rejects(r.send([{ name: 'wharf.host.load1', value: 1, tags: {}, time: T0 }]), /ECONNREFUSED/);
    await server.listen();
    await r.send([{ name: 'wharf.host.load1', value: 2, tags: {}, time: T0 }]);
    assert.equal(requests.length, 2);
    assert.equal(server.connections, 2);
  } finally {
    await r.close();
    await server.stop();
  }
});

test('zabbix: values for another host count as refused', async () => {
  const requests: unknown[] = [];
  const server = await RecordingTcpServer.start(trapper(requests));
  const r = createZabbixReporter({ host: '127.0.0.1', port: server.port, zabbixHost: 'unknown' });
  try {
    const result = await r.send([{ name: 'wharf.host.load1', value: 1, tags: {}, time: T0 }]);
    assert.equal(result?.refused, 1);
  } finally {
    await r.close();
    await server.stop();
  }
});

test('zabbix: a server that never answers times out', async () => {
  const server = await RecordingTcpServer.start();
  const r = createZabbixReporter({ host: '127.0.0.1', port: server.port, zabbixHost: 'h', timeoutMs: 100 });
  try {
    await assert.rejects(r.send([{ name: 'wharf.host.load1', value: 1, tags: {}, time: T0 }]), /no answer .* within 100 ms/);
  } finally {
    await r.close();
    await server.stop();
  }
});
