import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInfluxReporter, influxLine } from './influx.js';
import { RejectedPointsError } from './reporter.js';
import { RecordingHttpServer, T0 } from './testing.js';

const point = { name: 'wharf.set.cpu', value: 0.42, tags: { tenant: 'default', appkey: 'com.x', set: '1', host: 'h1' }, time: T0 };

test('influx: line protocol with sorted tags and the timestamp in the precision asked', () => {
  assert.equal(influxLine(point), `wharf.set.cpu,appkey=com.x,host=h1,set=1,tenant=default value=0.42 ${T0}`);
  assert.equal(influxLine(point, 's'), `wharf.set.cpu,appkey=com.x,host=h1,set=1,tenant=default value=0.42 ${Math.floor(T0 / 1000)}`);
  assert.equal(influxLine(point, 'ns'), `wharf.set.cpu,appkey=com.x,host=h1,set=1,tenant=default value=0.42 ${T0}000000`);
  assert.equal(influxLine({ ...point, value: 1e21, tags: {} }), `wharf.set.cpu value=1e+21 ${T0}`);
  assert.equal(influxLine({ ...point, value: NaN }), '');
});

test('influx: commas, spaces and equal signs are escaped; empty tags and line breaks cannot pass', () => {
  const line = influxLine({ name: 'my metric,x', value: 1, tags: { 'a key': 'v=1,2 3', empty: '', zone: 'line\nbreak' }, time: 5 });
  assert.equal(line, 'my\\ metric\\,x,a\\ key=v\\=1\\,2\\ 3,zone=line\\ break value=1 5');
});

test('influx: POSTs lines to /write with db, precision and Basic auth', async () => {
  const server = await RecordingHttpServer.start();
  const r = createInfluxReporter({ url: new URL(`http://wharf:p%40ss@127.0.0.1:${server.port}/write?db=wharf`) });
  try {
    await r.send([point, { ...point, name: 'wharf.set.memory', value: 5e6 }]);
    const req = server.requests[0];
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/write?db=wharf&precision=ms');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('wharf:p@ss').toString('base64')}`);
    assert.deepEqual(req.body.split('\n'), [
      `wharf.set.cpu,appkey=com.x,host=h1,set=1,tenant=default value=0.42 ${T0}`,
      `wharf.set.memory,appkey=com.x,host=h1,set=1,tenant=default value=5000000 ${T0}`,
    ]);
  } finally {
    await r.close();
    await server.stop();
  }
});

test('influx: 400 refuses the points for good; 404, 500 and a refused connection are worth a retry', async () => {
  let status = 400;
  const server = await RecordingHttpServer.start(() => status);
  const r = createInfluxReporter({ url: new URL(`http://127.0.0.1:${server.port}/write?db=wharf`) });
  try {
    await assert.rejects(r.send([point]), (err: unknown) => err instanceof RejectedPointsError && /400/.test(err.message));
    for (status of [404, 500]) {
      await assert.rejects(r.send([point]), (err: unknown) => err instanceof Error && !(err instanceof RejectedPointsError) && err.message.includes(String(status)));
    }
    await server.stop();
    await assert.rejects(r.send([point]), (err: unknown) => err instanceof Error && !(err instanceof RejectedPointsError));
  } finally {
    await r.close();
    await server.stop();
  }
});

test('influx: close ends a request the server does not answer', async () => {
  const { createServer } = await import('node:http');
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const addr = silent.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const r = createInfluxReporter({ url: new URL(`http://127.0.0.1:${port}/write?db=wharf`) });
  const sending = r.send([point]);
  await new Promise((res) => setTimeout(res, 50));
  await r.close();
  await assert.rejects(sending);
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
});
