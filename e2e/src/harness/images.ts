/**
 * Images for tests and benchmarks, built on a harness host from the local busybox
 * (nothing can be pulled here): `FROM wharf/busybox:latest` plus a few RUN lines.
 */
import { run } from './exec.js';
import type { DockerHost } from './docker-host.js';

/** Builds `tag` on the host's dockerd from a Dockerfile given as lines (no build context). */
export async function buildImage(host: DockerHost, tag: string, lines: string[]): Promise<void> {
  const dockerfile = ['FROM wharf/busybox:latest', ...lines].join('\n') + '\n';
  const r = await run('docker', ['-H', `unix://${host.socket}`, 'build', '-q', '-t', tag, '-'], { input: dockerfile });
  if (r.code !== 0) throw new Error(`docker build ${tag} on ${host.name}: ${r.stderr.trim()}`);
}
