import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocuments, parseSpecs } from './input.js';
import { preparePolicy } from './commands/policy.js';

test('JSON and YAML specs parse to the same object', () => {
  const json = parseSpecs('{"appkey": "com.x", "id": 1, "containers": [{"index": 1, "image": "nginx", "options": {"name": "web"}}]}', 'a.json');
  const yaml = parseSpecs('appkey: com.x\nid: 1\ncontainers:\n  - index: 1\n    image: nginx\n    options: {name: web}\n', 'a.yaml');
  assert.deepEqual(json, [{ where: 'a.json', spec: yaml[0]?.spec }]);
});

test('several YAML documents, empty ones skipped', () => {
  const docs = parseSpecs('---\nappkey: a\nid: 1\n---\n---\nappkey: b\nid: 2\n', 'many.yaml');
  assert.deepEqual(
    docs.map((d) => [d.where, d.spec.appkey]),
    [
      ['many.yaml (document 1)', 'a'],
      ['many.yaml (document 3)', 'b'],
    ],
  );
});

test('syntax errors, non-objects and empty input are clear errors', () => {
  assert.throws(() => parseSpecs('{"appkey": ', 'bad.json'), { message: 'cannot parse bad.json: Flow map must end with a } at line 1, column 12' });
  assert.throws(() => parseSpecs('- a\n- b\n', 'list.yaml'), /list\.yaml holds a list; expected a set spec/);
  assert.throws(() => parseSpecs('', 'stdin'), /stdin holds no set spec/);
});

test('documents that may be lists: each item on its own, named by its position', () => {
  const kind = { what: 'network policy', shape: 'a network policy', lists: true };
  const docs = parseDocuments('- {name: a}\n- {name: b}\n---\nname: c\n', 'p.yaml', kind);
  assert.deepEqual(
    docs.map((d) => [d.where, d.spec.name]),
    [
      ['p.yaml (document 1) (item 1)', 'a'],
      ['p.yaml (document 1) (item 2)', 'b'],
      ['p.yaml (document 2)', 'c'],
    ],
  );
  assert.throws(() => parseDocuments('[[1]]', 'p.json', kind), { message: 'p.json (item 1) holds a list; expected a network policy, or a list of them' });
  assert.throws(() => parseDocuments('[]', 'p.json', kind), { message: 'p.json holds no network policy' });
});

test('a policy as get prints it: read-only fields dropped, its tenant used unless another was chosen', () => {
  const doc = { where: 'p.yaml', spec: { name: 'a', appkey: 'com.x', ingress: [], tenant: 'team-a', createdAt: 'x', updatedAt: 'y' } };
  assert.deepEqual(preparePolicy(doc, {}), { where: 'p.yaml', spec: { name: 'a', appkey: 'com.x', ingress: [] }, tenant: 'team-a' });
  assert.deepEqual(preparePolicy(doc, { tenant: 'team-a', from: '--tenant' }).tenant, 'team-a');
  assert.throws(() => preparePolicy(doc, { tenant: 'team-b', from: 'WHARF_TENANT' }), /p\.yaml is for tenant team-a, but WHARF_TENANT selects tenant team-b/);
  assert.deepEqual(preparePolicy({ where: 'q', spec: { name: 'a' } }, { tenant: 'team-b' }), { where: 'q', spec: { name: 'a' } });
});
