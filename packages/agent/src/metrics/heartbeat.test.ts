import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { HostRegistration, MetricsReport } from '@wharf/types';
import { FakeEngine } from '../docker/fake-engine.js';
import { registerLoop } from '../loops/register.js';
import { ReportOutbox } from './outbox.js';

const report = (time: string): MetricsReport => ({
  host: { time, cpu: 0, cpus: 1, memory: 0, memoryTotal: 1, load1: 0, load5: 0, load15: 0, uplinks: [], containers: 0 },
  sets: [],
});

test('outbox: the newest report once; a failed heartbeat gives it back unless a newer one came', () => {
  const box = new ReportOutbox();
  assert.equal(box.take(), undefined);
  box.put(report('1'));
  box.put(report('2'));
  const r = box.take();
  assert.equal(r?.host.time, '2');
  assert.equal(box.take(), undefined);
  box.giveBack(r!);
  assert.equal(box.take()?.host.time, '2');
  box.giveBack(r!);
  box.put(report('3'));
  box.giveBack(r!);
  assert.equal(box.take()?.host.time, '3');
});

test('heartbeat: carries the newest collection once, again after a failed send, not when nothing new came', async () => {
  const box = new ReportOutbox();
  const sent: (string | undefined)[] = [];
  let fail = false;
  const controller = new AbortController();
  const client = {
    registerHost: async (reg: HostRegistration) => {
      if (fail) {
        fail = false;
        throw new Error('server down');
      }
      sent.push(reg.metrics?.host.time);
      return undefined as never;
    },
  };
  box.put(report('a'));
  const loop = registerLoop({
    client, engine: new FakeEngine(), host: { name: 'h1', zone: 'z', rack: 'r', labels: {} }, dataDir: '/tmp', advertise: 'http://x', cpuOvercommit: 1,
    networks: [], bandwidth: 1000, intervalMs: 20, log: pino({ level: 'silent' }), signal: controller.signal, onRegistered: () => undefined, metrics: box,
  });
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  };
  await until(() => sent.length >= 3);
  fail = true;
  box.put(report('b'));
  await until(() => sent.includes('b'));
  controller.abort();
  await loop;
  assert.equal(sent[0], 'a');
  assert.ok(sent.slice(1).every((t) => t === undefined || t === 'b'));
  assert.equal(sent.filter((t) => t === 'a').length, 1, 'not repeated');
  assert.equal(sent.filter((t) => t === 'b').length, 1, 'delivered after the failed send, once');
});
