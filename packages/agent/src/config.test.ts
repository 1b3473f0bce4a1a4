import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULTS, parseCli, parseListen, resolveConfig } from './config.js';

test('config: defaults', () => {
  const r = parseCli([], {});
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  const c = resolveConfig(r.config);
  assert.equal(c.server, DEFAULTS.server);
  assert.equal(c.name, hostname());
  assert.equal(c.zone, 'default');
  assert.equal(c.rack, 'default');
  assert.equal(c.dockerSocket, '/var/run/docker.sock');
  assert.equal(c.dataDir, '/var/lib/wharf/agent');
  assert.equal(c.listen, '127.0.0.1:7071');
  assert.equal(c.heartbeatIntervalSeconds, 5);
  assert.equal(c.infraImage, 'wharf/busybox:latest');
  assert.equal(c.joinToken, undefined);
  assert.equal(r.logLevel, 'info');
});

test('config: env, and flags over env', () => {
  const env = { WHARF_SERVER: 'http://env:1', WHARF_JOIN_TOKEN: 'envtok', WHARF_HOST_NAME: 'envhost', DOCKER_HOST: 'unix:///run/d.sock', WHARF_AGENT_LISTEN: '0.0.0.0:0', WHARF_AGENT_DATA_DIR: '/d' };
  const r = parseCli(['--server', 'http://flag:2', '--label', 'ssd=true', '--label', 'gpu=no', '--heartbeat-interval', '2'], env);
  assert.ok(r.kind === 'run');
  assert.equal(r.config.server, 'http://flag:2');
  assert.equal(r.config.joinToken, 'envtok');
  assert.equal(r.config.name, 'envhost');
  assert.equal(r.config.dockerSocket, '/run/d.sock');
  assert.equal(r.config.listen, '0.0.0.0:0');
  assert.equal(r.config.dataDir, '/d');
  assert.equal(r.config.heartbeatIntervalSeconds, 2);
  assert.deepEqual(r.config.labels, { ssd: 'true', gpu: 'no' });
});

