/**
 * A host joins with a one-use token on a real dockerd: the agent gets its certificate
 * from wharf-server's agents' TLS listener, the token is refused a second time, a set
 * runs on the host, its logs come through the server (server → agent over mutual TLS),
 * and the agent's API refuses plain HTTP, callers without a certificate and a
 * certificate of another CA. A restarted agent reuses its certificate, no token needed,
 * and renews it when due (the server issues one-day certificates here).
 * A second joined host takes a set with its volume from the first: the receiving agent
 * pulls the export from the sending one with its host certificate. A private image of
 * the platform registry runs on a joined host: it pulls with its registry secret. A
 * removed host's certificate is refused by the server and by the other host.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import { DockerHost, OWNER_FILE, releaseBelow } from './harness/docker-host.js';
import { freePort, must, run, stopChild, waitFor } from './harness/exec.js';
import { LOOP } from './harness/images.js';
import { NetnsPortal } from './harness/netns-portal.js';
import { agentArgs, DOCKER_CERTS_DIR, wharfCli } from './harness/platform.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SET = { appkey: 'e2e.tls', id: '1' };
const VOL_SET = { appkey: 'e2e.tls-vol', id: '1' };
const PRIVATE_SET = { appkey: 'e2e.tls-private', id: '1' };

/** A GET to the agent API over TLS with the given client certificate (or none), trusting the cluster CA. */
function agentGet(url: string, ca: string, client?: { cert: string; key: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, ...client, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a host joined with a one-use token, over mutual TLS', () => {
  const dir = mkdtempSync('/tmp/wharf-e2e-');
  const serverDir = join(dir, 'server');
  const agentDir = join(dir, 'agents', 'h1');
  let host: DockerHost;
  let host3: DockerHost | undefined;
  let agent3: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let port = 0;
  let tlsPort = 0;
  let registryPort = 0;
  const portals: NetnsPortal[] = [];
  // The registry as the hosts reach it: a non-loopback address, so Docker verifies its TLS.
  const registryIp = `10.215.${process.pid % 250}.1`;
  const registryAddr = () => `${registryIp}:${registryPort}`;
  let admin: WharfClient;
  let token = '';
  const url = () => `http://127.0.0.1:${port}`;
  const tlsUrl = () => `https://127.0.0.1:${tlsPort}`;
  const log = (name: string) => {
    try {
      return readFileSync(join(dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  };
  const spawnLogged = (name: string, args: string[]): ChildProcess => {
    const fd = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    return child;
  };
  const cli = (args: string[]) => wharfCli({ server: url(), token: readFileSync(join(serverDir, 'admin.token'), 'utf8').trim(), config: join(dir, 'no-config.json') }, args);
  const tokenFile = join(dir, 'one-use.token');
  const startAgent = (name: string, dataDir: string, on: DockerHost = host, joinTokenFile = tokenFile, extraArgs: string[] = []) => {
    mkdirSync(dataDir, { recursive: true });
    // Another agent name on the same dockerd: the host seen through an object naming it so.
    const named = on.name === name ? on : Object.create(on, { name: { value: name } }) as DockerHost;
    return spawnLogged(`agent-${name}`, agentArgs({ server: tlsUrl(), joinTokenFile, host: named, dataDir, heartbeatSeconds: 1, cpuOvercommit: 32, extraArgs }));
  };
  /** A new one-use token from the CLI, in a file of its own. */
  const newTokenFile = async (name: string): Promise<string> => {
    const made = await cli(['host', 'join-token', 'create', '--ttl', '10m']);
    assert.equal(made.code, 0, made.stderr);
    const file = join(dir, `${name}.token`);
    writeFileSync(file, made.stdout, { mode: 0o600 });
    return file;
  };

  before(async () => {
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    // The second joined host's dockerd starts beside the first: it costs no extra wait.
    [host, host3] = await Promise.all([DockerHost.start('h1'), DockerHost.start('h3')]);
    port = await freePort();
    tlsPort = await freePort();
    registryPort = await freePort();
    server = spawnLogged('server', [join(ROOT, 'packages/server/dist/main.js'), '--port', String(port), '--data-dir', serverDir, '--log-level', 'debug',
      '--registry', 'local', '--registry-addr', registryAddr(), '--registry-listen', `127.0.0.1:${registryPort}`, '--ssh-listen', 'off', '--agent-tls-listen', `127.0.0.1:${tlsPort}`,
      // One-day host certificates: an agent renews from 8 h before the end, or from --cert-renew-before.
      '--host-cert-days', '1']);
    await waitFor('wharf-server health', async () => (await fetch(`${url()}/v1/health`).catch(() => undefined))?.ok, 60_000);
    // dockerd reaches the registry and the token service (the server's port) in its namespace.
    for (const h of [host, host3 as DockerHost]) portals.push(await NetnsPortal.open({ netns: h.netns, address: registryIp, ports: [registryPort, port], dir }));
    admin = new WharfClient({ server: url(), token: readFileSync(join(serverDir, 'admin.token'), 'utf8').trim() });
  });

  after(async () => {
    await stopChild(agent3);
    await stopChild(agent);
    await stopChild(server);
    for (const portal of portals.splice(0)) await portal.close();
    rmSync(join(DOCKER_CERTS_DIR, registryAddr()), { recursive: true, force: true });
    releaseBelow(dir);
    if (!process.env.WHARF_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    await host?.stop();
    await host3?.stop();
  });

  it('joins with a token from the CLI and keeps key and certificate 0600', async () => {
    const made = await cli(['host', 'join-token', 'create', '--ttl', '10m']);
    assert.equal(made.code, 0, made.stderr);
    token = made.stdout.trim();
    assert.match(token, /^wharf_hjt_\S+\.[0-9a-f]{64}$/);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    agent = startAgent('h1', agentDir);
    const h = await waitFor('h1 ready', async () => (await admin.listHosts()).find((x) => x.name === 'h1' && x.state === 'ready'), 60_000);
    assert.match(h.agentUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    for (const f of ['host.key', 'host.crt', 'ca.crt', 'registry.secret']) assert.equal(statSync(join(agentDir, 'tls', f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(join(serverDir, 'cluster-ca', 'ca.key')).mode & 0o777, 0o600);
    const listed = await cli(['host', 'join-token', 'ls']);
    assert.match(listed.stdout, /used by h1/);
  });

  it('refuses the token a second time: the second agent stops, saying it was used', async () => {
    const second = startAgent('h2', join(dir, 'agents', 'h2'));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(log('agent-h2'), /was used already, by host h1/);
    assert.equal((await admin.listHosts()).some((x) => x.name === 'h2'), false);
  });

  it('runs a set on the host and reads its logs through the server (server → agent over TLS)', async () => {
    await admin.applySet({ ...SET, containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'web', command: { cmd: '/bin/sh', args: ['-c', "echo hello-over-tls; trap 'exit 0' TERM; while :; do sleep 1; done"] } } }] });
    await waitFor('e2e.tls/1 running', async () => {
      const s = await admin.getSet(SET.appkey, SET.id);
      return s.status === 'running' && s.host === 'h1';
    }, 60_000);
    const text = await waitFor('the log line', async () => {
      let all = '';
      for await (const chunk of admin.logs(SET.appkey, SET.id)) all += chunk;
      return all.includes('hello-over-tls') ? all : undefined;
    }, 30_000, 500);
    assert.match(text, /hello-over-tls/);
  });

  it('the agent API refuses plain HTTP, no certificate, the join token, and a certificate of another CA', async () => {
    const h = await admin.getHost('h1');
    const ca = readFileSync(join(agentDir, 'tls', 'ca.crt'), 'utf8');
    const path = '/v1/trash';
    const plain = await fetch(`${h.agentUrl.replace(/^https:/, 'http:')}${path}`).then((r) => r.status, () => 'refused');
    assert.notEqual(plain, 200);
    const none = await agentGet(`${h.agentUrl}${path}`, ca);
    assert.equal(none.status, 401);
    const joinToken = readFileSync(join(serverDir, 'join.token'), 'utf8').trim();
    assert.equal((await fetch(`${h.agentUrl.replace(/^https:/, 'http:')}${path}`, { headers: { authorization: `Bearer ${joinToken}` } }).then((r) => r.status, () => 'refused')) === 200, false);
    // A key and a self-signed certificate that claim to be the server's.
    const key = join(dir, 'rogue.key');
    const crt = join(dir, 'rogue.crt');
    await must('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-subj', '/O=wharf-servers/CN=wharf-server', '-days', '1']);
    const rogue = await agentGet(`${h.agentUrl}${path}`, ca, { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') });
    assert.equal(rogue.status, 401);
    // The host's own certificate may pull volume exports only, not act as the server.
    const own = await agentGet(`${h.agentUrl}${path}`, ca, { cert: readFileSync(join(agentDir, 'tls', 'host.crt'), 'utf8'), key: readFileSync(join(agentDir, 'tls', 'host.key'), 'utf8') });
    assert.equal(own.status, 403);
  });

  it('a restarted agent reuses its certificate without spending a token', async () => {
    const before = readFileSync(join(agentDir, 'tls', 'host.crt'), 'utf8');
    await stopChild(agent);
    const since = Date.now();
    agent = startAgent('h1', agentDir);
    await waitFor('h1 heartbeating again', async () => {
      const h = await admin.getHost('h1');
      return h.state === 'ready' && Date.parse(h.lastHeartbeat) > since;
    }, 60_000, 200);
    assert.equal(readFileSync(join(agentDir, 'tls', 'host.crt'), 'utf8'), before);
    const s = await admin.getSet(SET.appkey, SET.id);
    assert.equal(s.status, 'running');
  });

  it('renews its certificate when due: a new key, the old certificate revoked, the server still reaches it', async () => {
    const before = readFileSync(join(agentDir, 'tls', 'host.crt'), 'utf8');
    const beforeKey = readFileSync(join(agentDir, 'tls', 'host.key'), 'utf8');
    assert.ok(Date.parse(new X509Certificate(before).validTo) - Date.now() < 86_400_000 + 60_000, 'the server issues one-day certificates');
    await stopChild(agent);
    const since = Date.now();
    // Due at once: renew two days before the end of a one-day certificate.
    agent = startAgent('h1', agentDir, host, tokenFile, ['--cert-renew-before', '2d']);
    const after = await waitFor('a renewed certificate', async () => {
      const now = readFileSync(join(agentDir, 'tls', 'host.crt'), 'utf8');
      return now !== before ? now : undefined;
    }, 60_000, 200);
    assert.notEqual(readFileSync(join(agentDir, 'tls', 'host.key'), 'utf8'), beforeKey);
    assert.equal(statSync(join(agentDir, 'tls', 'host.key')).mode & 0o777, 0o600);
    assert.match(new X509Certificate(after).subject, /CN=h1/);
    assert.equal(new X509Certificate(after).subjectAltName, new X509Certificate(before).subjectAltName);
    await waitFor('h1 heartbeating with the new certificate', async () => {
      const h = await admin.getHost('h1');
      return h.state === 'ready' && Date.parse(h.lastHeartbeat) > Date.now() - 2000 && Date.parse(h.lastHeartbeat) > since;
    }, 60_000, 200);
    const desired = await admin.request<{ revokedCertificates: string[] }>('GET', '/v1/hosts/h1/desired?wait=0');
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
    assert.ok(desired.revokedCertificates.includes(fp(before)), 'the old certificate is on the revoked list');
    // server → agent: the agent's HTTPS server presents the new certificate.
    let all = '';
    for await (const chunk of admin.logs(SET.appkey, SET.id)) all += chunk;
    assert.match(all, /hello-over-tls/);
    assert.match(log('agent-h1'), /host certificate renewed/);
  });

  it('moves a set with its volume between two joined hosts: the target pulls the export with its certificate', async () => {
    agent3 = startAgent('h3', join(dir, 'agents', 'h3'), host3, await newTokenFile('h3'));
    await waitFor('h3 ready', async () => (await admin.listHosts()).some((x) => x.name === 'h3' && x.state === 'ready'), 60_000);
    await admin.applySet({
      ...VOL_SET,
      resources: { cpu: 0.1, memory: '32Mi', disk: '16Mi' },
      containers: [{ index: 0, image: 'wharf/busybox:latest', options: { name: 'app', volumes: [{ path: '/data' }], command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }],
    });
    const placed = await waitFor('e2e.tls-vol/1 running', async () => {
      const s = await admin.getSet(VOL_SET.appkey, VOL_SET.id);
      return s.status === 'running' && s.host ? s : undefined;
    }, 60_000);
    const hosts: Record<string, DockerHost> = { h1: host, h3: host3 as DockerHost };
    const from = placed.host as string;
    const to = from === 'h1' ? 'h3' : 'h1';
    const container = `default_${VOL_SET.appkey}_${VOL_SET.id}_app`;
    const wrote = await hosts[from]!.docker(['exec', container, 'sh', '-c', 'echo moved-over-tls > /data/note']);
    assert.equal(wrote.code, 0, wrote.stderr);
    await admin.setAction(VOL_SET.appkey, VOL_SET.id, 'stop');
    await waitFor('e2e.tls-vol/1 stopped', async () => (await admin.getSet(VOL_SET.appkey, VOL_SET.id)).status === 'stopped', 60_000, 200);
    const moved = await admin.moveSet(VOL_SET.appkey, VOL_SET.id, to);
    assert.equal(moved.host, to);
    await waitFor(`e2e.tls-vol/1 running on ${to}`, async () => {
      const s = await admin.getSet(VOL_SET.appkey, VOL_SET.id);
      return s.status === 'running' && s.host === to;
    }, 60_000, 200);
    const read = await hosts[to]!.docker(['exec', container, 'cat', '/data/note']);
    assert.equal(read.stdout.trim(), 'moved-over-tls', read.stderr);
  });

  it('runs a private image of the platform registry on a joined host: it pulls with its registry secret', async () => {
    const image = `${registryAddr()}/default/private-tls:1`;
    const cliConfig = join(dir, 'docker-cli');
    const docker = (args: string[], input?: string) => run('docker', ['--config', cliConfig, '-H', `unix://${host.socket}`, ...args], input !== undefined ? { input } : {});
    await waitFor('the registry CA installed by the agents', async () => existsSync(join(DOCKER_CERTS_DIR, registryAddr(), 'ca.crt')), 30_000, 200);
    const login = await docker(['login', registryAddr(), '--username', 'admin', '--password-stdin'], readFileSync(join(serverDir, 'admin.token'), 'utf8').trim());
    assert.equal(login.code, 0, login.stderr);
    assert.equal((await docker(['tag', 'wharf/busybox:latest', image])).code, 0);
    const push = await docker(['push', image]);
    assert.equal(push.code, 0, push.stderr);
    // Gone from the host, so that the set has to pull it.
    assert.equal((await docker(['rmi', image])).code, 0);
    const visibility = await admin.request<{ public: boolean }>('GET', '/v1/images/default/private-tls/public');
    assert.equal(visibility.public, false);
    await admin.applySet({ ...PRIVATE_SET, containers: [{ index: 0, image, options: { name: 'app', command: { cmd: '/bin/sh', args: ['-c', LOOP] } } }] });
    // A refused pull fails the set: stop waiting then.
    const s = await waitFor('e2e.tls-private/1 running or failed', async () => {
      const v = await admin.getSet(PRIVATE_SET.appkey, PRIVATE_SET.id);
      return v.status === 'running' || v.status === 'failed' ? v : undefined;
    }, 90_000, 250);
    assert.equal(s.status, 'running', s.message);
    assert.ok(['h1', 'h3'].includes(s.host as string), s.host);
    const events = await admin.setEvents(PRIVATE_SET.appkey, PRIVATE_SET.id);
    assert.ok(events.some((e) => e.reason === 'Pulled' && e.message.includes(image)), JSON.stringify(events));
  });

  it('a removed host: its certificate is refused by the server and, for volume exports, by the other joined host', async () => {
    const h1 = await admin.getHost('h1');
    const ca = readFileSync(join(agentDir, 'tls', 'ca.crt'), 'utf8');
    const h3Cert = { cert: readFileSync(join(dir, 'agents', 'h3', 'tls', 'host.crt'), 'utf8'), key: readFileSync(join(dir, 'agents', 'h3', 'tls', 'host.key'), 'utf8') };
    const exportUrl = `${h1.agentUrl}/v1/volumes/default/e2e.none/1/export`;
    const before = await agentGet(exportUrl, ca, h3Cert);
    assert.ok(before.status !== 401 && before.status !== 403, `h3's certificate may ask h1 for an export before: ${before.status} ${before.body}`);
    const refused = await cli(['host', 'rm', 'h3']);
    const onH3 = (await admin.listSets()).filter((x) => x.host === 'h3');
    if (onH3.length) {
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /still holds \d+ set\(s\).*drain it/);
      for (const x of onH3) await admin.deleteSet(x.appkey, x.id);
      await waitFor('no set left on h3', async () => (await admin.listSets()).every((x) => x.host !== 'h3'), 60_000, 250);
    }
    const removed = await cli(['host', 'rm', 'h3']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /host h3 removed; its certificate [0-9a-f]{16}… is revoked/);
    const after = await waitFor('h1 refusing h3\'s certificate', async () => {
      const r = await agentGet(exportUrl, ca, h3Cert);
      return r.status === 401 ? r : undefined;
    }, 30_000, 250);
    assert.match(after.body, /certificate of host h3 was revoked/);
    // Its agent still runs, but can no longer register the host again.
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(!(await admin.listHosts()).some((x) => x.name === 'h3'), 'h3 came back');
    assert.match(log('agent-h3'), /not the host's current one/);
  });

  it('never logs the token, a registry secret or a key', () => {
    const logs = log('server') + log('agent-h1') + log('agent-h2') + log('agent-h3');
    assert.ok(logs.length > 0);
    assert.ok(!logs.includes(token.split('.')[0] as string), 'a log holds the join token');
    assert.ok(!logs.includes('wharf_hrs_'), 'a log holds a registry secret');
    assert.ok(!logs.includes('PRIVATE KEY'), 'a log holds a private key');
  });
});
