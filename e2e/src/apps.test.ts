/**
 * Apps on one real host with platform IPs: docs/examples/app.yaml (busybox httpd
 * sets with an http readiness probe on port 8080) created with 2 replicas, scaled
 * to 5 with `wharf scale --wait` (5 ready sets, 5 endpoints that answer HTTP), then
 * to 2: the 3 newest sets drain (gone from the endpoints while their containers
 * still run), then stop and disappear; `wharf endpoints --watch` in the background
 * sees every change; a warm pool of 2 runs paused out of the endpoints, and a scale-out
 * resumes its containers; `wharf app delete --wait` leaves no container. A network
 * policy lets the switch (standing in for a load balancer) reach the sets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WharfClient } from '@wharf/client';
import type { AppView, Endpoints } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { waitFor } from './harness/exec.js';
import { inNetns } from './harness/network.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'docs/examples/app.yaml');
const APP = 'com.example.hello';

/** `wharf endpoints APP --watch -o json` in the background: one JSON document per change. */
function watchInBackground(cluster: Cluster): { child: ChildProcess; seen: Endpoints[]; stderr: () => string } {
  const p = cluster.platform;
  const env = { ...process.env, WHARF_SERVER: p.url, WHARF_TOKEN: p.adminToken, WHARF_CONFIG: join(p.dir, 'no-config.json') };
  const child = spawn(process.execPath, [join(ROOT, 'bin/wharf'), 'endpoints', APP, '--watch', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: Endpoints[] = [];
  let buffered = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) seen.push(JSON.parse(line) as Endpoints);
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, seen, stderr: () => err };
}

