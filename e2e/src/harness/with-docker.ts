#!/usr/bin/env node
/**
 * Runs a command with a private test dockerd: `node with-docker.js CMD ARGS…`.
 * The command sees DOCKER_HOST (that dockerd's socket) and WHARF_DOCKER_TESTS=1,
 * which turns on the packages' integration tests against a real engine. The
 * dockerd and everything in it are removed afterwards, also on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { DockerHost } from './docker-host.js';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: with-docker CMD [ARGS…]');
  process.exit(2);
}
const host = await DockerHost.start('unit');
const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, DOCKER_HOST: `unix://${host.socket}`, WHARF_DOCKER_TESTS: '1' } });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
const code = await new Promise<number>((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await host.stop();
process.exit(code);
