import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '@wharf/types';
import { commandsFor, planBackend } from './plan.js';
import type { ServerState } from './runtime.js';

const port = [{ containerPort: 8080, protocol: 'tcp' as const, container: 'web' }];
const ep = (set: string, ip: string, ready = true, draining = false): Endpoint => ({ set, ip, ports: port, ready, draining });
const slots = (n: number): ServerState[] => Array.from({ length: n }, (_, i) => ({ backend: 'b', server: `s${i + 1}`, addr: '0.0.0.0', port: 8080, state: 'maint' }));
const apply = (cur: ServerState[], plan: ReturnType<typeof planBackend>): ServerState[] => cur.map((s, i) => ({ ...s, addr: plan[i]!.addr, port: plan[i]!.port, state: plan[i]!.state }));

describe('backend plan', () => {
  it('a ready set serves, a set not ready or draining drains, a gone set frees its slot', () => {
    const assigned = new Map<string, string>();
    let cur = slots(4);
    let plan = planBackend([ep('1', '10.0.0.1'), ep('2', '10.0.0.2', false), ep('3', '10.0.0.3', true, true)], 8080, cur, assigned);
    assert.deepEqual(plan.map((p) => [p.server, p.set, p.state]), [['s1', '1', 'ready'], ['s2', '2', 'drain'], ['s3', '3', 'drain'], ['s4', undefined, 'maint']]);
    assert.deepEqual(commandsFor('b', cur, plan).slice(0, 2), ['set server b/s1 addr 10.0.0.1 port 8080', 'set server b/s1 state ready']);
    cur = apply(cur, plan);
    plan = planBackend([ep('2', '10.0.0.2'), ep('4', '10.0.0.4')], 8080, cur, assigned);
    assert.deepEqual(plan.map((p) => [p.server, p.set, p.state]), [['s1', undefined, 'maint'], ['s2', '2', 'ready'], ['s3', undefined, 'maint'], ['s4', '4', 'ready']]);
    assert.deepEqual(commandsFor('b', apply(cur, plan), plan), [], 'nothing left to do');
  });

  it('recovers slots from the addresses HAProxy holds (a restarted wharf-server moves nothing)', () => {
    const cur = slots(3);
    cur[2] = { ...cur[2]!, addr: '10.0.0.9', state: 'ready' };
    const plan = planBackend([ep('9', '10.0.0.9'), ep('1', '10.0.0.1')], 8080, cur, new Map());
    assert.deepEqual(plan.map((p) => [p.server, p.set]), [['s1', '1'], ['s2', undefined], ['s3', '9']]);
  });

  it('skips sets without an IP or without the target port, and stops at the last slot', () => {
    const plan = planBackend([{ set: 'x', ports: port, ready: true, draining: false }, { ...ep('y', '10.0.0.8'), ports: [] }, ep('1', '10.0.0.1'), ep('2', '10.0.0.2')], 8080, slots(1), new Map());
    assert.deepEqual(plan.map((p) => [p.server, p.set]), [['s1', '1']]);
  });
});
