import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPointerToPath, resolveSetSpec } from './resolve.js';

const seed = {
  version: 'v2', id: 1, appkey: 'com.sankuai.inf.hulk.test',
  containers: [{ index: 0, image: 'hulk.test-prod', options: { name: 'test', cpu: 80, mem: 20, volumes: [{ path: '/opt/logs', quota: 100 }], command: { cmd: '/bin/bash', args: ['-c', 'run.sh'] } } }],
};
const c = (index: number, name: string, options: Record<string, unknown> = {}) => ({ index, image: 'img', options: { name, ...options } });

test('the seed spec is accepted verbatim and resolved with default resources', () => {
  const r = resolveSetSpec(seed);
  assert.ok(r.ok);
  assert.equal(r.set.id, '1');
  assert.equal(r.set.cpu, 1);
  assert.equal(r.set.memoryBytes, 1024 ** 3);
  // The volume quota is in GiB when a bare number, and sizes the set's disk.
  assert.equal(r.set.diskBytes, 100 * 1024 ** 3);
  const [t] = r.set.containers;
  assert.equal(t?.nanoCpus, 800_000_000);
  assert.equal(t?.memoryBytes, Math.floor(1024 ** 3 * 0.2));
  assert.deepEqual(t?.entrypoint, ['/bin/bash']);
  assert.deepEqual(t?.args, ['-c', 'run.sh']);
});

test('limits are percentages of the set: a 4-core set with cpu 80 may use 3.2 cores', () => {
  const r = resolveSetSpec({ id: 'a', appkey: 'x', resources: { cpu: 4, memory: '8Gi' }, containers: [c(0, 'a', { cpu: 80, mem: 50 })] });
  assert.ok(r.ok);
  assert.equal(r.set.containers[0]?.nanoCpus, 3_200_000_000);
  assert.equal(r.set.containers[0]?.memoryBytes, 4 * 1024 ** 3);
});

test('containers are ordered by index; unspecified shares split the remainder', () => {
  const r = resolveSetSpec({ id: 1, appkey: 'x', containers: [c(5, 'late'), c(1, 'early', { cpu: 60, mem: 60 }), c(3, 'mid')] });
  assert.ok(r.ok);
  assert.deepEqual(r.set.containers.map((x) => [x.name, x.cpuPct, x.memPct]), [['early', 60, 60], ['mid', 20, 20], ['late', 20, 20]]);
});

