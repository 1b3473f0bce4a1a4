/**
 * `wharf app`, `wharf scale` and `wharf endpoints`: the parsers and views, the
 * followers with fake clients and clocks, and the built CLI in child processes
 * against a small fake server whose pretend controller moves an app one step
 * toward its replica count on every GET of it. The spawned tests run in order and
 * build on each other's apps.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConnectionError } from '@wharf/client';
import { resolveAppSpec, type AppEvent, type AppSpec, type AppView, type Endpoints } from '@wharf/types';
import { describeApp, renderApps, renderEndpoints, scaleProgressLine } from '../format/apps.js';
import { recordingProgress } from '../progress.js';
import { iso, T0 } from '../testing/fixtures.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { parsePort, quickAppSpec } from './app.js';
import { watchEndpoints } from './endpoints.js';
import { followScale, parseReplicas } from './scale.js';
import { sendError, sendJson, startRouteServer } from '../testing/route-server.js';

const TEMPLATE: AppSpec['template'] = {
  resources: { cpu: 0.5, memory: '64Mi' },
  containers: [{ index: 1, image: 'web:1', options: { name: 'web', ports: [{ containerPort: 8080 }], readiness: { http: { port: 8080, path: '/' }, periodSeconds: 1 } } }],
};

function view(over: Partial<AppView> = {}): AppView {
  return {
    tenant: 'default', appkey: 'web', spec: { appkey: 'web', replicas: 4, template: TEMPLATE }, generation: 2,
    replicas: 4, current: 4, ready: 2, leaving: 1, standby: 0, phases: { running: 3, pending: 1, draining: 1 }, message: '2/4 ready; 1 leaving',
    sets: [
      { id: '1', status: 'running', ready: true, host: 'h1', ip: '10.0.0.11', createdAt: iso(T0 - 600_000) },
      { id: '2', status: 'running', ready: true, host: 'h1', ip: '10.0.0.12', outOfRotation: iso(T0 - 3_000), createdAt: iso(T0 - 600_000) },
      { id: '3', status: 'running', ready: false, host: 'h1', ip: '10.0.0.13', message: 'web is not ready', createdAt: iso(T0 - 60_000) },
      { id: '4', status: 'pending', ready: false, message: 'waiting to be scheduled', createdAt: iso(T0 - 5_000) },
      { id: '5', status: 'running', ready: true, host: 'h1', ip: '10.0.0.15', draining: iso(T0 - 2_000), createdAt: iso(T0 - 60_000) },
    ],
    createdAt: iso(T0 - 600_000), updatedAt: iso(T0 - 5_000),
    ...over,
  };
}

test('flags: --replicas, --port and the spec of a one-container app', () => {
  assert.equal(parseReplicas('0'), 0);
  assert.equal(parseReplicas('10000'), 10_000);
  for (const bad of ['-1', '1.5', 'ten', '10001']) assert.throws(() => parseReplicas(bad), /whole number of sets, 0 to 10000/);
  assert.deepEqual(parsePort('8080', [80]), [80, 8080]);
  assert.throws(() => parsePort('70000'), /a port, 1 to 65535/);
  const spec = quickAppSpec('web', { image: 'web:1', replicas: 3, cpu: 0.5, memory: '64Mi', port: [8080] });
  assert.deepEqual(spec, {
    appkey: 'web', replicas: 3,
    template: { resources: { cpu: 0.5, memory: '64Mi' }, containers: [{ index: 1, image: 'web:1', options: { name: 'main', ports: [{ containerPort: 8080 }] } }] },
  });
  assert.equal(resolveAppSpec(spec).ok, true);
  assert.deepEqual(quickAppSpec('web', { image: 'x' }).replicas, 1);
  assert.throws(() => quickAppSpec('web', {}), /--image IMG/);
});

test('docs/examples/app.yaml is a valid app spec', () => {
  const doc = parseYaml(readFileSync(new URL('../../../../docs/examples/app.yaml', import.meta.url), 'utf8')) as unknown;
  const r = resolveAppSpec(doc);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.spec.template.containers[0]?.options.readiness?.http?.port, 8080);
});

test('views: the apps table, the describe page, the progress line and the endpoints table', () => {
  assert.deepEqual(renderApps([view()], false, T0).split('\n'), [
    'APPKEY   REPLICAS   READY   SETS   LEAVING   AGE',
    'web      4          2/4     4      1         10m',
  ]);
  assert.deepEqual(renderApps([view()], true, T0).split('\n')[1], 'web      4          2/4     4      1         10m   web:1    0.5   64Mi     8080    newest-first, drain 5s   2/4 ready; 1 leaving');
  const events: AppEvent[] = [{ time: iso(T0 - 5_000), type: 'Normal', reason: 'ScaledOut', message: 'replicas 3 → 4: created 1 set (4)' }];
  assert.deepEqual(describeApp(view(), events, T0).split('\n'), [
    'Name:       web',
    'Tenant:     default',
    'Replicas:   4 desired, 4 current, 2 ready, 1 leaving',
    'Status:     2/4 ready; 1 leaving',
    'Template:   cpu 0.5, memory 64Mi',
    'Containers: web: web:1; ports 8080; readiness http :8080/ every 1s, timeout 1s, 3 failure(s)',
    'Scale-in:   newest-first, drain 5s',
    'Generation: 2',
    'Created:    2025-01-01T11:50:00.000Z (10m ago)',
    'Updated:    2025-01-01T11:59:55.000Z (5s ago)',
    '',
    'Sets:',
    '  ID   STATUS     READY   HOST     IP          AGE   MESSAGE',
    '  1    running    yes     h1       10.0.0.11   10m   <none>',
    '  2    running    yes     h1       10.0.0.12   10m   out of rotation for 3s (rollout)',
    '  3    running    no      h1       10.0.0.13   60s   web is not ready',
    '  4    pending    no      <none>   <none>      5s    waiting to be scheduled',
    '  5    draining   yes     h1       10.0.0.15   60s   draining for 2s',
    '',
    'Events:',
    '  AGE   TYPE     REASON      MESSAGE',
    '  5s    Normal   ScaledOut   replicas 3 → 4: created 1 set (4)',
  ]);
  assert.equal(scaleProgressLine(view()), 'web: [██████████░░░░░░░░░░] 2/4 ready · 1 leaving');
  assert.equal(scaleProgressLine(view({ current: 2, leaving: 0, phases: { failed: 1 } })), 'web: [██████████░░░░░░░░░░] 2/4 ready · 2 sets · 1 failed');
  const e: Endpoints = {
    tenant: 'default', appkey: 'web', revision: 7,
    endpoints: [
      { set: '1', host: 'h1', ip: '10.0.0.11', ports: [{ containerPort: 8080, protocol: 'tcp', container: 'web' }, { containerPort: 53, protocol: 'udp', container: 'dns' }], ready: true, draining: false },
      { set: '2', host: 'h2', ports: [{ containerPort: 8080, protocol: 'tcp', container: 'web' }], ready: true, draining: true },
    ],
  };
  assert.deepEqual(renderEndpoints(e, true).split('\n'), [
    'SET   HOST   IP:PORT                           READY   DRAINING',
    '1     h1     10.0.0.11:8080,10.0.0.11:53/udp   yes     no',
    '2     h2     <no IP> 8080                      yes     yes',
  ]);
  assert.equal(renderEndpoints({ ...e, endpoints: [] }, false), 'app web has no ready sets');
});

test('following a scale: a progress line per change until every set is ready and none is leaving', async () => {
  const script = [view(), view({ ready: 3 }), view({ ready: 4, leaving: 0 })];
  let polls = 0;
  const sleeps: number[] = [];
  const progress = recordingProgress();
  const done = await followScale({
    client: { getApp: async () => script[Math.min(polls++, script.length - 1)] as AppView },
    clock: { now: () => T0, sleep: async (ms) => void sleeps.push(ms) }, progress, appkey: 'web', replicas: 4, timeoutMs: 60_000,
  });
  assert.equal(done.ready, 4);
  assert.deepEqual(progress.lines, ['web: [██████████░░░░░░░░░░] 2/4 ready · 1 leaving', 'web: [███████████████░░░░░] 3/4 ready · 1 leaving']);
  assert.deepEqual(progress.final, { ok: true, text: 'web: [████████████████████] 4/4 ready' });
  assert.deepEqual(sleeps, [500, 500]);

  let now = T0;
  await assert.rejects(
    followScale({ client: { getApp: async () => view() }, clock: { now: () => now, sleep: async (ms) => void (now += ms) }, progress: recordingProgress(), appkey: 'web', replicas: 4, timeoutMs: 2000 }),
    (err: Error & { lines?: string[] }) => {
      assert.equal(err.message, 'timed out after 2s waiting for app web to have 4 ready sets; it has 2/4 ready, 1 still leaving');
      assert.deepEqual(err.lines, ['  set web/3: running (web is not ready)', '  set web/4: pending (waiting to be scheduled)']);
      return true;
    },
  );
  await assert.rejects(
    followScale({ client: { getApp: async () => view({ replicas: 9 }) }, clock: { now: () => T0, sleep: async () => undefined }, progress: recordingProgress(), appkey: 'web', replicas: 4, timeoutMs: 2000 }),
    /app web was scaled to 9 meanwhile; stopped waiting for 4/,
  );
});

test('watching endpoints: every new revision once, a lost connection retried, until aborted', async () => {
  const answers: (Endpoints | Error)[] = [
    { tenant: 'default', appkey: 'web', revision: 5, endpoints: [] },
    { tenant: 'default', appkey: 'web', revision: 5, endpoints: [] },
    new ConnectionError('http://x', new Error('ECONNREFUSED')),
    { tenant: 'default', appkey: 'web', revision: 9, endpoints: [] },
  ];
  const asked: number[] = [];
  const seen: number[] = [];
  const retries: string[] = [];
  const abort = new AbortController();
  await watchEndpoints({
    client: {
      endpoints: async (_appkey, opts) => {
        asked.push(opts?.revision ?? -1);
        const a = answers.shift();
        if (!a) {
          abort.abort();
          throw new Error('aborted');
        }
        if (a instanceof Error) throw a;
        return a;
      },
    },
    clock: { now: () => T0, sleep: async () => undefined }, appkey: 'web', all: false, signal: abort.signal,
    onChange: (e) => void seen.push(e.revision), onRetry: (err) => void retries.push(err.message),
  });
  assert.deepEqual(seen, [5, 9]);
  assert.deepEqual(asked, [0, 5, 5, 5, 9]);
  assert.equal(retries.length, 1);
});

interface FakeApp {
  spec: AppSpec;
  generation: number;
  deleting: boolean;
  sets: { id: string; ready: boolean; leaving: boolean }[];
  events: AppEvent[];
  createdAt: string;
}

/** A stand-in for the app routes with a pretend controller and agents: one step per GET of an app. */
async function startFakeAppServer() {
  const apps = new Map<string, FakeApp>();
  const send = sendJson;
  const error = sendError;

  function step(key: string, a: FakeApp): void {
    if (a.deleting) {
      a.sets.pop();
      if (a.sets.length === 0) apps.delete(key);
      return;
    }
    a.sets = a.sets.filter((s) => !s.leaving);
    const waiting = a.sets.find((s) => !s.ready);
    if (waiting) waiting.ready = true;
    const active = a.sets.length;
    for (let n = 1; a.sets.length < a.spec.replicas; n++) if (!a.sets.some((s) => s.id === String(n))) a.sets.push({ id: String(n), ready: false, leaving: false });
    a.sets.sort((x, y) => Number(x.id) - Number(y.id));
    for (const s of a.sets.slice(a.spec.replicas)) s.leaving = true;
    if (a.sets.length !== active) a.events.push({ time: new Date().toISOString(), type: 'Normal', reason: 'ScaledOut', message: `replicas ${active} → ${a.spec.replicas}` });
  }

  function viewOf(a: FakeApp): AppView {
    const active = a.sets.filter((s) => !s.leaving);
    const ready = active.filter((s) => s.ready).length;
    return {
      tenant: 'default', appkey: a.spec.appkey, spec: a.spec, generation: a.generation, ...(a.deleting ? { deleting: true } : {}),
      replicas: a.spec.replicas, current: active.length, ready, leaving: a.sets.length - active.length, standby: 0, phases: {}, message: `${ready}/${a.spec.replicas} ready`,
      sets: a.sets.map((s) => ({ id: s.id, status: s.ready ? 'running' : 'pending', ready: s.ready, ...(s.leaving ? { draining: new Date().toISOString() } : {}), createdAt: a.createdAt })),
      createdAt: a.createdAt, updatedAt: a.createdAt,
    };
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const [v1, kind, appkey, sub] = url.pathname.split('/').filter(Boolean);
    if (v1 !== 'v1' || kind !== 'apps') return error(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
    if (!appkey && req.method === 'GET') return send(res, 200, [...apps.values()].map(viewOf));
    const a = apps.get(appkey ?? '');
    if (req.method === 'PUT' && !sub) {
      const spec = JSON.parse(body) as AppSpec;
      const r = resolveAppSpec(spec);
      if (!r.ok) return error(res, 400, 'VALIDATION_FAILED', `${r.errors[0]?.path}: ${r.errors[0]?.message}`, { errors: r.errors });
      if (a && req.headers['if-none-match'] === '*') return error(res, 409, 'APP_EXISTS', `app ${appkey} exists in tenant default; change it with apply, or scale it`, { appkey });
      const next: FakeApp = a ? { ...a, spec, generation: a.generation + 1 } : { spec, generation: 1, deleting: false, sets: [], events: [], createdAt: new Date().toISOString() };
      apps.set(appkey as string, next);
      return send(res, a ? 200 : 201, viewOf(next));
    }
    if (!a) return error(res, 404, 'APP_NOT_FOUND', `app ${appkey} not found in tenant default`);
    if (req.method === 'GET' && !sub) {
      step(appkey as string, a);
      return apps.has(appkey as string) ? send(res, 200, viewOf(a)) : error(res, 404, 'APP_NOT_FOUND', `app ${appkey} not found in tenant default`);
    }
    if (req.method === 'GET' && sub === 'events') return send(res, 200, a.events);
    if (req.method === 'POST' && sub === 'scale') {
      a.spec = { ...a.spec, replicas: (JSON.parse(body) as { replicas: number }).replicas };
      a.generation++;
      return send(res, 200, viewOf(a));
    }
    if (req.method === 'DELETE' && !sub) {
      a.deleting = true;
      return send(res, 202, viewOf(a));
    }
    if (req.method === 'GET' && sub === 'endpoints') {
      const ports = a.spec.template.containers.flatMap((c) => (c.options.ports ?? []).map((p) => ({ containerPort: p.containerPort, protocol: p.protocol ?? 'tcp', container: c.options.name })));
      const endpoints = a.sets.filter((s) => s.ready && !s.leaving).map((s) => ({ set: s.id, host: 'h1', ip: `10.0.0.${10 + Number(s.id)}`, ports, ready: true, draining: false }));
      return send(res, 200, { tenant: 'default', appkey, revision: endpoints.length + 1, endpoints });
    }
    return error(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
  }

  const server = await startRouteServer(handle);
  return { ...server, apps };
}

describe('wharf app, scale and endpoints (built CLI, fake server)', () => {
  let server: Awaited<ReturnType<typeof startFakeAppServer>>;
  let home: string;
  const wharf = (...args: string[]): Promise<CliResult> => runCli(args, { server: server.url, home });
  const last = (method: string) => server.requests.filter((r) => r.method === method).at(-1);

  before(async () => {
    server = await startFakeAppServer();
    home = mkdtempSync(join(tmpdir(), 'wharf-app-test-'));
  });

  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('app create from flags asks for a new app only (If-None-Match: *); a second create says how to change it', async () => {
    const r = await wharf('app', 'create', 'web', '--image', 'web:1', '--replicas', '2', '--cpu', '0.5', '--memory', '64Mi', '--port', '8080');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app web created (2 replicas)\n');
    const put = last('PUT');
    assert.equal(put?.url, '/v1/apps/web');
    assert.equal(put?.headers['if-none-match'], '*');
    assert.deepEqual(JSON.parse(put?.body ?? ''), quickAppSpec('web', { image: 'web:1', replicas: 2, cpu: 0.5, memory: '64Mi', port: [8080] }));
    const again = await wharf('app', 'create', 'web', '--image', 'web:1');
    assert.deepEqual([again.code, again.stderr], [1, 'wharf: app web exists in tenant default; change it with apply, or scale it\n  change it with: wharf app apply -f FILE, or: wharf scale web --replicas N\n']);
  });

  it('app create -f reads YAML and names bad fields one per line; usage errors exit 2', async () => {
    const file = join(home, 'api.yaml');
    writeFileSync(file, 'appkey: api\nreplicas: 1\ntemplate:\n  containers:\n    - index: 1\n      image: api:1\n      options: { name: api, ports: [{ containerPort: 9000 }] }\n');
    const r = await wharf('app', 'create', '-f', file, '--wait', '--timeout', '20s');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app api created (1 replica)\n');
    assert.equal(r.stderr.trimEnd().split('\n').at(-1), 'api: [████████████████████] 1/1 ready');
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'appkey: bad\nreplicas: 1\ntemplate:\n  containers:\n    - index: 1\n      image: ""\n      options: { name: x }\n');
    const b = await wharf('app', 'create', '-f', bad);
    assert.deepEqual([b.code, b.stderr], [1, `wharf: invalid app spec in ${bad} (1 error):\n  template.containers[0].image: must not be empty\n`]);
    for (const args of [['app', 'create'], ['app', 'create', 'x', '-f', file], ['scale', 'web'], ['scale', 'web', '--replicas', '-3'], ['app', 'create', 'x', '--image', 'i', '--port', '0']]) {
      const u = await wharf(...args);
      assert.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
    }
  });

  it('scale --wait: a progress bar until every set is ready; scale-in until only N sets remain', async () => {
    const out = await wharf('scale', 'web', '--replicas', '4', '--wait');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'app web scaled: replicas 2 → 4\n');
    assert.deepEqual(JSON.parse(last('POST')?.body ?? ''), { replicas: 4 });
    const lines = out.stderr.trimEnd().split('\n');
    assert.ok(lines.some((l) => /^web: \[█+░+\] [0-3]\/4 ready/.test(l)), out.stderr);
    assert.equal(lines.at(-1), 'web: [████████████████████] 4/4 ready');

    const inward = await wharf('scale', 'web', '--replicas', '1', '--wait');
    assert.equal(inward.code, 0, inward.stderr);
    assert.equal(inward.stdout, 'app web scaled: replicas 4 → 1\n');
    assert.ok(inward.stderr.includes('· 3 leaving'), inward.stderr);
    assert.equal(inward.stderr.trimEnd().split('\n').at(-1), 'web: [████████████████████] 1/1 ready');
    assert.equal(server.apps.get('web')?.sets.length, 1);
  });

  it('app get, get -o json, describe and endpoints', async () => {
    const get = await wharf('app', 'get');
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^APPKEY +REPLICAS +READY +SETS +LEAVING +AGE\napi +1 +1\/1 +1 +0 +\d+s\nweb +1 +1\/1 +1 +0 +\d+s\n$/);
    const one = JSON.parse((await wharf('app', 'get', 'web', '-o', 'json')).stdout) as AppView;
    assert.equal(one.appkey, 'web');
    const d = await wharf('app', 'describe', 'web');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^Replicas: +1 desired, 1 current, 1 ready, 0 leaving$/m);
    assert.match(d.stdout, /^Containers: +main: web:1; ports 8080$/m);
    assert.match(d.stdout, /^ {2}\d+s +Normal +ScaledOut +replicas 2 → 4$/m);
    const e = await wharf('endpoints', 'web');
    assert.deepEqual([e.code, e.stdout], [0, 'SET   HOST   IP:PORT          READY\n1     h1     10.0.0.11:8080   yes\n']);
    const j = JSON.parse((await wharf('endpoints', 'web', '-o', 'json')).stdout) as Endpoints;
    assert.deepEqual(j.endpoints.map((x) => x.set), ['1']);
    const none = await wharf('endpoints', 'nope');
    assert.deepEqual([none.code, none.stderr], [1, 'wharf: app nope not found in tenant default\n']);
  });

  it('app delete --wait follows the sets until the app is gone', async () => {
    const r = await wharf('app', 'delete', 'web', '--wait');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app web deleted\n');
    assert.equal(server.apps.has('web'), false);
    const gone = await wharf('app', 'describe', 'web');
    assert.deepEqual([gone.code, gone.stderr], [1, 'wharf: app web not found in tenant default\n']);
  });
});
