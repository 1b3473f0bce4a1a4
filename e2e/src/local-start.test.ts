/**
 * What `npm start` runs after installing and building: scripts/run-local.mjs with
 * a server and a local agent, the CLI configured through ~/.wharf/config.json,
 * Ctrl-C leaving containers running, and a second start re-adopting them.
 * (Pointed at a test dockerd through DOCKER_HOST instead of /var/run/docker.sock.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SetView } from '@wharf/types';
import { DockerHost, releaseBelow } from './harness/docker-host.js';
import { run, waitFor } from './harness/exec.js';
import { DOCKER_CERTS_DIR } from './harness/platform.js';
import { assertUntouched, runningContainers } from './harness/untouched.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('local platform (npm start)', () => {
  let host: DockerHost;
  const home = mkdtempSync('/tmp/wharf-home-');
  const dataDir = mkdtempSync('/tmp/wharf-data-');
  const port = String(17000 + (process.pid % 2000));
  // The platform registry npm start runs, on a port of this run (the default 5000 may be taken).
  const registryAddr = `127.0.0.1:${19000 + (process.pid % 2000)}`;
  let platform: ChildProcess | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, WHARF_PORT: port, WHARF_DATA_DIR: dataDir, WHARF_AGENT_LISTEN: '127.0.0.1:0', WHARF_HOST_NAME: 'local', WHARF_REGISTRY_ADDR: registryAddr };
  delete env.WHARF_SERVER;
  delete env.WHARF_TOKEN;
  delete env.WHARF_CONFIG;

  const wharf = (args: string[]) => run(process.execPath, [join(ROOT, 'bin/wharf'), ...args], { env });

  async function start(): Promise<void> {
    platform = spawn(process.execPath, [join(ROOT, 'scripts/run-local.mjs')], { env: { ...env, DOCKER_HOST: `unix://${host.socket}` }, stdio: 'ignore' });
    await waitFor('the local host to be ready', async () => {
      const r = await wharf(['get', 'hosts', '-o', 'json']);
      return r.code === 0 && (JSON.parse(r.stdout) as { name: string; state: string }[]).some((h) => h.name === 'local' && h.state === 'ready');
    }, 30_000, 200);
  }

  async function ctrlC(): Promise<void> {
    const p = platform;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGINT');
    assert.equal(await exited, 0);
  }

  before(async () => {
    host = await DockerHost.start('local');
  });

  after(async () => {
    platform?.kill('SIGKILL');
    await host?.stop();
    // The local agent's volume pool is loop-mounted under the data directory.
    releaseBelow(dataDir);
    rmSync(home, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
    // The registry's CA the local agent installed for Docker.
    rmSync(join(DOCKER_CERTS_DIR, registryAddr), { recursive: true, force: true });
  });

  it('writes a private CLI config so `wharf` works with no flags', async () => {
    await start();
    const configFile = join(home, '.wharf', 'config.json');
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { server: string; token: string };
    assert.equal(config.server, `http://127.0.0.1:${port}`);
    assert.equal(config.token, readFileSync(join(dataDir, 'admin.token'), 'utf8').trim());
    const r = await wharf(['apply', '-f', join(ROOT, 'docs/examples/seed-set.json'), '--wait']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('refuses to start a second platform on the same port', async () => {
    const second = await run(process.execPath, [join(ROOT, 'scripts/run-local.mjs')], { env });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already answers/);
  });

  it('Ctrl-C stops the platform but no container; the next start re-adopts them', async () => {
    const before = await runningContainers([host]);
    assert.equal(before.size, 2);
    await ctrlC();
    assertUntouched(before, await runningContainers([host]));
    await start();
    const s = await waitFor('seed set running again', async () => {
      const r = await wharf(['get', 'sets', '-o', 'json']);
      const sets = r.code === 0 ? (JSON.parse(r.stdout) as SetView[]) : [];
      return sets.find((x) => x.status === 'running');
    }, 30_000, 200);
    assert.deepEqual(s.containers.map((c) => c.containerId).sort(), [...before.keys()].sort());
    assertUntouched(before, await runningContainers([host]));
    await ctrlC();
  });
});