test('config: join token file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
  try {
    await writeFile(join(dir, 'token'), 'filetok\n');
    const r = parseCli(['--join-token-file', join(dir, 'token')], { WHARF_JOIN_TOKEN: 'envtok' });
    assert.ok(r.kind === 'run');
    assert.equal(r.config.joinToken, 'filetok');
    assert.throws(() => parseCli(['--join-token-file', join(dir, 'missing')], {}), ConfigError);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('config: help, version and errors people can act on', () => {
  assert.deepEqual(parseCli(['--help'], {}), { kind: 'help' });
  assert.deepEqual(parseCli(['-v'], {}), { kind: 'version' });
  assert.throws(() => parseCli(['--bogus'], {}), /Unknown option '--bogus'/);
  assert.throws(() => parseCli(['--label', 'novalue'], {}), /--label must be KEY=VALUE/);
  assert.throws(() => parseCli(['--heartbeat-interval', 'soon'], {}), /positive number of seconds/);
  assert.throws(() => parseCli([], { DOCKER_HOST: 'tcp://1.2.3.4:2375' }), /not supported/);
  assert.throws(() => parseCli(['--listen', 'nope'], {}), /HOST:PORT/);
  assert.throws(() => parseCli(['--name', 'bad name'], {}), /host name/);
});

test('config: listen addresses', () => {
  assert.deepEqual(parseListen('127.0.0.1:7071'), { host: '127.0.0.1', port: 7071 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen(':80'), { host: '0.0.0.0', port: 80 });
});

test('config: platform networks, the Docker host namespace and the uplink bandwidth', () => {
  const r = parseCli(['--network', 'lan=eth0', '--network', 'dmz=eth1.20', '--netns', '/proc/self/ns/net', '--bandwidth', '2500'], { WHARF_NETWORKS: 'x=eth9' });
  assert.ok(r.kind === 'run');
  assert.deepEqual(r.config.networks, [{ name: 'lan', uplink: 'eth0' }, { name: 'dmz', uplink: 'eth1.20' }]);
  assert.equal(r.config.netns, '/proc/self/ns/net');
  assert.equal(r.config.bandwidth, 2500);
  const e = parseCli([], { WHARF_NETWORKS: 'a=eth0, b=eth1', WHARF_NETNS: '/proc/self/ns/net', WHARF_BANDWIDTH: '100' });
  assert.ok(e.kind === 'run');
  assert.deepEqual(e.config.networks, [{ name: 'a', uplink: 'eth0' }, { name: 'b', uplink: 'eth1' }]);
  assert.equal(e.config.bandwidth, 100);
  const none = parseCli([], {});
  assert.ok(none.kind === 'run');
  assert.deepEqual(resolveConfig(none.config).networks, []);
  assert.equal(resolveConfig(none.config).bandwidth, undefined, 'detected at start');
});

test('config: bad networks, namespaces and bandwidths are refused with a clear message', () => {
  const cases: [string[], RegExp][] = [
    [['--network', 'lan'], /--network must be NAME=IFACE \(e\.g\. lan=eth0\), not "lan"/],
    [['--network', 'lan='], /--network must be NAME=IFACE/],
    [['--network', 'Lan=eth0'], /--network: "Lan" is not a network name/],
    [['--network', 'lan=eth0/1'], /--network lan: "eth0\/1" is not an interface name/],
    [['--network', 'lan=averyveryverylongname'], /is not an interface name/],
    [['--network', 'lan=eth0', '--network', 'lan=eth1'], /network lan is given twice/],
    [['--netns', 'wharf-h1'], /--netns wharf-h1 is not a network namespace file/],
    [['--netns', '/run/netns/no-such-namespace-here'], /is not a network namespace file/],
    [['--bandwidth', '0'], /--bandwidth must be a positive number of Mbit\/s, not "0"/],
    [['--bandwidth', 'fast'], /--bandwidth must be a positive number/],
  ];
  for (const [argv, msg] of cases) assert.throws(() => parseCli(argv, {}), (e: unknown) => e instanceof ConfigError && msg.test(e.message), argv.join(' '));
  assert.throws(() => parseCli([], { WHARF_NETWORKS: 'lan:eth0' }), /WHARF_NETWORKS must be NAME=IFACE/);
});

test('config: volume driver, pool size and device, recycle-bin retention', () => {
  const d = parseCli([], {});
  assert.ok(d.kind === 'run');
  const c = resolveConfig(d.config);
  assert.equal(c.volumeDriver, 'btrfs');
  assert.equal(c.poolSize, 20 * 1024 ** 3);
  assert.equal(c.poolDevice, undefined);
  assert.equal(c.trashRetentionSeconds, 7 * 86400);

  const r = parseCli(['--pool-size', '4Gi', '--trash-retention', '12h', '--pool-device', '/dev/vdb'], { WHARF_POOL_SIZE: '1Ti', WHARF_VOLUME_DRIVER: 'btrfs', WHARF_TRASH_RETENTION: '1d' });
  assert.ok(r.kind === 'run');
  assert.equal(r.config.poolSize, 4 * 1024 ** 3);
  assert.equal(r.config.trashRetentionSeconds, 12 * 3600);
  assert.equal(r.config.poolDevice, '/dev/vdb');
  const e = parseCli([], { WHARF_POOL_SIZE: '1Ti', WHARF_VOLUME_DRIVER: 'xfs', WHARF_TRASH_RETENTION: '90' });
  assert.ok(e.kind === 'run');
  assert.deepEqual([e.config.poolSize, e.config.volumeDriver, e.config.trashRetentionSeconds], [1024 ** 4, 'xfs', 90]);
  assert.equal(e.config.certRenewBeforeSeconds, undefined);
  const renew = parseCli(['--cert-renew-before', '30d'], { WHARF_CERT_RENEW_BEFORE: '1d' });
  assert.ok(renew.kind === 'run');
  assert.equal(renew.config.certRenewBeforeSeconds, 30 * 86400);

  const cases: [string[], RegExp][] = [
    [['--volume-driver', 'zfs'], /--volume-driver must be btrfs or xfs, not "zfs"/],
    [['--pool-size', '10Mi'], /--pool-size must be a size of at least 256Mi \(e\.g\. 20Gi\), not "10Mi"/],
    [['--pool-size', 'big'], /--pool-size must be a size/],
    [['--pool-device', 'vdb'], /--pool-device must be a device path like \/dev\/vdb/],
    [['--volume-driver', 'xfs', '--pool-device', '/dev/vdb'], /--pool-device is for the btrfs pool/],
    [['--trash-retention', '0'], /--trash-retention must be a positive duration like 7d/],
    [['--trash-retention', 'soon'], /--trash-retention must be a positive duration/],
    [['--cert-renew-before', '0'], /--cert-renew-before must be a positive duration/],
  ];
  for (const [argv, msg] of cases) assert.throws(() => parseCli(argv, {}), (x: unknown) => x instanceof ConfigError && msg.test(x.message), argv.join(' '));
  assert.throws(() => parseCli([], { WHARF_POOL_SIZE: '1' }), /WHARF_POOL_SIZE must be a size/);
});

test('config: metrics interval, /metrics access, reporters, their tags and selection', () => {
  const d = parseCli([], {});
  assert.ok(d.kind === 'run');
  const c = resolveConfig(d.config);
  assert.deepEqual([c.metricsIntervalSeconds, c.metricsPublic, c.reporters, c.metricsTags, c.metricsInclude], [10, false, [], {}, []]);

  const influx = 'influx=http://127.0.0.1:8086/write?db=wharf';
  const graphite = 'graphite=tcp://127.0.0.1:2003?prefix=dc1';
  const r = parseCli(
    ['--metrics-interval', '30s', '--metrics-public', '--reporter', influx, '--reporter', graphite, '--metrics-tag', 'dc=bj', '--metrics-tag', 'team=infra', '--metrics-include', 'wharf.set,wharf.host.cpu', '--metrics-include', 'wharf.container.'],
    { WHARF_METRICS_INTERVAL: '5', WHARF_REPORTERS: 'zabbix=tcp://127.0.0.1:10051', WHARF_METRICS_TAGS: 'x=y', WHARF_METRICS_INCLUDE: 'wharf.host' },
  );
  assert.ok(r.kind === 'run');
  assert.deepEqual(
    [r.config.metricsIntervalSeconds, r.config.metricsPublic, r.config.reporters, r.config.metricsTags, r.config.metricsInclude],
    [30, true, [influx, graphite], { dc: 'bj', team: 'infra' }, ['wharf.set', 'wharf.host.cpu', 'wharf.container.']],
  );
  const e = parseCli([], { WHARF_METRICS_INTERVAL: '1m', WHARF_METRICS_PUBLIC: 'true', WHARF_REPORTERS: `${influx}, ${graphite}`, WHARF_METRICS_TAGS: 'dc=bj,team=infra', WHARF_METRICS_INCLUDE: 'wharf.set, wharf.host' });
  assert.ok(e.kind === 'run');
  assert.deepEqual(
    [e.config.metricsIntervalSeconds, e.config.metricsPublic, e.config.reporters, e.config.metricsTags, e.config.metricsInclude],
    [60, true, [influx, graphite], { dc: 'bj', team: 'infra' }, ['wharf.set', 'wharf.host']],
  );

  const cases: [string[], RegExp][] = [
    [['--metrics-interval', 'often'], /--metrics-interval must be a positive duration/],
    [['--metrics-interval', '0.5'], /--metrics-interval must be at least 1s/],
    [['--reporter', 'statsd=udp://127.0.0.1:8125'], /--reporter: reporter "statsd=udp:\/\/127.0.0.1:8125"/],
    [['--reporter', influx, '--reporter', influx], /given twice/],
    [['--metrics-tag', 'novalue'], /--metrics-tag must be KEY=VALUE/],
    [['--metrics-tag', 'bad-key=1'], /--metrics-tag: "bad-key" is not a tag name/],
  ];
  for (const [argv, msg] of cases) assert.throws(() => parseCli(argv, {}), (x: unknown) => x instanceof ConfigError && msg.test(x.message), argv.join(' '));
  assert.throws(() => parseCli([], { WHARF_METRICS_PUBLIC: 'yes' }), /WHARF_METRICS_PUBLIC must be true or false/);
});

test('config: pulls at once, image GC limit and interval', () => {
  const d = parseCli([], {});
  assert.ok(d.kind === 'run');
  const c = resolveConfig(d.config);
  assert.deepEqual([c.pullConcurrency, c.imageGcAfterSeconds, c.imageGcIntervalSeconds], [3, 86400, 3600]);
  const r = parseCli(['--pull-concurrency', '5', '--image-gc-after', '2d', '--image-gc-interval', '10m'], { WHARF_PULL_CONCURRENCY: '1', WHARF_IMAGE_GC_AFTER: '1h' });
  assert.ok(r.kind === 'run');
  assert.deepEqual([r.config.pullConcurrency, r.config.imageGcAfterSeconds, r.config.imageGcIntervalSeconds], [5, 2 * 86400, 600]);
  const e = parseCli([], { WHARF_PULL_CONCURRENCY: '2', WHARF_IMAGE_GC_AFTER: '90', WHARF_IMAGE_GC_INTERVAL: '30s' });
  assert.ok(e.kind === 'run');
  assert.deepEqual([e.config.pullConcurrency, e.config.imageGcAfterSeconds, e.config.imageGcIntervalSeconds], [2, 90, 30]);
  const cases: [string[], RegExp][] = [
    [['--pull-concurrency', '0'], /--pull-concurrency must be a whole number from 1 to 32, not "0"/],
    [['--pull-concurrency', '2.5'], /--pull-concurrency must be a whole number/],
    [['--image-gc-after', 'never'], /--image-gc-after must be a positive duration like 7d/],
    [['--image-gc-interval', '0'], /--image-gc-interval must be a positive duration/],
  ];
  for (const [argv, msg] of cases) assert.throws(() => parseCli(argv, {}), (x: unknown) => x instanceof ConfigError && msg.test(x.message), argv.join(' '));
  assert.throws(() => parseCli([], { WHARF_IMAGE_GC_AFTER: 'x' }), /WHARF_IMAGE_GC_AFTER must be a positive duration/);
  assert.throws(() => resolveConfig({ pullConcurrency: 64 }), /--pull-concurrency must be a whole number from 1 to 32/);
});
