import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSetSpec } from './resolve.js';
import { resolveAppSpec } from './app.js';
import { securityBeyondPolicy, type ContainerSecuritySpec } from './security.js';

const withSecurity = (security: unknown) => ({ id: 1, appkey: 'x', containers: [{ index: 0, image: 'img', options: { name: 'a' } }, { index: 1, image: 'img', options: { name: 'b', security } }] });

test('security: the defaults, and capAdd resolved sorted without duplicates', () => {
  const plain = resolveSetSpec(withSecurity(undefined));
  assert.ok(plain.ok);
  assert.deepEqual(plain.set.containers.map((c) => c.security), [{ capAdd: [], noNewPrivileges: true }, { capAdd: [], noNewPrivileges: true }]);
  const r = resolveSetSpec(withSecurity({ capAdd: ['SYS_PTRACE', 'NET_RAW', 'SYS_PTRACE'], noNewPrivileges: false }));
  assert.ok(r.ok);
  assert.deepEqual(r.set.containers[1]?.security, { capAdd: ['NET_RAW', 'SYS_PTRACE'], noNewPrivileges: false });
});

test('security: bad capability names and fields are named', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ capAdd: ['NET_RAW', 'FLY'] }, 'containers[1].options.security.capAdd[1]', /"FLY" is not a Linux capability \(write it without CAP_, e\.g\. NET_RAW; known: CHOWN, /],
    [{ capAdd: ['CAP_NET_RAW'] }, 'containers[1].options.security.capAdd[0]', /"CAP_NET_RAW" is not a Linux capability \(write it without CAP_/],
    [{ capAdd: ['ALL'] }, 'containers[1].options.security.capAdd[0]', /ALL is not accepted/],
    [{ capAdd: ['net_raw'] }, 'containers[1].options.security.capAdd[0]', /"net_raw" is not a Linux capability/],
    [{ capAdd: 'NET_RAW' }, 'containers[1].options.security.capAdd', /must be a list/],
    [{ noNewPrivileges: 'no' }, 'containers[1].options.security.noNewPrivileges', /boolean/],
    [{ privileged: true }, 'containers[1].options.security.privileged', /unknown field/],
  ];
  for (const [security, path, message] of cases) {
    const r = resolveSetSpec(withSecurity(security));
    assert.ok(!r.ok, JSON.stringify(security));
    assert.equal(r.errors[0]?.path, path, JSON.stringify(r.errors));
    assert.match(r.errors[0]?.message ?? '', message);
  }
  const app = resolveAppSpec({ appkey: 'x', replicas: 1, template: { containers: [{ index: 0, image: 'img', options: { name: 'a', security: { capAdd: ['FLY'] } } }] } });
  assert.ok(!app.ok);
  assert.equal(app.errors[0]?.path, 'template.containers[0].options.security.capAdd[0]');
});

test('security: what a spec asks beyond its tenant', () => {
  const spec = (security: ContainerSecuritySpec) => [{ options: {} }, { options: { security } }];
  const containers = spec({ capAdd: ['NET_RAW', 'SYS_PTRACE'], noNewPrivileges: false });
  assert.deepEqual(securityBeyondPolicy(containers, {}), [
    { path: 'containers[1].options.security.capAdd', capability: 'NET_RAW' },
    { path: 'containers[1].options.security.capAdd', capability: 'SYS_PTRACE' },
    { path: 'containers[1].options.security.noNewPrivileges' },
  ]);
  assert.deepEqual(securityBeyondPolicy(containers, { allowedCapabilities: ['NET_RAW'], allowPrivilegeEscalation: true }), [
    { path: 'containers[1].options.security.capAdd', capability: 'SYS_PTRACE' },
  ]);
  assert.deepEqual(securityBeyondPolicy(containers, { allowedCapabilities: ['SYS_PTRACE', 'NET_RAW'], allowPrivilegeEscalation: true }), []);
  assert.deepEqual(securityBeyondPolicy(spec({ noNewPrivileges: true, capAdd: [] }), {}), [], 'the defaults written out ask nothing');
});
