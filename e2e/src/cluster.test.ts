/**
 * Placement and host failure on a 3-host cluster (h1 z1/r1, h2 z1/r2, h3 z2/r3):
 * spread, binpack, zone selector, unschedulable reasons, and a dead host whose
 * stateless sets move while a set with a volume waits — and after it returns, no set
 * runs twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SetView } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';


function spec(appkey: string, id: number, extra: Record<string, unknown> = {}, volume = false) {
  return {
    appkey, id,
    resources: { cpu: 0.5, memory: '64Mi' },
    containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] }, ...(volume ? { volumes: [{ path: '/data' }] } : {}) } }],
    ...extra,
  };
}

function countBy(sets: SetView[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sets) if (s.host) out[s.host] = (out[s.host] ?? 0) + 1;
  return out;
}

describe('a 3-host cluster', () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await Cluster.start(3);
  });

  after(async () => {
    await cluster?.stop();
  });

  async function placed(appkey: string, n: number): Promise<SetView[]> {
    return waitFor(`${n} sets of ${appkey} placed`, async () => {
      const sets = await cluster.platform.client.listSets({ appkey });
      return sets.length === n && sets.every((s) => s.host) ? sets : undefined;
    }, 30_000, 200);
  }

  async function removeApp(appkey: string): Promise<void> {
    const c = cluster.platform.client;
    for (const s of await c.listSets({ appkey })) await c.deleteSet(s.appkey, s.id);
    await waitFor(`${appkey} deleted`, async () => (await c.listSets({ appkey })).length === 0, 60_000, 250);
  }

  it('registers every host with its zone and rack', async () => {
    const hosts = await cluster.platform.client.listHosts();
    assert.deepEqual(hosts.map((h) => [h.name, h.zone, h.rack, h.state]).sort(), [['h1', 'z1', 'r1', 'ready'], ['h2', 'z1', 'r2', 'ready'], ['h3', 'z2', 'r3', 'ready']]);
  });

  it('spreads 12 sets of one app 4/4/4 and runs them', async () => {
    const c = cluster.platform.client;
    for (let i = 0; i < 12; i++) await c.applySet(spec('e2e.spread', i));
    const sets = await placed('e2e.spread', 12);
    assert.deepEqual(countBy(sets), { h1: 4, h2: 4, h3: 4 });
    await waitFor('12 sets running', async () => (await c.listSets({ appkey: 'e2e.spread' })).every((s) => s.status === 'running'), 90_000, 500);
    // Each runs on the host it was placed on.
    for (const name of ['h1', 'h2', 'h3']) {
      const infra = await cluster.host(name).containerIds('label=wharf.app=e2e.spread');
      assert.equal(infra.length, 8, `${name} runs 4 sets of 2 containers`);
    }
    await removeApp('e2e.spread');
  });

  it('binpack fills one host before the next', async () => {
    const c = cluster.platform.client;
    // Each host offers its machine's memory; three sets of 30% of it fit on one host, not four.
    const memory = (await c.listHosts())[0]?.capacity.memory ?? 0;
    const big = { resources: { cpu: 0.5, memory: `${Math.floor((memory * 0.3) / 1024 ** 2)}Mi` }, placement: { strategy: 'binpack' } };
    for (let i = 0; i < 4; i++) await c.applySet(spec('e2e.binpack', i, big));
    const sets = await placed('e2e.binpack', 4);
    const counts = Object.values(countBy(sets)).sort();
    assert.deepEqual(counts, [1, 3], JSON.stringify(countBy(sets)));
    await removeApp('e2e.binpack');
  });

  it('obeys a zone selector', async () => {
    const c = cluster.platform.client;
    for (let i = 0; i < 3; i++) await c.applySet(spec('e2e.zone', i, { placement: { zones: ['z2'] } }));
    const sets = await placed('e2e.zone', 3);
    assert.deepEqual(countBy(sets), { h3: 3 });
    await removeApp('e2e.zone');
  });

  it('keeps a set too big for any host pending, with the reasons counted per host', async () => {
    const c = cluster.platform.client;
    await c.applySet(spec('e2e.huge', 1, { resources: { cpu: 1, memory: '100Ti' } }));
    const s = await cluster.platform.waitForSet('e2e.huge', 1, 'unschedulable', (v) => /hosts fit/.test(v.message ?? ''));
    assert.equal(s.status, 'pending');
    assert.match(s.message ?? '', /^0\/3 hosts fit: 3 hosts: insufficient memory/);
    const events = await c.setEvents('e2e.huge', 1);
    assert.ok(events.some((e) => e.reason === 'FailedScheduling'));
    await removeApp('e2e.huge');
  });

  it('drain moves a host\'s sets elsewhere one at a time, with progress; uncordon takes it back', async () => {
    const c = cluster.platform.client;
    for (let i = 0; i < 6; i++) await c.applySet(spec('e2e.drain', i));
    await placed('e2e.drain', 6);
    await waitFor('all running', async () => (await c.listSets({ appkey: 'e2e.drain' })).every((s) => s.status === 'running'), 60_000, 500);
    const before = (await c.listSets({ appkey: 'e2e.drain' })).filter((s) => s.host === 'h2').map((s) => s.id);
    assert.ok(before.length >= 2, `spread put sets on h2: ${before}`);

    const r = await cluster.platform.cli(['drain', 'h2', '--wait', '--timeout', '120s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /host h2 drained/);
    assert.match(r.stderr, /draining h2: \d+ sets? left to move/);
    const after = await c.listSets({ appkey: 'e2e.drain' });
    assert.ok(after.every((s) => s.host !== 'h2' && s.status === 'running'), JSON.stringify(after.map((s) => [s.id, s.host, s.status])));
    assert.equal((await c.getHost('h2')).state, 'draining');
    // h2's agent removes the containers of each set as soon as it is no longer placed there.
    await waitFor('h2 empty', async () => (await cluster.host('h2').containerIds('label=wharf.app=e2e.drain')).length === 0, 20_000, 200);

    // One at a time: each set left only after the previous one ran again elsewhere.
    const moves = await Promise.all(before.map(async (id) => {
      const ev = await c.setEvents('e2e.drain', id);
      return { id, left: Date.parse(ev.find((e) => e.reason === 'Draining')?.time ?? ''), ran: Date.parse(ev.find((e) => e.reason === 'Moved')?.time ?? '') };
    }));
    moves.sort((a, b) => a.left - b.left);
    for (let i = 1; i < moves.length; i++) assert.ok((moves[i]?.left ?? 0) >= (moves[i - 1]?.ran ?? Infinity), JSON.stringify(moves));

    const u = await cluster.platform.cli(['uncordon', 'h2']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal((await c.getHost('h2')).state, 'ready');
    await removeApp('e2e.drain');
  });

  it('moves the stateless sets of a dead host elsewhere within 60 s; after it returns no set runs twice', async () => {
    const c = cluster.platform.client;
    for (let i = 0; i < 6; i++) await c.applySet(spec('e2e.failover', i));
    await c.applySet(spec('e2e.stateful', 1, { placement: { zones: ['z1'] } }, true));
    await placed('e2e.failover', 6);
    await waitFor('all running', async () => (await c.listSets()).filter((s) => s.appkey.startsWith('e2e.')).every((s) => s.status === 'running'), 60_000, 500);
    const stateful = await c.getSet('e2e.stateful', 1);
    const victim = stateful.host as string;
    const onVictim = (await c.listSets({ appkey: 'e2e.failover' })).filter((s) => s.host === victim).map((s) => s.id);
    assert.ok(onVictim.length > 0, 'spread put some stateless sets on the victim');

    const t0 = Date.now();
    await cluster.killHost(victim);
    await waitFor('stateless sets running elsewhere', async () => {
      const sets = await c.listSets({ appkey: 'e2e.failover' });
      return sets.every((s) => s.host !== victim && s.status === 'running');
    }, 60_000, 500);
    const movedAfter = Date.now() - t0;
    assert.ok(movedAfter < 60_000, `moved after ${movedAfter} ms`);
    const waiting = await c.getSet('e2e.stateful', 1);
    assert.equal(waiting.host, victim, 'a set with a volume stays with its host');
    assert.ok((await c.setEvents('e2e.stateful', 1)).some((e) => e.reason === 'HostLost' && /local volume/.test(e.message)));

    await cluster.reviveHost(victim);
    // The returning agent removes the containers of the sets that moved away.
    await waitFor('moved sets gone from the returning host', async () => (await cluster.host(victim).containerIds('label=wharf.app=e2e.failover')).length === 0, 60_000, 500);
    for (const id of onVictim) {
      const runningOn = [];
      for (const h of cluster.hosts) {
        if ((await h.containerIds(`label=wharf.set=default/e2e.failover/${id}`)).length > 0) runningOn.push(h.name);
      }
      assert.equal(runningOn.length, 1, `set ${id} runs on ${runningOn.join(', ')}`);
    }
    await cluster.platform.waitRunning('e2e.stateful', 1, 60_000);
    process.stderr.write(`failover: stateless sets running elsewhere ${movedAfter} ms after the host died\n`);
  });
});
