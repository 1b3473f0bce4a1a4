import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WharfError, type DesiredSets } from '@wharf/types';
import { FakeEngine } from '../docker/fake-engine.js';
import { FailureLog } from '../failure-log.js';
import { desiredLoop } from './desired.js';
import { dockerEventsLoop } from './docker-events.js';
import { hostRegistration } from './register.js';

const silent = pino({ level: 'silent' });

test('desired loop: follows revisions, restarts from 0 when compacted, retries errors', async () => {
  const asked: number[] = [];
  const seen: number[] = [];
  const abort = new AbortController();
  const answers: (DesiredSets | Error)[] = [
    { revision: 5, sets: [] },
    new WharfError('REVISION_COMPACTED', 'gone'),
    new Error('connect ECONNREFUSED'),
    { revision: 9, sets: [] },
  ];
  const client = {
    desiredSets: async (_host: string, revision: number): Promise<DesiredSets> => {
      asked.push(revision);
      const a = answers.shift();
      if (!a) {
        abort.abort();
        throw new Error('done');
      }
      if (a instanceof Error) throw a;
      return a;
    },
  };
  await desiredLoop({ client, host: 'h', waitSeconds: 30, log: silent, signal: abort.signal, onSets: (a) => seen.push(a.revision) });
  assert.deepEqual(asked, [0, 5, 0, 0, 9]);
  assert.deepEqual(seen, [5, 9]);
});

test('docker events loop: re-subscribes when the stream ends and asks for a resync', async () => {
  const engine = new FakeEngine();
  let subscriptions = 0;
  let resyncs = 0;
  const abort = new AbortController();
  engine.watchEvents = async () => {
    subscriptions++;
    if (subscriptions === 3) abort.abort();
  };
  await dockerEventsLoop({ engine, log: silent, signal: abort.signal, onEvent: () => {}, onResubscribed: () => resyncs++ });
  assert.equal(subscriptions, 3);
  assert.equal(resyncs, 2);
});

test('failure log: one line per kind of failure, one when it recovers', () => {
  const lines: string[] = [];
  const log = { warn: (_o: unknown, m: string) => lines.push(`warn ${m}`), info: (m: string) => lines.push(`info ${m}`) } as unknown as pino.Logger;
  const f = new FailureLog(log, 'registration');
  const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
  f.fail(refused);
  f.fail(refused);
  f.fail(new WharfError('UNAUTHORIZED', 'bad token'));
  f.ok();
  f.ok();
  assert.deepEqual(lines, ['warn registration failed; retrying', 'warn registration failed; retrying', 'info registration recovered']);
});

test('heartbeat: disk is the pool less its recycle bin, with the pool and every volume; 0 while the pool is not ready', async () => {
  const engine = new FakeEngine(['img']);
  const base = { engine, host: { name: 'h1', zone: 'z', rack: 'r', labels: {} }, dataDir: '/tmp', advertise: 'http://a', cpuOvercommit: 1, networks: [], bandwidth: 1000 };
  const pool = { driver: 'btrfs' as const, size: 4000, used: 1500, free: 2500, trash: 500, trashCount: 2 };
  const volumes = [{ tenant: 't', appkey: 'a', id: '1', driver: 'btrfs' as const, used: 1000, quota: 2000, path: '/tmp/volumes/t/a/1' }];
  const reg = await hostRegistration({ ...base, volumes: { report: async () => ({ pool, volumes }) } });
  assert.equal(reg.capacity.disk, 3500);
  assert.equal(reg.used?.disk, 1500);
  assert.deepEqual(reg.pool, pool);
  assert.deepEqual(reg.volumes, volumes);
  const down = await hostRegistration({ ...base, volumes: { report: async () => undefined } });
  assert.deepEqual([down.capacity.disk, down.used?.disk, down.pool, down.volumes], [0, 0, undefined, undefined]);
  const plain = await hostRegistration(base);
  assert.ok(plain.capacity.disk > 0, 'without a volume manager: the filesystem of the data dir');
});
