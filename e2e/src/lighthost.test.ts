/**
 * Light hosts on a one-host cluster with a platform network: wharf/debian built by
 * scripts/build-debian-image.sh into the host's dockerd (debootstrap from the machine's
 * mirror the first time, the cached rootfs after that), `wharf lighthost create --wait`,
 * and the light host as its user finds it: Debian under catatonit as PID 1, its own
 * platform IP and its volume at /data; orphans reaped, and no process it runs — not
 * even `kill -9 -1` — taking it down. Then `wharf lighthost rm --wait` and the volume in
 * the recycle bin. The script's reading of apt's sources is checked on sample files.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WharfClient } from '@wharf/client';
import type { TrashEntry } from '@wharf/types';
import { Cluster } from './harness/cluster.js';
import { run, waitFor } from './harness/exec.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'scripts/build-debian-image.sh');
/** The script tags the image with this machine's Debian release. */
const RELEASE = /^VERSION_ID="?(\d+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '12';
const IMAGE = `wharf/debian:${RELEASE}`;
const MiB = 1024 * 1024;

describe('the Debian image script reads the mirror from apt', () => {
  const etc = mkdtempSync(join(tmpdir(), 'wharf-e2e-apt-'));
  after(() => rmSync(etc, { recursive: true, force: true }));
  const source = async () => {
    const r = await run('bash', [SCRIPT, '--print-source'], { env: { ...process.env, WHARF_APT_ETC: etc } });
    return r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr.trim()}`;
  };

  it('takes the first deb entry of a release, from one-line and deb822 files, and says when there is none', async () => {
    mkdirSync(join(etc, 'sources.list.d'));
    assert.match(await source(), /^exit 1: wharf: no Debian mirror found in /);
    writeFileSync(join(etc, 'sources.list'), [
      '# the security archive and source packages come first here',
      'deb http://security.mirror.internal/debian-security bookworm-security main',
      'deb-src http://mirror.internal/debian bookworm main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.internal/debian bookworm main',
      '',
    ].join('\n'));
    assert.equal(await source(), 'http://mirror.internal/debian bookworm');
    rmSync(join(etc, 'sources.list'));
    writeFileSync(join(etc, 'sources.list.d', 'debian.sources'), [
      'Types: deb', 'URIs: http://off.internal/debian', 'Suites: bookworm', 'Enabled: no', '',
      'Types: deb-src', 'URIs: http://src.internal/debian', 'Suites: bookworm', '',
      'Types: deb deb-src', '# a comment inside', 'URIs: http://mirror2.internal/debian', ' http://mirror3.internal/debian',
      'Suites: bookworm-updates', ' bookworm', 'Components: main', '',
    ].join('\n'));
    assert.equal(await source(), 'http://mirror2.internal/debian bookworm');
  });
});

describe('light hosts on a real Docker engine', () => {
  let cluster: Cluster;
  /** Why the light host tests cannot run (the mirror is unreachable and nothing is cached). */
  let unavailable: string | undefined;
  const name = 'dev';
  const container = `default_lighthost.${name}_1_host`;

  const cli = (args: string[]) => cluster.platform.cli(args);
  const sh = (script: string) => cluster.host('h1').docker(['exec', container, 'bash', '-c', script]);
  const skipped = (t: TestContext) => (unavailable ? (t.skip(unavailable), true) : false);

  before(async () => {
    cluster = await Cluster.start(1);
    await cluster.addLan();
    const build = await run('bash', [SCRIPT], { env: { ...process.env, DOCKER_HOST: `unix://${cluster.host('h1').socket}` }, timeoutMs: 900_000 });
    if (build.code === 3) {
      unavailable = `the Debian mirror cannot be reached and no rootfs is cached: ${build.stderr.trim().split('\n').at(-1) ?? ''}`;
      return;
    }
    assert.equal(build.code, 0, build.stderr);
    // An image loaded behind the agent's back is in its next report (within a minute).
    await waitFor(`h1 reports ${IMAGE}`, async () => (await cluster.platform.client.getHost('h1')).images?.includes(IMAGE), 120_000, 1000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('is created with --wait: Debian under its init, with its own IP, limits and volume', async (t) => {
    if (skipped(t)) return;
    const r = await cli(['lighthost', 'create', name, '--cpu', '1', '--memory', '256Mi', '--disk', '256Mi', '--image', IMAGE, '--wait', '--timeout', '120s']);
    assert.equal(r.code, 0, r.stderr);
    const set = await cluster.platform.waitRunning(`lighthost.${name}`, 1);
    const ip = set.ips[0]?.ip as string;
    assert.match(ip, /^10\.213\.\d+\.(1[0-3]\d|140)$/, 'a platform IP of network lan');
    assert.equal(r.stdout, [
      `light host ${name} created (set lighthost.${name}/1: 1 CPU, 256Mi memory, 256Mi disk at /data, image ${IMAGE})`,
      `light host ${name} is running at ${ip} on host h1`,
      `  shell: wharf exec -it lighthost.${name}/1 -- bash`,
      `  ssh:   ssh -p 2222 lighthost.${name}/1@127.0.0.1`,
      '',
    ].join('\n'));

    assert.match((await sh('cat /etc/debian_version')).stdout, new RegExp(`^${RELEASE}\\.\\d+\\n$`));
    assert.equal((await sh('ps -p 1 -o comm=')).stdout.trim(), 'catatonit');
    assert.match((await sh('ip -4 -o addr show')).stdout, new RegExp(` inet ${ip.replace(/\./g, '\\.')}/24 `), 'the set\'s IP is on an interface of the light host');
    const info = await cluster.host('h1').inspect(container);
    assert.equal(info.HostConfig.NanoCpus, 1e9);
    assert.equal(info.HostConfig.Memory, 256 * MiB);
    assert.equal(info.Config.Labels.lighthost, name);

    // The volume: mounted at /data, with the set's quota, written from inside.
    assert.equal((await sh('echo kept > /data/note && findmnt -n -o TARGET /data')).stdout.trim(), '/data');
    const v = await waitFor('the volume with its quota', async () => {
      const vol = await cluster.platform.client.getVolume(`lighthost.${name}`, 1);
      return vol.quota === 256 * MiB ? vol : undefined;
    }, 30_000, 250);
    assert.equal(v.host, 'h1');

    const ls = await cli(['lighthost', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`\\n${name}\\s+running\\s+h1\\s+${ip.replace(/\./g, '\\.')}\\s+1\\s+256Mi\\s+256Mi\\s+${IMAGE}\\s`));
  });

  it('its init reaps orphans, and killing every other process leaves it running', async (t) => {
    if (skipped(t)) return;
    const before = await cluster.host('h1').inspect(container);
    // An orphan: its parent (the subshell) is gone at once, so PID 1 must reap it when it ends.
    assert.equal((await sh('(sleep 1 &); true')).code, 0);
    await waitFor('the orphaned sleep reaped', async () => {
      const ps = (await sh('ps -eo stat=,comm=')).stdout;
      return !/\bsleep\b/.test(ps) ? ps : undefined;
    }, 30_000, 200);

    // A user's pkill, or kill -9 -1 (every process but PID 1 and the caller): the light host stays.
    assert.equal((await sh('nohup sleep 600 >/dev/null 2>&1 & disown; true')).code, 0);
    assert.match((await sh('pgrep -x sleep')).stdout, /^\d+\n$/);
    await sh('kill -9 -1');
    await waitFor('no sleep left', async () => (await sh('pgrep -x sleep')).code === 1, 10_000, 200);
    const after = await cluster.host('h1').inspect(container);
    assert.equal(after.State.Running, true);
    assert.equal(after.State.Pid, before.State.Pid, 'PID 1 is the same process');
    assert.equal(after.State.StartedAt, before.State.StartedAt);
    assert.equal(after.RestartCount, 0);
    assert.equal((await sh('cat /data/note')).stdout, 'kept\n');
  });

  it('is reached over SSH through the gateway with a developer\'s key', async (t) => {
    if (skipped(t)) return;
    const p = cluster.platform;
    const home = mkdtempSync(join(tmpdir(), 'wharf-e2e-lh-ssh-'));
    try {
      const key = join(home, 'id_ed25519');
      const gen = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev@e2e', '-f', key]);
      assert.equal(gen.code, 0, gen.stderr);
      await p.client.createUser('lh-dev', { password: 'lh-dev-secret', roles: { default: 'developer' } });
      const session = await p.client.login('lh-dev', 'lh-dev-secret');
      const dev = new WharfClient({ server: p.url, token: session.token });
      await dev.addSshKey({ name: 'laptop', publicKey: readFileSync(`${key}.pub`, 'utf8') });
      const r = await run('ssh', [
        '-F', '/dev/null', '-p', String(p.sshPort), '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(home, 'known_hosts')}`, '-o', 'LogLevel=ERROR',
        '-l', `lighthost.${name}/1`, '127.0.0.1', 'cat /etc/debian_version /data/note; whoami; exit 5',
      ]);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stdout, new RegExp(`^${RELEASE}\\.\\d+\\nkept\\nroot\\n$`));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('rm --wait removes it and keeps its volume in the recycle bin', async (t) => {
    if (skipped(t)) return;
    const r = await cli(['lighthost', 'rm', name, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `light host ${name} deleted\n`);
    assert.deepEqual(await cluster.host('h1').containerIds(), []);
    await waitFor('the volume in the recycle bin', async () => {
      const bin = await cluster.platform.client.request<TrashEntry[]>('GET', '/v1/trash');
      return bin.find((e) => e.appkey === `lighthost.${name}` && e.host === 'h1');
    }, 30_000, 250);
    const ls = await cli(['lighthost', 'ls']);
    assert.equal(ls.stderr, 'no light hosts\n');
  });
});
