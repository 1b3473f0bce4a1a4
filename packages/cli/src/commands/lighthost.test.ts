/**
 * `wharf lighthost create|ls|rm`: the set spec a light host is and the table in-process;
 * then the built CLI against a real wharf-server (child processes both) with a
 * registered host that reports its images: flag checks before anything is sent, the
 * set it creates, a name taken, an image no host has, a tenant's quota, ls and rm.
 * The light host running on a real engine is e2e/src/lighthost.test.ts.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import { WharfError, resolveSetSpec, type SetView } from '@wharf/types';
import { makeSet, T0, iso } from '../testing/fixtures.js';
import { startRealServer, type RealServer } from '../testing/real-server.js';
import { runCli, type CliResult } from '../testing/run-cli.js';
import { lighthostName, lighthostSpec, parseLighthostName, renderLighthosts } from './lighthost.js';

const GiB = 1024 ** 3;

test('a light host is set lighthost.NAME/1: one container "host", the volume at /data sized by --disk', () => {
  const spec = lighthostSpec('dev-alice', { cpu: 2, memory: '4Gi', disk: '20Gi' });
  assert.deepEqual(spec, {
    appkey: 'lighthost.dev-alice',
    id: 1,
    resources: { cpu: 2, memory: '4Gi', disk: '20Gi' },
    containers: [{ index: 0, image: 'wharf/debian:12', options: { name: 'host', volumes: [{ path: '/data' }], labels: { lighthost: 'dev-alice' } } }],
  });
  const r = resolveSetSpec(spec);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual([r.set.cpu, r.set.memoryBytes, r.set.diskBytes], [2, 4 * GiB, 20 * GiB]);
  assert.deepEqual(r.set.containers.map((c) => [c.name, c.nanoCpus, c.memoryBytes, c.volumePaths, c.entrypoint]), [['host', 2e9, 4 * GiB, ['/data'], undefined]]);

  const defaults = lighthostSpec('x', { image: 'registry.internal:5000/os/debian:12', network: 'lan' });
  assert.deepEqual(defaults.resources, { cpu: 1, memory: '1Gi', disk: '10Gi' });
  assert.deepEqual(defaults.network, { name: 'lan' });
  assert.equal(defaults.containers[0]?.image, 'registry.internal:5000/os/debian:12');
  assert.ok(resolveSetSpec(defaults).ok);
});

test('names are DNS labels; only set 1 of a lighthost. appkey is a light host', () => {
  for (const ok of ['a', 'dev-alice', '0x', 'a'.repeat(63)]) assert.equal(parseLighthostName(ok), ok);
  for (const bad of ['', 'Dev', 'a_b', 'a.b', '-a', 'a-', 'a'.repeat(64)]) assert.throws(() => parseLighthostName(bad), /lowercase letters, digits and "-"/, bad);
  assert.equal(lighthostName({ appkey: 'lighthost.dev', id: '1' }), 'dev');
  assert.equal(lighthostName({ appkey: 'lighthost.dev', id: '2' }), undefined);
  assert.equal(lighthostName({ appkey: 'com.lighthost.dev', id: '1' }), undefined);
});

test('the light host table', () => {
  const host = (name: string, over: Partial<SetView>) => makeSet({
    appkey: `lighthost.${name}`, spec: lighthostSpec(name, {}), resources: { cpu: 2, memory: 4 * GiB, disk: 20 * GiB }, createdAt: iso(T0 - 120_000), ...over,
  });
  assert.deepEqual(renderLighthosts([host('web', {}), host('db', { status: 'pending', ips: [], host: undefined })], T0).split('\n'), [
    'NAME   STATUS    HOST     IP          CPU   MEMORY   DISK   IMAGE             AGE',
    'db     pending   <none>   <none>      2     4Gi      20Gi   wharf/debian:12   2m',
    'web    running   h1       10.99.0.5   2     4Gi      20Gi   wharf/debian:12   2m',
  ]);
});

describe('lighthost commands against a real wharf-server', () => {
  let server: RealServer;
  let client: WharfClient;
  const root = mkdtempSync(join(tmpdir(), 'wharf-cli-lighthost-'));
  const adminHome = join(root, 'admin');
  const bobHome = join(root, 'bob');
  const admin = (args: string[], stdin?: string) => runCli(args, { server: server.url, home: adminHome, env: { WHARF_TOKEN: server.admin }, ...(stdin !== undefined ? { stdin } : {}) });
  const bob = (args: string[], stdin?: string) => runCli(args, { server: server.url, home: bobHome, ...(stdin !== undefined ? { stdin } : {}) });
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  /** A refusal: the exit code and one line on stderr (usage errors add commander's "(add --help for usage)"). */
  const fails = (r: CliResult, code: number, message: RegExp) => {
    assert.equal(r.code, code, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, code === 2 ? 2 : 1, `one line: ${r.stderr}`);
  };
  const lighthosts = async (tenant?: string) => (await client.forTenant(tenant).listSets()).filter((s) => s.appkey.startsWith('lighthost.'));

  before(async () => {
    for (const home of [adminHome, bobHome]) mkdirSync(home);
    server = await startRealServer();
    client = new WharfClient({ server: server.url, token: server.admin });
    // A host as its agent registers it: the images on its engine are what create checks.
    await client.registerHost({
      name: 'h1', zone: 'z1', rack: 'r1', labels: {}, capacity: { cpu: 8, memory: 16 * GiB, disk: 100 * GiB },
      agentUrl: 'http://127.0.0.1:9', agentVersion: '0.1.0', dockerVersion: '20.10.24', images: ['wharf/busybox:latest', 'wharf/debian:12'],
    });
  });
  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('bad flags are usage errors (exit 2) and nothing is sent', async () => {
    fails(await admin(['lighthost', 'create', 'dev', '--memory', '4Gb']), 2, /^error: option '--memory <size>' argument '4Gb' is invalid\. expected a size such as 20Gi/);
    fails(await admin(['lighthost', 'create', 'dev', '--disk', 'lots']), 2, /^error: option '--disk <size>' argument 'lots' is invalid/);
    fails(await admin(['lighthost', 'create', 'dev', '--cpu', '0']), 2, /^error: option '--cpu <cores>' argument '0' is invalid\. expected CPU cores/);
    fails(await admin(['lighthost', 'create', 'Dev_1']), 2, /^error: command-argument value 'Dev_1' is invalid for argument 'name'\. expected a name of lowercase letters/);
    fails(await admin(['lighthost', 'create']), 2, /^error: missing required argument 'name'/);
    assert.deepEqual(await lighthosts(), []);
  });

  it('create makes the set of the spec and says what it made; the name is then taken', async () => {
    const r = await admin(['lighthost', 'create', 'dev', '--cpu', '2', '--memory', '4Gi', '--disk', '20Gi']);
    ok(r, 'create');
    assert.equal(r.stdout, 'light host dev created (set lighthost.dev/1: 2 CPU, 4Gi memory, 20Gi disk at /data, image wharf/debian:12)\n');
    assert.equal(r.stderr, 'follow it with: wharf lighthost ls\n');
    const set = await client.getSet('lighthost.dev', 1);
    assert.deepEqual(set.spec, lighthostSpec('dev', { cpu: 2, memory: '4Gi', disk: '20Gi' }));
    assert.equal(set.generation, 1);

    fails(await admin(['lighthost', 'create', 'dev', '--cpu', '4']), 1, /^wharf: light host dev exists \(\w+, created \d+s ago\); pick another name or remove it with: wharf lighthost rm dev\n$/);
    assert.equal((await client.getSet('lighthost.dev', 1)).generation, 1, 'the existing one is left as it was');
  });

  it('an image that no host has and no registry serves is refused, naming the build script', async () => {
    fails(await admin(['lighthost', 'create', 'other', '--image', 'wharf/debian:13']), 1,
      /^wharf: image wharf\/debian:13 is on no host and names no registry to pull it from: build it on the hosts with scripts\/build-debian-image\.sh/);
    fails(await admin(['lighthost', 'create', 'other', '--image', 'wharf/debian']), 1, /^wharf: image wharf\/debian:latest is on no host/);
    assert.deepEqual((await lighthosts()).map((s) => s.appkey), ['lighthost.dev']);
    // An image of a registry is the host's to pull: not checked here.
    ok(await admin(['lighthost', 'create', 'pulled', '--image', 'registry.internal:5000/os/debian:12', '--disk', '1Gi']), 'create with a registry image');
  });

  it("a tenant member's create is held to the tenant's quota (one line); without the host list the image is not checked", async () => {
    ok(await admin(['tenant', 'create', 'team-l']), 'tenant create');
    ok(await admin(['quota', 'set', 'team-l', '--cpu', '1']), 'quota set');
    ok(await admin(['user', 'create', 'bob', '--role', 'team-l=developer', '--password-stdin'], 'bob-secret-1\n'), 'user create');
    ok(await bob(['login', 'bob', '--password-stdin'], 'bob-secret-1\n'), 'login');

    fails(await bob(['--tenant', 'team-l', 'lighthost', 'create', 'big', '--cpu', '2']), 1,
      /^wharf: set lighthost\.big\/1 would pass tenant "team-l"'s cpu quota: 0 cores used \+ 2 cores asked > 1 cores\n$/);
    // bob may not list hosts: the image check is left to the host, which reports a failed pull.
    const r = await bob(['lighthost', 'create', 'box', '--image', 'wharf/none:1', '--tenant', 'team-l']);
    ok(r, 'create as bob');
    assert.match(r.stderr, /^follow it with: wharf --tenant team-l lighthost ls\n$/);
    assert.deepEqual((await lighthosts('team-l')).map((s) => [s.appkey, s.spec.containers[0]?.image]), [['lighthost.box', 'wharf/none:1']]);
  });

  it('ls lists the light hosts of the tenant and no other set; rm deletes one', async () => {
    await client.applySet({ appkey: 'com.example.web', id: 1, containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'web' } }] });
    const table = await admin(['lighthost', 'ls']);
    ok(table, 'ls');
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+STATUS\s+HOST\s+IP\s+CPU\s+MEMORY\s+DISK\s+IMAGE\s+AGE$/);
    assert.deepEqual(lines.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/)[7]]), [['dev', 'wharf/debian:12'], ['pulled', 'registry.internal:5000/os/debian:12']]);
    const json = JSON.parse((await admin(['lighthost', 'ls', '-o', 'json'])).stdout) as SetView[];
    assert.deepEqual(json.map((s) => s.appkey).sort(), ['lighthost.dev', 'lighthost.pulled']);
    assert.match((await bob(['--tenant', 'team-l', 'lighthost', 'list'])).stdout, /\nbox\s/);

    const rm = await admin(['lighthost', 'rm', 'pulled']);
    ok(rm, 'rm');
    assert.equal(rm.stdout, 'light host pulled deleting\n');
    // Placed on h1 (whose agent never comes), it waits there to be removed; not placed yet, it is gone at once.
    const left = await client.getSet('lighthost.pulled', 1).then((v) => v.status, (err: unknown) => (err instanceof WharfError ? err.code : String(err)));
    assert.ok(left === 'deleting' || left === 'SET_NOT_FOUND', left);
    fails(await admin(['lighthost', 'rm', 'nope']), 1, /^wharf: no light host nope \(wharf lighthost ls lists them\)\n$/);
  });
});
