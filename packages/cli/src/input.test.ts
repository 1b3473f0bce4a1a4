import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpecs } from './input.js';

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
