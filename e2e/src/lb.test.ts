/**
 * The load balancer on one real host with platform IPs: an app of busybox httpd
 * sets with a readiness probe and `lb: { port: 8081, targetPort: 8080 }`. A steady
 * load of 20 requests a second (a new connection each) goes through HAProxy while
 * the app scales 2 → 10, a gray update replaces the web container of every set,
 * 2 at a time (each batch leaves the endpoints and drains first), and the app
 * scales back to 2: not one request fails. HAProxy runs in the switch's namespace
 * (where the sets' IPs are reachable, like a load balancer in front of the racks),
 * through a `--haproxy` wrapper; a network policy lets the switch in on 8080.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { WharfClient } from '@wharf/client';
import type { LbView } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { waitFor } from './harness/exec.js';
import { VERSION_WEB as WEB, buildImage } from './harness/images.js';
import { netnsPath } from './harness/network.js';
import { startHttpLoad, type HttpLoad } from './harness/http-load.js';

const APP = 'com.example.lb';
const V2 = 'wharf/lb:v2';
const LB_PORT = 8081;
const RPS = 20;
const PEAK = 10;

function haproxyBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy || ls /usr/sbin/haproxy'], { encoding: 'utf8' }).trim().split('\n')[0] || undefined;
  } catch {
    return undefined;
  }
}

const haproxy = haproxyBinary();
const skip = !haproxy && !process.env.CI ? 'haproxy is not installed' : false;

/** HAProxy's retry and redispatch counters of the app's backend (`show stat`), for the log. */
async function backendRetries(adminSocket: string): Promise<string> {
  const csv = await new Promise<string>((resolve) => {
    let out = '';
    const sock = connect(adminSocket, () => sock.end('show stat\n'));
    sock.setEncoding('utf8').on('data', (d: string) => (out += d)).on('close', () => resolve(out)).on('error', () => resolve(''));
  });
  const [header, ...rows] = csv.replace(/^# /, '').split('\n');
  const cols = (header ?? '').split(',');
  const row = rows.map((r) => r.split(',')).find((f) => f[0] === `app:default:${APP}` && f[1] === 'BACKEND');
  return row ? `retries ${row[cols.indexOf('wretr')]}, redispatches ${row[cols.indexOf('wredis')]}` : 'counters unavailable';
}

/** Every answer of the app's endpoints watch (its serving set ids), until stopped. */
function watchServing(c: WharfClient) {
  const seen: string[][] = [];
  const abort = new AbortController();
  const loop = (async () => {
    let revision = 0;
    while (!abort.signal.aborted) {
      const e = await c.endpoints(APP, { watch: true, revision, timeoutSeconds: 30, signal: abort.signal }).catch((err: unknown) => {
        if (abort.signal.aborted) return undefined;
        throw err;
      });
      if (!e) return;
      if (e.revision !== revision) seen.push(e.endpoints.map((x) => x.set));
      revision = e.revision;
    }
  })();
  return {
    seen,
    async stop(): Promise<string[][]> {
      abort.abort();
      await loop;
      return seen;
    },
  };
}

function appSpec(replicas: number) {
  return {
    appkey: APP,
    replicas,
    template: {
      resources: { cpu: 0.1, memory: '64Mi' },
      containers: [{ index: 1, image: 'wharf/busybox:latest', options: { name: 'web', ports: [{ containerPort: 8080 }], readiness: { http: { port: 8080 }, periodSeconds: 1 }, command: { cmd: '/bin/sh', args: ['-c', WEB] } } }],
    },
    scaleIn: { drainSeconds: 3 },
    lb: { port: LB_PORT, targetPort: 8080, maxSets: 16 },
  };
}

describe('load balancer: zero failed requests through scaling and a gray update', { skip }, () => {
  let cluster: Cluster;
  let c: WharfClient;
  let dir: string;
  let load: HttpLoad | undefined;
  const previousHaproxy = process.env.WHARF_HAPROXY;

  const slots = (lb: LbView, state: string) => lb.slots.filter((s) => s.state === state);
  /** Waits until the backend has exactly `n` ready slots and no draining one. */
  const settled = (n: number) => waitFor(`${n} ready slots and none draining`, async () => {
    const lb = await c.appLb(APP);
    return slots(lb, 'ready').length === n && slots(lb, 'drain').length === 0 ? lb : undefined;
  }, 60_000, 200);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-lb-e2e-'));
    // wharf-server starts HAProxy with WHARF_HAPROXY: this one runs it in the switch's namespace.
    const wrapper = join(dir, 'haproxy');
    await writeFile(wrapper, `#!/bin/sh\nexec nsenter --net=${netnsPath(`wharf-e2e-tor-${process.pid}`)} ${haproxy ?? 'haproxy'} "$@"\n`);
    await chmod(wrapper, 0o755);
    process.env.WHARF_HAPROXY = wrapper;
    cluster = await Cluster.start(1);
    assert.equal(cluster.switch.netns, `wharf-e2e-tor-${process.pid}`);
    c = cluster.platform.client;
    await cluster.addLan();
    await c.applyPolicy({ appkey: APP, name: 'lb', ingress: [{ from: [{ cidr: `${cluster.gateway}/32` }], ports: [{ port: 8080 }] }] });
    await buildImage(cluster.host('h1'), V2, ['RUN echo v2 > /version']);
  });

  after(async () => {
    await load?.stop();
    await cluster?.stop();
    if (previousHaproxy === undefined) delete process.env.WHARF_HAPROXY;
    else process.env.WHARF_HAPROXY = previousHaproxy;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('GET /v1/apps/APP/lb: 2 ready slots once the 2 sets are ready', async () => {
    await c.createApp(appSpec(2));
    const lb = await settled(2);
    assert.equal(lb.running, true);
    assert.deepEqual(lb.frontend, appSpec(2).lb);
    assert.equal(lb.slots.length, 16);
    assert.deepEqual(slots(lb, 'ready').map((s) => s.set).sort(), ['1', '2']);
    const described = await cluster.platform.cli(['app', 'describe', APP]);
    assert.match(described.stdout, /Load balancer:\s+0\.0\.0\.0:8081 → 8080 \(16 slots\)/);
  });

  it(`${RPS} req/s through HAProxy while scaling 2 → ${PEAK}, updating every set 2 at a time, and scaling back to 2: no request fails`, async () => {
    load = startHttpLoad({ netns: cluster.switch.netns, url: `http://127.0.0.1:${LB_PORT}/`, rps: RPS });
    await waitFor('the load gets answers', async () => load!.current().ok >= RPS, 10_000);

    const out = await cluster.platform.cli(['scale', APP, '--replicas', String(PEAK), '--wait', '--timeout', '120s']);
    assert.equal(out.code, 0, out.stderr);
    await settled(PEAK);

    const watch = watchServing(c);
    const gray = await cluster.platform.cli(['rollout', 'start', APP, '--container', 'web', '--image', V2, '--batch', '2', '--wait', '--timeout', '180s']);
    assert.equal(gray.code, 0, `${gray.stdout}${gray.stderr}`);
    await settled(PEAK);
    const ids = Array.from({ length: PEAK }, (_, i) => String(i + 1));
    await waitFor('the endpoints watch sees every set back', async () => watch.seen.at(-1)?.length === PEAK, 30_000);
    const seen = await watch.stop();
    for (const id of ids) assert.ok(seen.some((list) => !list.includes(id)), `set ${id} left the endpoints during the update: ${JSON.stringify(seen)}`);
    assert.deepEqual([...(seen.at(-1) ?? [])].sort(), [...ids].sort(), 'and every set is back');
    const reasons = (await c.setEvents(APP, 1)).map((e) => e.reason).filter((r) => r.startsWith('Rollout'));
    assert.deepEqual(reasons, ['RolloutDraining', 'RolloutUpdating'], 'set 1 drained before its container was replaced');

    const back = await cluster.platform.cli(['scale', APP, '--replicas', '2', '--wait', '--timeout', '60s']);
    assert.equal(back.code, 0, back.stderr);
    await settled(2);


    const result = await load.stop();
    load = undefined;
    const retries = await backendRetries(join(cluster.platform.serverDir, 'lb', 'admin.sock'));
    console.log(`load balancer e2e: ${result.sent} requests, ${result.ok} ok, ${result.failed} failed; HAProxy ${retries}`);
    assert.deepEqual(result.errors, []);
    assert.equal(result.failed, 0);
    assert.ok(result.ok >= RPS * 5, `the load ran (${result.ok} answers)`);
  });
});
