import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSet, container, T0, iso } from '../testing/fixtures.js';
import { readiness, renderSets } from './sets.js';
import { renderHosts } from './hosts.js';
import { describeSet } from './describe.js';

function columns(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

test('get sets: default columns', () => {
  const out = renderSets([makeSet({ id: '2', status: 'starting', containers: [container({ name: 'web', state: 'running' }), container({ name: 'log', index: 2, state: 'created' })] }), makeSet()], false, T0);
  const [header, first, second] = out.split('\n');
  assert.deepEqual(columns(header ?? ''), ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE']);
  // sorted by appkey then id
  assert.deepEqual(columns(first ?? ''), ['com.x', '1', 'running', '2/2', 'h1', '60m']);
  assert.deepEqual(columns(second ?? ''), ['com.x', '2', 'starting', '1/2', 'h1', '60m']);
});

test('get sets -o wide: adds CPU, MEMORY, DISK, IMAGES, GEN', () => {
  const out = renderSets([makeSet({ generation: 3, observedGeneration: 2, host: undefined as unknown as string })], true, T0);
  const [header, row] = out.split('\n');
  assert.deepEqual(columns(header ?? ''), ['APPKEY', 'ID', 'STATUS', 'READY', 'HOST', 'AGE', 'CPU', 'MEMORY', 'DISK', 'IMAGES', 'GEN']);
  assert.deepEqual(columns(row ?? ''), ['com.x', '1', 'running', '2/2', '<none>', '60m', '2', '1Gi', '10Gi', 'nginx:1,fluent:2', '2/3']);
  // the wide header lines up with the row
  assert.equal((header ?? '').indexOf('IMAGES'), (row ?? '').indexOf('nginx:1'));
});

test('readiness counts business containers of the spec, not infra', () => {
  assert.deepEqual(readiness(makeSet()), { running: 2, total: 2 });
  assert.deepEqual(readiness(makeSet({ containers: [] })), { running: 0, total: 2 });
});

test('get hosts: columns, allocated/capacity and cordon', () => {
  const out = renderHosts([makeHost(), makeHost({ name: 'h0', state: 'not-ready', cordoned: true })], false, T0);
  const lines = out.split('\n');
  assert.deepEqual(columns(lines[0] ?? ''), ['NAME', 'STATE', 'ZONE', 'RACK', 'CPU', 'MEMORY', 'SETS', 'AGE']);
  assert.deepEqual(columns(lines[1] ?? ''), ['h0', 'not-ready,cordoned', 'dc1', 'r1', '███░░░░░ 2.5/8', '██░░░░░░ 4Gi/16Gi', '3', '2d']);
  assert.deepEqual(columns(lines[2] ?? ''), ['h1', 'ready', 'dc1', 'r1', '███░░░░░ 2.5/8', '██░░░░░░ 4Gi/16Gi', '3', '2d']);
  const wide = renderHosts([makeHost()], true, T0).split('\n');
  assert.deepEqual(columns(wide[1] ?? '').slice(8), ['█░░░░░░░ 10Gi/100Gi', '3s ago', '0.1.0', '20.10.24', 'ssd=true', '-']);
});

test('describe set: fields, containers table and events', () => {
  const set = makeSet({
    status: 'degraded',
    message: 'container log exited',
    containers: [
      ...makeSet().containers.slice(0, 2),
      container({ name: 'log', index: 2, image: 'fluent:2', state: 'exited', exitCode: 137, oomKilled: true, restartCount: 4, containerId: 'cccccccccccccccccccc', message: 'OOM' }),
    ],
  });
  const text = describeSet(
    set,
    [
      { time: iso(T0 - 10_000), type: 'Warning', reason: 'BackOff', message: 'restarting log' },
      { time: iso(T0 - 70_000), type: 'Normal', reason: 'Scheduled', message: 'placed on h1' },
    ],
    T0,
  );
  assert.match(text, /^Name: +com\.x\/1$/m);
  assert.match(text, /^Status: +degraded \(1\/2 containers running\)$/m);
  assert.match(text, /^Message: +container log exited$/m);
  assert.match(text, /^Generation: +1 \(observed 1\)$/m);
  assert.match(text, /^Resources: +cpu 2, memory 1Gi, disk 10Gi$/m);
  assert.match(text, /^Volume: +10Gi, mounted at \/data \(web\)$/m);
  const lines = text.split('\n');
  const header = lines.find((l) => l.includes('INDEX')) ?? '';
  assert.deepEqual(columns(header), ['INDEX', 'NAME', 'ROLE', 'IMAGE', 'STATE', 'RESTARTS', 'EXIT', 'STARTED', 'CPU', 'MEMORY', 'ID']);
  const infra = lines[lines.indexOf(header) + 1] ?? '';
  assert.deepEqual(columns(infra), ['0', 'infra', 'infra', 'wharf/busybox:latest', 'running', '0', '-', '60s', '-', '-', 'aaaaaaaaaaaa']);
  const web = lines[lines.indexOf(header) + 2] ?? '';
  assert.deepEqual(columns(web), ['1', 'web', 'business', 'nginx:1', 'running', '0', '-', '60s', '1.6', '512Mi', 'bbbbbbbbbbbb']);
  const log = lines[lines.indexOf(header) + 3] ?? '';
  assert.deepEqual(columns(log), ['2', 'log', 'business', 'fluent:2', 'exited', '4', '137 (OOMKilled)', '-', '-', '-', 'cccccccccccc']);
  assert.match(text, /^ {4}log: OOM$/m);
  // events oldest first
  const ev = lines.slice(lines.indexOf('Events:') + 1);
  assert.deepEqual(columns(ev[0] ?? ''), ['AGE', 'TYPE', 'REASON', 'MESSAGE']);
  assert.deepEqual(columns(ev[1] ?? ''), ['70s', 'Normal', 'Scheduled', 'placed on h1']);
  assert.deepEqual(columns(ev[2] ?? ''), ['10s', 'Warning', 'BackOff', 'restarting log']);
});

test('describe set survives missing events and unreported containers', () => {
  const text = describeSet(makeSet({ containers: [], status: 'pending', host: undefined as unknown as string }), new Error('404 Not Found'), T0);
  assert.match(text, /^Host: +<not scheduled>$/m);
  assert.match(text, /^Containers: +<none reported by the agent yet>$/m);
  assert.match(text, /^Events: +<unavailable: 404 Not Found>$/m);
});
