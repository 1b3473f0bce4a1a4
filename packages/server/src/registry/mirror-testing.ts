/** Helpers of the tests that run the real Distribution (distribution, mirror and image tests). */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/** The docker-registry binary, when it is installed (WHARF_DOCKER_REGISTRY, else Debian's path). */
export function registryBinary(): string | undefined {
  for (const path of [process.env.WHARF_DOCKER_REGISTRY, '/usr/bin/docker-registry'].filter((p): p is string => !!p)) {
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore' });
      return path;
    } catch {
      /* look further */
    }
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
