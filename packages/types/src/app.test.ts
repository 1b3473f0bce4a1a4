import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAppSpec } from './app.js';

const app = (over: object = {}) => ({ appkey: 'web', replicas: 1, template: { containers: [{ index: 1, image: 'x', options: { name: 'web' } }] }, ...over });

test('app fields are named as written, list items with [i], like the template', () => {
  const cases: [object, string, string][] = [
    [app({ update: { batch: '0%' } }), 'update.batch', 'must be integer or a percentage such as "25%"'],
    [app({ autoscale: { min: 1, max: 2, schedules: [{ cron: '0 11 * * *', duration: '3h', min: -1 }] } }), 'autoscale.schedules[0].min', 'must be 0..10000'],
    [app({ autoscale: { min: 1, max: 2, schedules: [{ cron: '0 11 * * *', duration: '3h', min: 2, timezone: 'Mars/Base' }] } }), 'autoscale.schedules[0].timezone', '"Mars/Base" is not an IANA time zone (e.g. Asia/Shanghai)'],
    [app({ colour: 'red' }), 'colour', 'unknown field'],
  ];
  for (const [input, path, message] of cases) {
    const r = resolveAppSpec(input);
    assert.equal(r.ok, false, JSON.stringify(input));
    if (!r.ok) assert.deepEqual(r.errors.find((e) => e.path === path), { path, message }, JSON.stringify(r.errors));
  }
  assert.equal(resolveAppSpec(app({ update: { batch: '25%' } })).ok, true);
});
