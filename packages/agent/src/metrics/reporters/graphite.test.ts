import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGraphiteReporter, graphiteLine } from './graphite.js';
import { RecordingTcpServer, T0, waitUntil } from './testing.js';

const setTags = { tenant: 'default', appkey: 'com.x', set: '1', host: 'h1', zone: 'z1' };
const seconds = Math.floor(T0 / 1000);

test('graphite: paths from the name and the series parts, made safe', () => {
  assert.equal(graphiteLine({ name: 'wharf.set.cpu', value: 0.42, tags: setTags, time: T0 }), `wharf.set.cpu.default.com_x.1 0.42 ${seconds}\n`);
  assert.equal(graphiteLine({ name: 'wharf.container.memory', value: 4e6, tags: { ...setTags, container: 'web' }, time: T0 }, 'dc1'), `dc1.wharf.container.memory.default.com_x.1.web 4000000 ${seconds}\n`);
  assert.equal(graphiteLine({ name: 'wharf.host.load1', value: 0.5, tags: { host: 'h1.example.com', zone: 'z1' }, time: T0 }), `wharf.host.load1.h1_example_com 0.5 ${seconds}\n`);
  assert.equal(graphiteLine({ name: 'wharf.host.uplink.rx_bytes', value: 100, tags: { host: 'h1', uplink: 'eth0' }, time: T0 }), `wharf.host.uplink.rx_bytes.h1.eth0 100 ${seconds}\n`);
  assert.equal(graphiteLine({ name: 'wharf.set.cpu', value: 1, tags: { ...setTags, appkey: 'a b/c;d=e', set: '' }, time: T0 }), `wharf.set.cpu.default.a_b_c_d_e._ 1 ${seconds}\n`);
  assert.equal(graphiteLine({ name: 'wharf.set.cpu', value: Infinity, tags: setTags, time: T0 }), '');
});

test('graphite: one kept connection, connected again after the server went away and came back', async () => {
  const server = await RecordingTcpServer.start();
  const r = createGraphiteReporter({ host: '127.0.0.1', port: server.port });
  const point = (value: number) => ({ name: 'wharf.set.cpu', value, tags: setTags, time: T0 });
  try {
    await r.send([point(1), point(2)]);
    await r.send([point(3)]);
    await waitUntil('three lines', () => server.text.split('\n').length === 4);
    assert.equal(server.connections, 1);
    assert.equal(server.text, [1, 2, 3].map((v) => `wharf.set.cpu.default.com_x.1 ${v} ${seconds}\n`).join(''));

    await server.stop();
    await waitUntil('the reporter noticing', () => server.sockets.size === 0);
    await new Promise((res) => setTimeout(res, 20));
    await assert.rejects(r.send([point(4)]), /ECONNREFUSED/);

    await server.listen();
    await r.send([point(5)]);
    await waitUntil('the line after reconnecting', () => server.text.includes(' 5 '));
    assert.equal(server.connections, 2);
  } finally {
    await r.close();
    await server.stop();
  }
});
