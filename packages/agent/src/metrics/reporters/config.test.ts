import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReporter, parseReporterSpec, parseReporterSpecs, ReporterSpecError } from './config.js';

test('reporter specs: the three kinds with their defaults and options', () => {
  const influx = parseReporterSpec('influx=http://127.0.0.1:8086/write?db=wharf');
  assert.equal(influx.kind, 'influx');
  assert.equal(influx.kind === 'influx' && influx.url.href, 'http://127.0.0.1:8086/write?db=wharf');
  const bare = parseReporterSpec('influx=http://db.local:8086?db=wharf&rp=week&precision=s');
  assert.equal(bare.kind === 'influx' && bare.url.pathname, '/write');

  assert.deepEqual(parseReporterSpec('graphite=tcp://127.0.0.1:2003'), { kind: 'graphite', spec: 'graphite=tcp://127.0.0.1:2003', host: '127.0.0.1', port: 2003 });
  assert.deepEqual(parseReporterSpec('graphite=tcp://carbon?prefix=dc1.wharf'), { kind: 'graphite', spec: 'graphite=tcp://carbon?prefix=dc1.wharf', host: 'carbon', port: 2003, prefix: 'dc1.wharf' });
  assert.deepEqual(parseReporterSpec('zabbix=tcp://[::1]'), { kind: 'zabbix', spec: 'zabbix=tcp://[::1]', host: '::1', port: 10051 });
  assert.deepEqual(parseReporterSpec('zabbix=tcp://127.0.0.1:10051?host=web-17'), { kind: 'zabbix', spec: 'zabbix=tcp://127.0.0.1:10051?host=web-17', host: '127.0.0.1', port: 10051, zabbixHost: 'web-17' });
});

test('reporter specs: a bad one names the spec and what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['http://127.0.0.1:8086', /expected KIND=URL/],
    ['prometheus=http://x', /unknown kind "prometheus"; one of influx, graphite, zabbix/],
    ['influx=127.0.0.1:8086', /is not a URL|wants an http/],
    ['influx=http://127.0.0.1:8086/write', /needs the database: \?db=NAME/],
    ['influx=http://127.0.0.1:8086/write?db=w&precision=h', /precision "h" is not one of ns, u, ms, s/],
    ['influx=tcp://127.0.0.1:8086?db=w', /http:\/\/ or https:\/\//],
    ['graphite=udp://127.0.0.1:2003', /expected tcp:\/\/HOST\[:PORT\], not udp:/],
    ['graphite=tcp://127.0.0.1:2003?prefix=a..b', /prefix "a..b"/],
    ['graphite=tcp://127.0.0.1:2003?prefx=a', /unknown option "prefx"; known: prefix/],
    ['graphite=tcp://127.0.0.1:2003/metrics', /no path expected/],
    ['zabbix=tcp://127.0.0.1:10051?host=a%2Fb', /host "a\/b" is not a Zabbix host name/],
    ['zabbix=tcp://127.0.0.1:0', /port 0 is out of range/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseReporterSpec(spec), (err: unknown) => {
      assert.ok(err instanceof ReporterSpecError, spec);
      assert.ok(err.message.startsWith(`reporter "${spec}": `), err.message);
      assert.match(err.message, message);
      return true;
    });
  }
  assert.throws(() => parseReporterSpecs(['graphite=tcp://a', 'graphite=tcp://a']), /given twice/);
});

test('reporter specs: names for logs and drop counters carry no password', async () => {
  const influx = createReporter(parseReporterSpec('influx=http://me:secret@127.0.0.1:8086/write?db=w&u=me&p=secret'), {});
  assert.equal(influx.name, 'influx http://127.0.0.1:8086/write?db=w');
  const zabbix = createReporter(parseReporterSpec('zabbix=tcp://127.0.0.1'), { host: 'h1' });
  assert.equal(zabbix.name, 'zabbix tcp://127.0.0.1:10051');
  await Promise.all([influx.close(), zabbix.close()]);
});
