/** Requests the fuzzer found answered wrongly once, kept so they stay answered right (the admin token is added). */
import type { FuzzRequest } from './requests.js';

const json = { 'content-type': 'application/json' };

export const REGRESSIONS: FuzzRequest[] = [
  // VALIDATION_FAILED said "body: must NOT have additional properties" without the field's name.
  { method: 'PUT', url: '/v1/quotas/default', headers: json, payload: '{"extra":""}' },
  { method: 'POST', url: '/v1/apps/shop/scale', headers: json, payload: '{"replicas":1,"warmPool":0,"extra":1}' },
  // A path with an escape that does not decode was answered by Fastify itself ({ error: "Bad Request", code: "FST_ERR_BAD_URL" }), outside the catalog.
  { method: 'GET', url: '/v1/sets/%zz/1', headers: {} },
  { method: 'PUT', url: '/v1/networks/%', headers: json, payload: '{"name":"n1","subnet":"10.99.0.0/24","gateway":"10.99.0.1"}' },
  // An app whose lb.targetPort is checked against ports that are not a list: a 500 (TypeError in resolveAppSpec).
  {
    method: 'PUT', url: '/v1/apps/x', headers: json,
    payload: JSON.stringify({ appkey: 'x', replicas: 1, template: { containers: [{ index: 0, image: 'busybox', options: { name: 'main', ports: '' } }] }, lb: { targetPort: 80 } }),
  },
  // Infinity (JSON 1e999, YAML .inf, a string "1e999" coerced by the schema) passed validation, was
  // written (as null) and then failed the answer's serialization: a 500 after a write.
  { method: 'PUT', url: '/v1/hosts/h1', headers: json, payload: '{"name":"h1","zone":"z1","rack":"r1","labels":{},"capacity":{"cpu":1,"memory":"Infinity","disk":1},"agentUrl":"http://127.0.0.1:1","agentVersion":"t","dockerVersion":"t"}' },
  { method: 'POST', url: '/v1/apps/shop/scale', headers: { 'content-type': 'application/yaml' }, payload: 'replicas: "1e999"\n' },
  { method: 'PUT', url: '/v1/apps/shop/autoscale', headers: json, payload: `{"min":0,"max":"${'9'.repeat(400)}"}` },
  // Nested 5000 deep: a check for Infinity once recursed and overflowed the stack.
  { method: 'PUT', url: '/v1/sets/web/1', headers: json, payload: '['.repeat(5000) + ']'.repeat(5000) },
  { method: 'POST', url: '/v1/sets/web/1/stop', headers: json, payload: `{"a":${'['.repeat(5000)}1e999${']'.repeat(5000)}}` },
];
