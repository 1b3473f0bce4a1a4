import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingCapabilities, privilegeFor, resolvePrivilege } from './privilege.js';

test('privilege: missing capabilities from a bounding set', () => {
  assert.deepEqual(missingCapabilities('000001ffffffffff', 40), []);
  assert.deepEqual(missingCapabilities('000001fffeffffff', 40), ['SYS_RESOURCE']);
  assert.deepEqual(missingCapabilities('0000003fffffffff', 40), ['PERFMON', 'BPF', 'CHECKPOINT_RESTORE']);
  assert.deepEqual(missingCapabilities('0000003fffffffff', 37), [], 'caps the kernel does not have are not missing');
});

test('privilege: auto is privileged on a full host, the closest equivalent otherwise', () => {
  assert.deepEqual(privilegeFor([]), { privileged: true });
  assert.deepEqual(privilegeFor(['SYS_RESOURCE']), { privileged: false, capAdd: ['ALL'], capDrop: ['SYS_RESOURCE'], securityOpt: ['apparmor=unconfined', 'seccomp=unconfined'] });
  assert.deepEqual(resolvePrivilege(true, () => ['SYS_RESOURCE']), { privileged: true });
  assert.deepEqual(resolvePrivilege(false), { privileged: false });
  assert.deepEqual(resolvePrivilege('auto', () => []), { privileged: true });
});
