/**
 * Images for tests and benchmarks, built on a harness host from the local busybox
 * (nothing can be pulled here): `FROM wharf/busybox:latest` plus a few RUN lines;
 * and the main commands their containers run.
 */
import { run } from './exec.js';
import type { DockerHost } from './docker-host.js';

/** Builds `tag` on the host's dockerd from a Dockerfile given as lines (no build context). */
export async function buildImage(host: DockerHost, tag: string, lines: string[]): Promise<void> {
  const dockerfile = ['FROM wharf/busybox:latest', ...lines].join('\n') + '\n';
  const r = await run('docker', ['-H', `unix://${host.socket}`, 'build', '-q', '-t', tag, '-'], { input: dockerfile });
  if (r.code !== 0) throw new Error(`docker build ${tag} on ${host.name}: ${r.stderr.trim()}`);
}

/** A busybox main process that sleeps and exits at once on SIGTERM. */
export const LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done";

/**
 * busybox httpd on port 8080 serving the image's /version (or "v1" without one) as
 * index.html. httpd as PID 1 would ignore SIGTERM (10 s per stop): the shell keeps
 * PID 1 and exits on TERM.
 */
export const VERSION_WEB = `mkdir -p /www && (cat /version 2>/dev/null || echo v1) > /www/index.html && httpd -p 8080 -h /www && ${LOOP}`;