describe('apps: scale out and in with endpoints, on a real Docker engine', () => {
  let cluster: Cluster;
  let c: WharfClient;
  let watcher: ReturnType<typeof watchInBackground> | undefined;

  before(async () => {
    cluster = await Cluster.start(1);
    c = cluster.platform.client;
    await cluster.addLan();
    // Sets accept only their own tenant by default: let the switch (a stand-in for a load balancer) in on 8080.
    await c.applyPolicy({ appkey: APP, name: 'lb', ingress: [{ from: [{ cidr: `${cluster.gateway}/32` }], ports: [{ port: 8080 }] }] });
  });

  after(async () => {
    watcher?.child.kill('SIGTERM');
    await cluster?.stop();
  });

  /** The page a set serves, fetched from the switch (outside the host) by the endpoint's IP and port. */
  async function fetchPage(ip: string, port: number): Promise<string | undefined> {
    const r = await inNetns(cluster.switch.netns, 'curl', ['-s', '-m', '3', `http://${ip}:${port}/index.html`]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }

  /** Docker's state of each set's web container, by set id. */
  async function webStates(ids: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const id of ids) {
      const r = await cluster.host('h1').docker(['inspect', '-f', '{{.State.Status}}', `default_${APP}_${id}_web`]);
      out[id] = r.code === 0 ? r.stdout.trim() : 'gone';
    }
    return out;
  }

  it('creates the app with 2 ready sets', async () => {
    const r = await cluster.platform.cli(['app', 'create', '-f', EXAMPLE, '--wait', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `app ${APP} created (2 replicas)\n`);
    const app = await c.getApp(APP);
    assert.deepEqual([app.ready, app.sets.map((s) => s.id)], [2, ['1', '2']]);
    watcher = watchInBackground(cluster);
    await waitFor('the watch prints the 2 endpoints', async () => watcher?.seen.at(-1)?.endpoints.length === 2, 10_000);
  });

  it('wharf scale --replicas 5 --wait: 5 ready sets, 5 endpoints that answer on their IP and port', async () => {
    const r = await cluster.platform.cli(['scale', APP, '--replicas', '5', '--wait', '--timeout', '90s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `app ${APP} scaled: replicas 2 → 5\n`);
    assert.match(r.stderr, /5\/5 ready\n$/);
    const app = await c.getApp(APP);
    assert.deepEqual([app.ready, app.current, app.sets.map((s) => s.id)], [5, 5, ['1', '2', '3', '4', '5']]);
    const e = await c.endpoints(APP);
    assert.equal(e.endpoints.length, 5);
    for (const x of e.endpoints) {
      assert.ok(x.ip, `set ${x.set} has a platform IP`);
      assert.deepEqual(x.ports, [{ containerPort: 8080, protocol: 'tcp', container: 'web' }]);
      assert.ok(await fetchPage(x.ip, 8080), `set ${x.set} answers at ${x.ip}:8080`);
    }
    await waitFor('the watch sees 5 endpoints', async () => watcher?.seen.at(-1)?.endpoints.length === 5, 10_000);
    const table = await cluster.platform.cli(['endpoints', APP]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^SET +HOST +IP:PORT +READY\n1 +h1 +\d+\.\d+\.\d+\.\d+:8080 +yes\n/);
  });

  it('scale to 2: the 3 newest drain, out of the endpoints while their containers still run, then stop and disappear', async () => {
    const r = await cluster.platform.cli(['scale', APP, '--replicas', '2']);
    assert.equal(r.code, 0, r.stderr);
    const draining = await waitFor('3 sets draining', async () => {
      const app = await c.getApp(APP);
      return app.sets.filter((s) => s.draining).length === 3 ? app : undefined;
    }, 10_000, 50);
    assert.deepEqual(draining.sets.filter((s) => s.draining).map((s) => s.id), ['3', '4', '5']);
    const e = await c.endpoints(APP);
    assert.deepEqual(e.endpoints.map((x) => x.set), ['1', '2']);
    assert.deepEqual(await webStates(['3', '4', '5']), { 3: 'running', 4: 'running', 5: 'running' }, 'out of the endpoints before they stop');
    const all = await c.endpoints(APP, { all: true });
    assert.deepEqual(all.endpoints.filter((x) => x.draining).map((x) => x.set), ['3', '4', '5']);

    const done = await waitFor('only 2 sets left', async () => {
      const app: AppView = await c.getApp(APP);
      return app.sets.length === 2 ? app : undefined;
    }, 60_000, 200);
    assert.deepEqual(done.sets.map((s) => s.id), ['1', '2']);
    assert.deepEqual(await webStates(['3', '4', '5']), { 3: 'gone', 4: 'gone', 5: 'gone' });
    const events = await c.appEvents(APP);
    assert.ok(events.some((x) => x.reason === 'ScaledIn' && /draining 3 sets \(3\.\.5\) for 5s, newest first/.test(x.message)), JSON.stringify(events));
    assert.ok(events.some((x) => x.reason === 'Drained'), JSON.stringify(events));
    const sets3 = await c.setEvents(APP, 1);
    assert.ok(!sets3.some((x) => x.reason === 'Draining'), 'the sets that stay were never drained');

    // The watch saw 2, then 5, then 2 again (the drained sets dropping at once).
    const counts = (watcher?.seen ?? []).map((x) => x.endpoints.length);
    const five = counts.indexOf(5);
    assert.ok(five > 0 && counts.slice(five).includes(2) && counts[0] === 2, `endpoint counts seen by the watch: ${counts.join(', ')}; ${watcher?.stderr()}`);
  });

  it('a warm pool: standby sets run paused out of the endpoints; a scale-out resumes the same containers and the pool refills', async () => {
    const r = await cluster.platform.cli(['scale', APP, '--replicas', '2', '--warm-pool', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `app ${APP} scaled: replicas 2 → 2, warm pool 0 → 2\n`);
    const standbyIds = async (): Promise<string[] | undefined> => {
      const app = await c.getApp(APP);
      const ids = app.sets.filter((s) => s.standby && s.status === 'standby').map((s) => s.id);
      return ids.length === 2 ? ids : undefined;
    };
    const pooled = await waitFor('2 standby sets paused', standbyIds, 60_000, 200);
    assert.deepEqual(pooled, ['3', '4']);
    assert.deepEqual(await webStates(pooled), { 3: 'paused', 4: 'paused' });
    assert.deepEqual((await c.endpoints(APP)).endpoints.map((x) => x.set), ['1', '2'], 'standby sets take no traffic');
    const idOf = async (id: string) => (await cluster.host('h1').docker(['inspect', '-f', '{{.Id}}', `default_${APP}_${id}_web`])).stdout.trim();
    const before = await Promise.all(pooled.map(idOf));

    const s = await cluster.platform.cli(['scale', APP, '--replicas', '4', '--wait', '--timeout', '60s']);
    assert.equal(s.code, 0, s.stderr);
    const app = await c.getApp(APP);
    assert.deepEqual([app.current, app.ready], [4, 4]);
    assert.deepEqual(await Promise.all(pooled.map(idOf)), before, 'the standby containers were resumed, not recreated');
    assert.deepEqual(await webStates(pooled), { 3: 'running', 4: 'running' });
    const e = await c.endpoints(APP);
    assert.deepEqual(e.endpoints.map((x) => x.set), ['1', '2', '3', '4']);
    for (const x of e.endpoints.filter((y) => pooled.includes(y.set))) assert.ok(await fetchPage(x.ip ?? '', 8080), `resumed set ${x.set} answers`);
    const events = await c.appEvents(APP);
    assert.ok(events.some((x) => x.reason === 'ScaledOut' && x.message === 'replicas 2 → 4: resumed 2 sets of the warm pool (3, 4)'), JSON.stringify(events));
    assert.ok((await c.setEvents(APP, 3)).some((x) => x.reason === 'Unpaused'), 'the agent unpaused set 3');
    assert.deepEqual(await waitFor('the pool refilled', standbyIds, 60_000, 200), ['5', '6']);

    // Back to 2 without a pool: the paused sets are deleted too.
    const back = await cluster.platform.cli(['scale', APP, '--replicas', '2', '--warm-pool', '0']);
    assert.equal(back.code, 0, back.stderr);
    await waitFor('2 sets left', async () => (await c.getApp(APP)).sets.length === 2, 60_000, 200);
    assert.deepEqual(await webStates(['3', '4', '5', '6']), { 3: 'gone', 4: 'gone', 5: 'gone', 6: 'gone' });
  });

  it('wharf app delete --wait leaves no container', async () => {
    const r = await cluster.platform.cli(['app', 'delete', APP, '--wait', '--timeout', '60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `app ${APP} deleted\n`);
    assert.deepEqual(await cluster.host('h1').containerIds(`label=wharf.app=${APP}`), []);
    assert.deepEqual(await c.listSets({ appkey: APP }), []);
    const gone = await cluster.platform.cli(['app', 'get', APP]);
    assert.deepEqual([gone.code, gone.stderr], [1, `wharf: app ${APP} not found in tenant default\n`]);
  });
});
