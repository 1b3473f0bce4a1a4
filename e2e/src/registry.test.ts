/**
 * The platform registry against the real thing: wharf-server runs CNCF Distribution
 * (TLS with Wharf's CA, the server as token issuer); the real docker CLI logs in with
 * the admin token and pushes through a harness dockerd; the agent installs the CA in
 * Docker's certs.d and pulls with the host credentials for a set; a user logs in
 * with its password and pushes only in its tenant; wrong credentials get 401, anonymous pulls only public repositories, and an unknown image fails the
 * set with an event instead of hanging. No --insecure-registry anywhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerHost } from './harness/docker-host.js';
import { DOCKER_CERTS_DIR, Platform } from './harness/platform.js';
import { literal, run, waitFor, type RunResult } from './harness/exec.js';
import { LOOP } from './harness/images.js';

describe('platform registry', () => {
  let wharf: Platform;
  let host: DockerHost;
  let addr: string;
  // The docker CLI keeps logins here, not in the machine's ~/.docker.
  const cliConfig = mkdtempSync('/tmp/wharf-docker-cli-');

  /** The real docker CLI against the harness host's dockerd (which does the registry work, in its namespace). */
  const docker = (args: string[], input?: string): Promise<RunResult> =>
    run('docker', ['--config', cliConfig, '-H', `unix://${host.socket}`, ...args], input !== undefined ? { input } : {});
  const login = (password: string, user = 'someone') => docker(['login', addr, '--username', user, '--password-stdin'], password);
  const caFile = () => join(DOCKER_CERTS_DIR, addr, 'ca.crt');

  before(async () => {
    wharf = await Platform.onOwnHost('reg1', { registry: true });
    host = wharf.host('reg1');
    addr = wharf.registryAddress!;
  });

  after(async () => {
    await wharf?.stop();
    rmSync(cliConfig, { recursive: true, force: true });
  });

  it("the agent installs the server's CA in Docker's certs.d for the registry address", async () => {
    const served = await (await fetch(`${wharf.url}/v1/registry/ca.crt`)).text();
    assert.match(served, /^-----BEGIN CERTIFICATE-----/);
    await waitFor(`${caFile()} written by the agent`, async () => existsSync(caFile()) && readFileSync(caFile(), 'utf8') === served, 30_000, 200);
    const info = await wharf.client.request<{ enabled: boolean; address: string; running: boolean }>('GET', '/v1/registry');
    assert.deepEqual([info.enabled, info.address, info.running], [true, addr, true]);
  });

  it('docker login with the admin token, then push <addr>/default/busybox:1', async () => {
    const r = await login(wharf.adminToken);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Login Succeeded/);
    assert.equal((await docker(['tag', 'wharf/busybox:latest', `${addr}/default/busybox:1`])).code, 0);
    const push = await docker(['push', `${addr}/default/busybox:1`]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64}/);
    // Gone from the host, so that the set below has to pull it.
    assert.equal((await docker(['rmi', `${addr}/default/busybox:1`])).code, 0);
  });

  it('a set with that image starts: the agent pulled it over TLS with the host credentials', async () => {
    const image = `${addr}/default/busybox:1`;
    await wharf.client.applySet({ id: 1, appkey: 'e2e.registry', containers: [{ index: 0, image, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    const s = await wharf.waitRunning('e2e.registry', 1, 90_000);
    assert.equal(s.containers.find((c) => c.name === 'app')?.image, image);
    const events = await wharf.client.setEvents('e2e.registry', 1);
    assert.ok(events.some((e) => e.reason === 'Pulled' && e.message.includes(image)), JSON.stringify(events));
    assert.equal((await host.docker(['image', 'inspect', image])).code, 0);
  });

  it('wrong credentials are refused with 401, by docker login and by the token service', async () => {
    const r = await login('wharf_adm_not-a-token');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /401|unauthorized/i);
    const realm = `${wharf.url}/v1/registry/token?service=wharf-registry&scope=repository:default/busybox:pull`;
    const res = await fetch(realm, { headers: { authorization: `Basic ${Buffer.from('someone:wrong').toString('base64')}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  });

  it("docker login with a user's password: push in its tenant as a developer, denied in another tenant", async () => {
    await wharf.client.putTenant('team-a');
    await wharf.client.createUser('dev', { password: 'dev-password-1', roles: { 'team-a': 'developer' } });
    const r = await login('dev-password-1', 'dev');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await docker(['tag', 'wharf/busybox:latest', `${addr}/team-a/busybox:1`])).code, 0);
    const push = await docker(['push', `${addr}/team-a/busybox:1`]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await docker(['tag', 'wharf/busybox:latest', `${addr}/default/busybox:dev`])).code, 0);
    const denied = await docker(['push', `${addr}/default/busybox:dev`]);
    assert.notEqual(denied.code, 0, 'no push outside the tenant');
    assert.match(denied.stderr, /denied|unauthorized|authentication required/i);
    const wrong = await login('not-the-password', 'dev');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /401|unauthorized/i);
    for (const tag of [`${addr}/team-a/busybox:1`, `${addr}/default/busybox:dev`]) await docker(['rmi', tag]);
  });

  it('anonymous clients pull a repository only once it is marked public', async () => {
    // The set above holds the image on the host; a pull still asks the registry for the manifest.
    const image = `${addr}/default/busybox:1`;
    await docker(['logout', addr]);
    const denied = await docker(['pull', image]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /denied|unauthorized|authentication required/i);
    await wharf.client.request('PUT', '/v1/images/default/busybox/public', { public: true });
    const pulled = await docker(['pull', image]);
    assert.equal(pulled.code, 0, pulled.stderr);
  });

  it("Docker verifies the registry's certificate: without the CA in certs.d the pull fails", async () => {
    const image = `${addr}/default/busybox:1`;
    renameSync(caFile(), `${caFile()}.aside`);
    try {
      const r = await docker(['pull', image]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /x509|certificate/i);
    } finally {
      renameSync(`${caFile()}.aside`, caFile());
    }
    assert.equal((await docker(['pull', image])).code, 0);
  });

  it('an image the registry does not have fails the set with an event, not a hang', async () => {
    const image = `${addr}/default/does-not-exist:1`;
    await wharf.client.applySet({ id: 2, appkey: 'e2e.registry', containers: [{ index: 0, image, options: { name: 'app' } }] });
    const s = await wharf.waitForSet('e2e.registry', 2, 'failed', (v) => v.status === 'failed', 90_000);
    assert.match(s.message ?? '', /does-not-exist:1/);
    const events = await wharf.client.setEvents('e2e.registry', 2);
    const warning = events.find((e) => e.type === 'Warning' && e.reason === 'ImagePullFailed');
    assert.ok(warning, JSON.stringify(events));
    assert.match(warning.message, new RegExp(`${literal(image)}.*(not found|manifest unknown)`));
  });
});