test('errors name the field and the problem', () => {
  const cases: [unknown, string, string][] = [
    [{ ...seed, containers: [seed.containers[0], c(1, 'b', { cpu: 150 })] }, 'containers[1].options.cpu', 'must be 1..100'],
    [{ ...seed, containers: [seed.containers[0], c(1, 'b', { cpu: 30 })] }, 'containers[].options.cpu', 'percentages sum to 110; they may not exceed 100'],
    [{ ...seed, containers: [seed.containers[0], c(0, 'b')] }, 'containers[1].index', '0 is already used by containers[0]'],
    [{ ...seed, containers: [seed.containers[0], c(1, 'test')] }, 'containers[1].options.name', '"test" is already used by containers[0]'],
    [{ ...seed, containers: [c(0, 'infra')] }, 'containers[0].options.name', '"infra" is reserved for the set\'s infra container'],
    [{ version: 'v2', id: 1, containers: seed.containers }, 'appkey', 'is required'],
    [{ ...seed, id: true }, 'id', 'must be integer or string'],
    [{ ...seed, containers: [c(0, 'a', { volumes: [{ path: 'relative' }] })] }, 'containers[0].options.volumes[0].path', '"relative" is not valid (lowercase letters, digits, \'.\', \'_\' and \'-\'; must match ^/)'],
    [{ ...seed, containers: [c(0, 'a', { volumes: [{ path: '/data/../../root' }] })] }, 'containers[0].options.volumes[0].path', '"/data/../../root" must be an absolute directory below / without "." or ".." parts (e.g. /data)'],
    [{ ...seed, containers: [c(0, 'a', { volumes: [{ path: '/' }] })] }, 'containers[0].options.volumes[0].path', '"/" must be an absolute directory below / without "." or ".." parts (e.g. /data)'],
    [{ ...seed, containers: [c(0, 'a', { labels: { 'wharf.set': 'x' } })] }, 'containers[0].options.labels.wharf.set', 'the "wharf." prefix is reserved'],
    [{ ...seed, resources: { memory: '10Mi' }, containers: [c(0, 'a', { mem: 10 })] }, 'containers[0].options.mem', '10% of the set\'s memory is 1Mi; a container needs at least 6Mi (runc\'s start-up is charged to it)'],
    [{ ...seed, containers: [c(0, 'a', { cpu: 100 }), c(1, 'b')] }, 'containers[].options.cpu', 'nothing is left for containers without a value (the others use 100%)'],
    [{ ...seed, containers: [c(0, 'a', { colour: 'red' })] }, 'containers[0].options.colour', 'unknown field'],
    [{ ...seed, containers: [c(0, 'a', { liveness: { tcp: { port: 80 }, http: { port: 80 } } })] }, 'containers[0].options.liveness', 'needs exactly one of exec, http and tcp'],
    [{ ...seed, containers: [c(0, 'a', { readiness: { periodSeconds: 2 } })] }, 'containers[0].options.readiness', 'needs exactly one of exec, http and tcp'],
    [{ ...seed, containers: [c(0, 'a', { readiness: { tcp: { port: 0 } } })] }, 'containers[0].options.readiness.tcp.port', 'must be 1..65535'],
    [{ ...seed, containers: [c(0, 'a', { restartPolicy: 'sometimes' })] }, 'containers[0].options.restartPolicy', 'must be "always" or "on-failure" or "never"'],
  ];
  for (const [input, path, message] of cases) {
    const r = resolveSetSpec(input);
    assert.equal(r.ok, false, path);
    if (r.ok) continue;
    assert.ok(r.errors.some((e) => e.path === path && e.message === message), `${path}: ${message}\n got ${JSON.stringify(r.errors)}`);
  }
});

test('a new or resized container needs 16Mi (runc start-up); a stored spec keeps running down to Docker\'s 6Mi', () => {
  const small = { ...seed, resources: { memory: '8Mi' }, containers: [c(0, 'a')] };
  const admitted = resolveSetSpec(small, { admit: true });
  assert.equal(admitted.ok, false);
  if (!admitted.ok) assert.deepEqual(admitted.errors, [{ path: 'resources.memory', message: "the set's memory is 8Mi; a container needs at least 16Mi (runc's start-up is charged to it)" }]);
  const stored = resolveSetSpec(small);
  assert.ok(stored.ok);
  if (stored.ok) assert.equal(stored.set.containers[0]!.memoryBytes, 8 * 1024 ** 2);
  const split = resolveSetSpec({ ...seed, resources: { memory: '40Mi' }, containers: [c(0, 'a', { mem: 30 }), c(1, 'b')] }, { admit: true });
  assert.equal(split.ok, false);
  if (!split.ok) assert.deepEqual(split.errors.map((e) => e.path), ['containers[0].options.mem']);
  assert.ok(resolveSetSpec({ ...seed, resources: { memory: '16Mi' }, containers: [c(0, 'a')] }, { admit: true }).ok);
});

test('probes get their defaults and the restart policy defaults to always', () => {
  const r = resolveSetSpec({
    ...seed,
    containers: [c(0, 'a', { readiness: { http: { port: 8080 } }, liveness: { exec: { command: ['true'] }, periodSeconds: 3, failureThreshold: 5 }, restartPolicy: 'on-failure' }), c(1, 'b')],
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const [a, b] = r.set.containers;
  assert.deepEqual(a?.readiness, { kind: 'http', port: 8080, path: '/', initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
  assert.deepEqual(a?.liveness, { kind: 'exec', command: ['true'], initialDelaySeconds: 0, periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 5, successThreshold: 1 });
  assert.equal(a?.restartPolicy, 'on-failure');
  assert.equal(b?.restartPolicy, 'always');
  assert.equal(b?.liveness, undefined);
});

test('JSON pointers become the paths people write', () => {
  assert.equal(jsonPointerToPath('/containers/1/options/cpu'), 'containers[1].options.cpu');
  assert.equal(jsonPointerToPath(''), '');
});
