#!/usr/bin/env node
// Runs Wharf on this machine in the foreground: wharf-server (with its registry), then
// a local wharf-agent joined to it, and writes ~/.wharf/config.json for the CLI.
// Ctrl-C stops both; containers keep running (the next start re-adopts them).
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = process.env.WHARF_PORT ?? '7070';
const host = process.env.WHARF_HOST ?? '127.0.0.1';
const dataDir = process.env.WHARF_DATA_DIR ?? '/var/lib/wharf';
const url = `http://${host}:${port}`;
const children = [];

function say(msg) {
  process.stderr.write(`wharf: ${msg}\n`);
}

async function healthy() {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

// CPU is shared, so one machine offers the scheduler 4 cores per core unless told otherwise.
// One machine: volume limits are caps on the 20Gi pool, so offer 8× (the seed example asks 100Gi).
const env = { WHARF_CPU_OVERCOMMIT: '4', WHARF_DISK_OVERCOMMIT: '8', ...process.env };

function run(name, args) {
  const child = spawn(process.execPath, args, { stdio: 'inherit', env });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited (${signal ?? code}); stopping`);
    stop(code || 1);
  });
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (await healthy()) {
  say(`a Wharf server already answers at ${url}; not starting another (stop it first, or set WHARF_PORT)`);
  process.exit(1);
}

run('wharf-server', [join(root, 'packages/server/dist/main.js'), '--host', host, '--port', port, '--data-dir', dataDir]);
for (let i = 0; !(await healthy()); i++) {
  if (stopping) process.exit(1);
  if (i > 150) {
    say(`wharf-server did not answer at ${url} within 30 s`);
    stop(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}

// The CLI reads the server URL and the admin token from here (mode 0600: it is a credential).
const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
const configPath = join(homedir(), '.wharf', 'config.json');
await mkdir(dirname(configPath), { recursive: true, mode: 0o700 });
await writeFile(configPath, `${JSON.stringify({ server: url, token }, null, 2)}\n`, { mode: 0o600 });
await chmod(configPath, 0o600);

// Its volumes live in the default pool: DATA_DIR/agent/pool.img, a sparse btrfs loop file
// (20Gi, or WHARF_POOL_SIZE) mounted at DATA_DIR/agent/pool; it stays mounted when we stop
// (containers keep their volumes) and is mounted again at the next start.
run('wharf-agent', [
  join(root, 'packages/agent/dist/main.js'),
  '--server', url,
  '--join-token-file', join(dataDir, 'join.token'),
  '--name', process.env.WHARF_HOST_NAME ?? hostname(),
  '--data-dir', join(dataDir, 'agent'),
]);
say(`running at ${url}; web console at ${url}/ (log in with the token in ${join(dataDir, 'admin.token')}); the CLI is configured (${configPath}). Try: ./bin/wharf get sets   — Ctrl-C to stop`);

// The platform registry wharf-server runs (unless WHARF_REGISTRY=off or docker-registry is missing).
const registry = await fetch(`${url}/v1/registry`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json()).catch(() => undefined);
if (registry?.enabled) {
  say(`registry at ${registry.address}: docker login ${registry.address} (any user name; password: a Wharf token, e.g. ${join(dataDir, 'admin.token')}), then docker push ${registry.address}/default/NAME:TAG`);
}
